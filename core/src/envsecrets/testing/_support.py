"""Helpers of the contract kit: comparing documents, errors' texts, threads,
imports (leaks and log capture: :mod:`._leaks`)."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import subprocess
import sys
import threading
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from importlib import metadata
from typing import TypeVar

import pytest

from envsecrets import values
from envsecrets.errors import DocumentError, ResolutionError
from envsecrets.provider import Document
from envsecrets.resolver import Resolver

_T = TypeVar("_T")

#: Modules a provider's entry module must not import at import time.
HEAVY_MODULES = ("boto3", "botocore", "hvac", "requests")

#: Secret strings shorter than this are not searched for in messages: "1" or
#: "true" appear in any text.
MIN_SECRET_LENGTH = 6

#: (where, text): a text the contract searched, and where it came from.
Text = tuple[str, str]


# -- documents ----------------------------------------------------------------


def object_of(document: object) -> Mapping[str, object] | None:
    """The JSON object a document holds, or None (a literal secret)."""
    if isinstance(document, Mapping):
        return document
    try:
        return values.as_object(document)
    except DocumentError:
        return None


def same_document(left: object, right: object) -> bool:
    """Whether two documents hold the same text, or equal JSON objects."""
    if isinstance(left, str) and isinstance(right, str) and left == right:
        return True
    left_obj, right_obj = object_of(left), object_of(right)
    if left_obj is None or right_obj is None:
        return False
    return normalise(left_obj) == normalise(right_obj)


def normalise(value: object) -> object:
    """A comparable form of a JSON value: numbers by value, not by text."""
    if isinstance(value, values.JSONNumber) or (
        isinstance(value, (int, float)) and not isinstance(value, bool)
    ):
        try:
            return Decimal(str(value))
        except InvalidOperation:
            return value
    if isinstance(value, Mapping):
        return {str(key): normalise(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [normalise(item) for item in value]
    return value


def assert_document_shape(name: str, document: object) -> None:
    """Fail unless *document* is a str or a mapping of JSON values."""
    assert isinstance(document, (str, Mapping)), (
        f"fetch({name!r}) must return a str or a mapping, not {type(document).__name__}"
    )
    if isinstance(document, Mapping):
        assert all(isinstance(key, str) for key in document), "JSON object keys are strings"
        values.render(document)  # raises on values JSON cannot hold


def pointer_safe(token: str) -> bool:
    """Whether *token* can be written as one JSON Pointer step as it is."""
    return bool(token) and not any(char in token for char in "/~:")


# -- secrets and sentinels ------------------------------------------------------


def secret_texts(
    secrets: Mapping[str, Document],
    missing_name: str,
    reference: Callable[[str, str | None], str],
) -> list[Text]:
    """(description, value) of every seeded string worth searching for."""
    found: list[Text] = []

    def walk(where: str, value: object) -> None:
        if isinstance(value, str) and not isinstance(value, values.JSONNumber):
            found.append((where, value))
        elif isinstance(value, Mapping):
            for key, item in value.items():
                walk(f"{where} key {key!r}", item)
        elif isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                walk(f"{where} item {index}", item)

    public: list[str] = [missing_name]
    for name, document in secrets.items():
        public.append(reference(name, None))
        if isinstance(document, str):
            found.append((repr(name), document))
        obj = object_of(document)
        if obj is not None:
            public.extend(str(key) for key in obj)
            walk(repr(name), obj)
    # Names, keys and references are public: a value that also appears in
    # one of them cannot tell a leak from a message that names the secret.
    return [
        (f"the value of seeded secret {where}", value)
        for where, value in found
        if len(value) >= MIN_SECRET_LENGTH and not any(value in text for text in public)
    ]


def failure_texts(resolver: Resolver, env: Mapping[str, str]) -> dict[str, str]:
    """Variable -> the line its failure prints, from resolving *env*; empty
    when the resolution succeeds."""
    try:
        resolver.resolve(env)
    except ResolutionError as error:
        return {failure.variable: failure.describe() for failure in error.failures}
    return {}


def sentinel() -> str:
    """A credential value found nowhere else: if it shows up, it leaked."""
    return f"contract-credential-{uuid.uuid4().hex}"


def variable_for(pattern: str) -> str:
    """A variable name that a setting *pattern* (``AWS_ENDPOINT_URL*``) matches."""
    return f"{pattern[:-1]}CONTRACT" if pattern.endswith("*") else pattern


def error_texts(error: BaseException) -> Iterator[str]:
    """str, repr and formatted traceback of *error*, its chain (causes and
    contexts) and, for a resolution error, of every failure it holds."""
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield str(current)
        yield repr(current)
        yield "".join(traceback.format_exception(type(current), current, current.__traceback__))
        pending.extend(link for link in (current.__cause__, current.__context__) if link)
        if isinstance(current, ResolutionError):
            pending.extend(failure.error for failure in current.failures)


def raised_by(function: Callable[[_T], object], argument: _T) -> BaseException | None:
    """The exception *function* raises for *argument*, or None."""
    try:
        function(argument)
    except Exception as error:
        return error
    return None


# -- threads --------------------------------------------------------------------


@contextlib.contextmanager
def threads_started() -> Iterator[list[str]]:
    """Yield the names of the threads started *by the calling thread* inside
    the block. Threads that others start meanwhile (an in-process test
    server answering each connection on a thread of its own) do not count.
    """
    caller = threading.current_thread()
    started: list[str] = []
    original = threading.Thread.start

    def start(thread: threading.Thread) -> None:
        if threading.current_thread() is caller:
            started.append(thread.name)
        original(thread)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(threading.Thread, "start", start)
        yield started


# -- modules and distributions -------------------------------------------------

_IMPORT_PROBE = """\
import importlib, json, sys
importlib.import_module(sys.argv[1])
print(json.dumps(sorted(name for name in sys.argv[2:] if name in sys.modules)))
"""


def heavy_imports(module: str, heavy: Iterable[str]) -> list[str]:
    """Which of the modules *heavy* importing *module* imports, measured in
    a fresh interpreter (this one may have imported anything already)."""
    path = os.pathsep.join(entry for entry in sys.path if entry)
    env = {**os.environ, "PYTHONPATH": path}
    probe = subprocess.run(
        [sys.executable, "-c", _IMPORT_PROBE, module, *heavy],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert probe.returncode == 0, f"importing {module} failed:\n{probe.stderr}"
    found: list[str] = json.loads(probe.stdout.strip().splitlines()[-1])
    return found


def assert_entry_point(module: str, name: str) -> None:
    """Fail unless an ``envsecrets`` entry point names *module*; skip when
    the package is not installed from a distribution."""
    if any(
        entry_point.value.partition(":")[0].strip() == module
        for entry_point in metadata.entry_points(group="envsecrets")
    ):
        return
    top = module.partition(".")[0]
    if not is_installed(top):
        pytest.skip(f"{top} is not installed as a distribution (no entry points to check)")
    pytest.fail(
        f"no entry point of group 'envsecrets' names {module}: add "
        f'[project.entry-points.envsecrets] {name} = "{module}"'
    )


def is_installed(package: str) -> bool:
    """Whether a distribution provides the top-level *package*."""
    try:  # the usual name first: editable installs do not list their files
        metadata.distribution(package.replace("_", "-"))
    except metadata.PackageNotFoundError:
        return package in _packages_distributions()
    return True


@functools.cache
def _packages_distributions() -> Mapping[str, list[str]]:
    return metadata.packages_distributions()  # reads every RECORD: once is enough
