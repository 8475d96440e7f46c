"""Helpers of the contract kit: comparing documents, searching for leaks."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import subprocess
import sys
import threading
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from importlib import metadata
from typing import TypeVar

import pytest

from envsecrets import values
from envsecrets.errors import DocumentError, ResolutionError
from envsecrets.logs import RedactingFilter
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


#: Where-texts of log records start with this, then the logger's name.
RECORD_OF = "a log record of "
#: Places named per leak in a report; more are counted.
MAX_PLACES = 6


def find_leaks(texts: Iterable[Text], needles: Iterable[Text]) -> dict[str, dict[str, int]]:
    """Every needle found in a text: what leaked -> {where: how often}, in
    the order found."""
    needles = list(needles)
    leaks: dict[str, dict[str, int]] = {}
    for where, text in texts:
        for what, needle in needles:
            if needle in text:
                places = leaks.setdefault(what, {})
                places[where] = places.get(where, 0) + 1
    return leaks


def leak_report(
    leaks: Mapping[str, Mapping[str, int]], records: Sequence[logging.LogRecord]
) -> str:
    """A few lines: one per leaked value (named, never quoted) with every
    place it was found, log records grouped by logger; the records
    themselves summarized, never printed (they hold the values)."""
    lines = [f"{len(leaks)} value(s) leaked (named here, never quoted):"]
    via_logs = False
    for what, places in leaks.items():
        loggers = {
            where.removeprefix(RECORD_OF): count
            for where, count in places.items()
            if where.startswith(RECORD_OF)
        }
        others = [where for where in places if not where.startswith(RECORD_OF)]
        found = []
        if loggers:
            via_logs = True
            found.append("log records of " + _counted(loggers))
        found.extend(others[:MAX_PLACES])
        if len(others) > MAX_PLACES:
            found.append(f"{len(others) - MAX_PLACES} more")
        lines.append(f"  {what} is in: {'; '.join(found)}")
    if records:
        by_top: dict[str, int] = {}
        for record in records:
            top = record.name.partition(".")[0] or "root"
            by_top[top] = by_top.get(top, 0) + 1
        lines.append(
            f"  ({len(records)} log records searched at DEBUG, not shown: {_counted(by_top)})"
        )
    if via_logs:
        lines.append(
            "  Redact, do not silence: envsecrets.redact_logs(self, sdks=[...]) where the "
            "client is built (docs/writing-a-provider.md, 'Logs')"
        )
    return "\n".join(lines)


def _counted(counts: Mapping[str, int]) -> str:
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    shown = [f"{name} ({count})" for name, count in ordered[:MAX_PLACES]]
    if len(ordered) > MAX_PLACES:
        shown.append(f"{len(ordered) - MAX_PLACES} more")
    return ", ".join(shown)


def fail_on_leaks(
    texts: Iterable[Text], needles: Iterable[Text], records: Sequence[logging.LogRecord]
) -> None:
    """Fail the test once, listing every leak, when a needle is found."""
    leaks = find_leaks(texts, needles)
    if leaks:
        # Names what leaked, never quotes it: this message is printed.
        pytest.fail(leak_report(leaks, records), pytrace=False)


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


def record_texts(records: Iterable[logging.LogRecord]) -> Iterator[Text]:
    """What a log record can print: message, exception and stack."""
    for record in records:
        where = f"{RECORD_OF}{record.name}"
        try:
            yield where, record.getMessage()
        except Exception:  # a broken format string: search its parts instead
            yield where, f"{record.msg} {record.args!r}"
        if record.exc_info and record.exc_info[1] is not None:
            yield from ((where, text) for text in error_texts(record.exc_info[1]))
        if record.stack_info:
            yield where, record.stack_info


def raised_by(function: Callable[[_T], object], argument: _T) -> BaseException | None:
    """The exception *function* raises for *argument*, or None."""
    try:
        function(argument)
    except Exception as error:
        return error
    return None


# -- logging --------------------------------------------------------------------


class _Collector(logging.Handler):
    """Keeps every record as the handler of the command line would print
    it: through the redaction providers register (:mod:`envsecrets.logs`)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.addFilter(RedactingFilter())
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _loggers() -> dict[str, logging.Logger]:
    manager = logging.Logger.manager
    found = {
        name: logger
        for name, logger in list(manager.loggerDict.items())
        if isinstance(logger, logging.Logger)
    }
    found[""] = logging.getLogger()
    return found


def _restrictive(logger: logging.Logger) -> bool:
    """Whether *logger* would hide DEBUG records from the root's handler."""
    return logger.level > logging.DEBUG or not logger.propagate or logger.disabled


def capture_logs(action: Callable[[], _T]) -> tuple[_T, list[logging.LogRecord]]:
    """Run *action* with every logger at DEBUG; return its result and every
    record logged meanwhile, redacted as envsecrets' own handler redacts.

    Loggers that set their own level, stop propagation or were disabled
    are opened up for the time of the action. A logger first configured
    during the action (an SDK imported on first fetch) may have dropped
    records: the action then runs a second time, with it opened up too.
    """
    before = set(_loggers())
    result, records = _capture_once(action)
    added = [logger for name, logger in _loggers().items() if name not in before]
    if any(_restrictive(logger) for logger in added):
        result, records = _capture_once(action)
    return result, records


def _capture_once(action: Callable[[], _T]) -> tuple[_T, list[logging.LogRecord]]:
    collector = _Collector()
    loggers = list(_loggers().values())
    saved = [(logger, logger.level, logger.disabled) for logger in loggers]
    disabled_level = logging.root.manager.disable
    # Other handlers (pytest's log capture on the root, a CLI handler, an
    # in-process server's own stream handler) would keep or print every
    # DEBUG record, values included, and show them with a failure: the
    # collector alone hears the action.
    handlers = [(logger, logger.handlers) for logger in loggers]
    logging.disable(logging.NOTSET)
    try:
        for logger in loggers:
            logger.handlers = []
            logger.disabled = False
            if logger.level != logging.NOTSET or logger is logging.root:
                logger.setLevel(logging.DEBUG)
            # Records of a logger that does not propagate never reach root.
            if logger is logging.root or not logger.propagate:
                logger.addHandler(collector)
        return action(), collector.records
    finally:
        for logger, kept in handlers:
            logger.handlers = kept
        for logger, level, disabled in saved:
            logger.setLevel(level)
            logger.disabled = disabled
        logging.disable(disabled_level)


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
