"""The provider contract: one test class every provider runs against its backend.

Loaded by pytest through the ``pytest11`` entry point of the envsecrets
distribution. A provider author subclasses :class:`ProviderContract`, names
the provider class and seeds a few secrets; the inherited tests check every
promise the core relies on::

    from envsecrets.testing import ProviderContract

    class TestFileProvider(ProviderContract):
        provider_class = FileProvider

        @pytest.fixture
        def contract_environ(self, tmp_path):
            return {"ENVSECRETS_FILE_DIR": str(tmp_path)}

        @pytest.fixture
        def contract_secrets(self, tmp_path):
            (tmp_path / "token").write_text("ab12-cd34-ef56")
            return {"token": "ab12-cd34-ef56"}

pytest loads this module in every session of an environment where envsecrets
is installed, so it defines no test and no module-level fixture: nothing
leaks into unrelated suites. Its imports are the standard library and the
envsecrets package, which importing this module loads anyway.
"""

from __future__ import annotations

import functools
import importlib
import json
import logging
import os
import subprocess
import sys
import threading
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal, InvalidOperation
from importlib import metadata
from typing import Any, ClassVar, TypeVar

import pytest

from envsecrets import grammar, values
from envsecrets.errors import DocumentError, KeyNotFound, ResolutionError, SecretNotFound
from envsecrets.plugins import load_registry
from envsecrets.provider import PREFIX_PATTERN, Document, Provider
from envsecrets.resolver import Resolver

__all__ = ["HEAVY_MODULES", "ProviderContract"]

_T = TypeVar("_T")

#: Modules a provider's entry module must not import at import time.
HEAVY_MODULES = ("boto3", "botocore", "hvac", "requests")

#: Secret strings shorter than this are not searched for in messages: "1" or
#: "true" appear in any text.
_MIN_SECRET_LENGTH = 6

_IMPORT_PROBE = """\
import importlib, json, sys
importlib.import_module(sys.argv[1])
print(json.dumps(sorted(name for name in sys.argv[2:] if name in sys.modules)))
"""


class ProviderContract:
    """Tests every provider must pass; subclass it in your test suite.

    Set :attr:`provider_class` and define the fixtures:

    ``contract_secrets`` (required)
        Seeds secrets in the backend and returns a mapping of secret NAME to
        the document stored: a string (a literal secret, or JSON text) or a
        mapping (a JSON object). Seed at least one literal and one JSON
        object holding strings, a number, a boolean, ``null`` and a nested
        object; use distinctive values of 6 characters or more, since the
        contract searches error messages and logs for them.
    ``contract_environ`` (default: empty)
        The environment the provider is built with (addresses, tokens...).
    ``missing_name`` (default: a random name)
        A NAME that does not exist in the backend.

    Class attributes tune the checks: :attr:`whole_document_references`,
    :attr:`exact_numbers`, :attr:`heavy_modules`, :attr:`threads`,
    :attr:`fetches_per_thread`, :attr:`provider_plugin`. Override
    :meth:`reference` when a provider writes references differently.
    """

    # pytest collects subclasses (``__init_subclass__``), never this base.
    __test__: ClassVar[bool] = False

    #: The provider under test.
    provider_class: ClassVar[type[Provider]]
    #: The plugin that registers it (a module with an ``envsecrets_providers``
    #: hook); default: the module that defines :attr:`provider_class`.
    provider_plugin: ClassVar[object] = None
    #: Whether ``_prefix:NAME`` (no KEY) is valid for this provider.
    whole_document_references: ClassVar[bool] = True
    #: Whether documents come back as seeded, to the text: ``1.50`` stays
    #: ``1.50`` and JSON text stays as written. Set False for a backend that
    #: stores parsed JSON and normalises it (Vault): values are then compared
    #: by meaning, and compact JSON is still required.
    exact_numbers: ClassVar[bool] = True
    #: Modules that importing the plugin module must not import.
    heavy_modules: ClassVar[Sequence[str]] = HEAVY_MODULES
    #: Threads fetching at once in the thread-safety test, and fetches each.
    threads: ClassVar[int] = 32
    fetches_per_thread: ClassVar[int] = 4

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # A subclass is a test class unless it says otherwise (an abstract
        # intermediate class sets ``__test__ = False`` in its own body).
        if "__test__" not in cls.__dict__:
            cls.__test__ = True

    # -- what the author provides ---------------------------------------------

    @pytest.fixture
    def contract_secrets(self) -> Mapping[str, Document]:
        """Seed the backend; return NAME -> document. Override it."""
        pytest.fail(
            f"{type(self).__name__} must define the contract_secrets fixture: seed secrets "
            "in the backend and return a mapping of NAME to the document stored"
        )

    @pytest.fixture
    def contract_environ(self) -> Mapping[str, str]:
        """The environment the provider is built with. Override when needed."""
        return {}

    @pytest.fixture
    def missing_name(self) -> str:
        """A secret NAME that the backend does not hold."""
        return f"envsecrets-contract-missing-{uuid.uuid4().hex[:12]}"

    def reference(self, name: str, key: str | None = None) -> str:
        """The reference text for NAME (and KEY): ``_prefix:NAME[:KEY]``."""
        text = f"_{self.provider_class.prefix}:{name}"
        return text if key is None else f"{text}:{key}"

    # -- what the contract builds ---------------------------------------------

    @pytest.fixture
    def contract_provider(self, contract_environ: Mapping[str, str]) -> Iterator[Provider]:
        """A provider instance built the way the core builds it."""
        provider = self.provider_class(contract_environ)
        yield provider
        provider.close()

    @pytest.fixture
    def contract_resolver(self, contract_environ: Mapping[str, str]) -> Iterator[Resolver]:
        """A resolver that knows only the plugin under test."""
        resolver = Resolver(
            contract_environ, plugins=[self._plugin()], entry_points=False, timeout=60.0
        )
        yield resolver
        resolver.close()

    # -- the contract: declaration --------------------------------------------

    def test_prefix_matches_the_grammar(self) -> None:
        cls = self.provider_class
        assert isinstance(cls, type), "provider_class must be a class"
        assert issubclass(cls, Provider), "provider_class must subclass envsecrets.Provider"
        prefix = getattr(cls, "prefix", None)
        assert isinstance(prefix, str), f"{cls.__name__}.prefix must be a str"
        assert PREFIX_PATTERN.fullmatch(prefix), (
            f"{cls.__name__}.prefix {prefix!r} must match [a-z][a-z0-9]* (no underscore, "
            "no colon: _PREFIX:NAME is the reference)"
        )

    def test_description_is_one_line(self) -> None:
        description = self.provider_class.description
        assert isinstance(description, str)
        assert description.strip(), "set description: `envsecrets providers` shows it"
        assert "\n" not in description

    def test_max_batch_is_a_positive_int(self) -> None:
        max_batch = self.provider_class.max_batch
        assert isinstance(max_batch, int)
        assert not isinstance(max_batch, bool)
        assert max_batch >= 1

    def test_plugin_registers_the_provider(self) -> None:
        registry = load_registry(environ={}, plugins=[self._plugin()], entry_points=False)
        assert not registry.failures, f"the plugin failed to load: {registry.failures}"
        info = registry.get(self.provider_class.prefix)
        assert info.provider_class is self.provider_class

    def test_entry_point_names_the_plugin(self) -> None:
        module = getattr(self._plugin(), "__name__", None)
        if not isinstance(module, str):
            pytest.skip("the plugin is not a module")
        found = [
            entry_point
            for entry_point in metadata.entry_points(group="envsecrets")
            if entry_point.value.partition(":")[0].strip() == module
        ]
        if found:
            return
        top = module.partition(".")[0]
        if not _is_installed(top):
            pytest.skip(f"{top} is not installed as a distribution (no entry points to check)")
        pytest.fail(
            f"no entry point of group 'envsecrets' names {module}: add "
            f'[project.entry-points.envsecrets] {self.provider_class.prefix} = "{module}"'
        )

    def test_import_pulls_no_heavy_sdk(self) -> None:
        module = getattr(self._plugin(), "__name__", None)
        if not isinstance(module, str):
            pytest.skip("the plugin is not a module")
        # A fresh interpreter: this one may have imported anything already.
        path = os.pathsep.join(entry for entry in sys.path if entry)
        env = {**os.environ, "PYTHONPATH": path}
        probe = subprocess.run(
            [sys.executable, "-c", _IMPORT_PROBE, module, *self.heavy_modules],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        assert probe.returncode == 0, f"importing {module} failed:\n{probe.stderr}"
        heavy = json.loads(probe.stdout.strip().splitlines()[-1])
        assert not heavy, (
            f"importing {module} imports {', '.join(heavy)}: import SDKs on first fetch, "
            "so that runs which never use this prefix never pay for them"
        )

    # -- the contract: fetching -----------------------------------------------

    def test_seeded_secrets_are_usable(self, contract_secrets: Mapping[str, Document]) -> None:
        assert contract_secrets, "contract_secrets must seed at least one secret"
        for name, document in contract_secrets.items():
            assert isinstance(name, str)
            assert name
            assert isinstance(document, (str, Mapping)), (
                f"seeded secret {name!r} must be a str or a mapping"
            )

    def test_fetch_returns_the_seeded_documents(
        self, contract_provider: Provider, contract_secrets: Mapping[str, Document]
    ) -> None:
        for name, seeded in contract_secrets.items():
            document = contract_provider.fetch(name)
            _assert_document_shape(name, document)
            assert _same_document(document, seeded), (
                f"fetch({name!r}) does not return the document seeded under that name"
            )

    def test_fetch_many_agrees_with_fetch(
        self,
        contract_provider: Provider,
        contract_secrets: Mapping[str, Document],
        missing_name: str,
    ) -> None:
        names = [*contract_secrets, missing_name]
        size = contract_provider.max_batch if contract_provider.max_batch > 1 else len(names)
        answers: dict[str, object] = {}
        for start in range(0, len(names), size):
            chunk = names[start : start + size]
            result = contract_provider.fetch_many(chunk)
            assert isinstance(result, Mapping)
            assert set(result) == set(chunk), (
                "fetch_many must answer each name it is given, and only those"
            )
            answers.update(result)
        for name in contract_secrets:
            answer = answers[name]
            assert not isinstance(answer, BaseException), (
                f"fetch_many failed for {name!r} ({type(answer).__name__}) but fetch did not"
            )
            assert _same_document(answer, contract_provider.fetch(name)), (
                f"fetch_many and fetch disagree about {name!r}"
            )
        assert isinstance(answers[missing_name], SecretNotFound), (
            "fetch_many must return envsecrets.SecretNotFound for a missing name, "
            f"not {type(answers[missing_name]).__name__}"
        )

    def test_fetch_many_accepts_duplicates(
        self, contract_provider: Provider, contract_secrets: Mapping[str, Document]
    ) -> None:
        name = next(iter(contract_secrets))
        result = contract_provider.fetch_many([name, name])
        assert list(result) == [name]
        assert _same_document(result[name], contract_secrets[name])

    def test_missing_secret_raises_secret_not_found(
        self, contract_provider: Provider, missing_name: str
    ) -> None:
        error = _raised_by(contract_provider.fetch, missing_name)
        assert error is not None, "fetch of a missing secret returned instead of raising"
        assert isinstance(error, SecretNotFound), (
            f"fetch of a missing secret raised {type(error).__name__}, "
            "not envsecrets.SecretNotFound"
        )
        assert missing_name in str(error), "the message must name the missing secret"

    # -- the contract: end to end through a resolver --------------------------

    def test_split_round_trips_names_and_keys(
        self, contract_provider: Provider, contract_secrets: Mapping[str, Document]
    ) -> None:
        for name, document in contract_secrets.items():
            keys: list[str | None] = ["user_name", "PG_PASS2"]
            if self.whole_document_references:
                keys.append(None)
            obj = _object_of(document)
            keys.extend(key for key in obj or () if key.replace("_", "").isalnum())
            for key in keys:
                raw = grammar.parse(self.reference(name, key))
                assert raw is not None, f"{self.reference(name, key)!r} is not a reference"
                assert raw.prefix == self.provider_class.prefix
                assert contract_provider.split(raw.rest) == (name, key), (
                    f"split({raw.rest!r}) should give NAME {name!r} and KEY {key!r}"
                )

    def test_references_render_per_the_value_rules(
        self, contract_resolver: Resolver, contract_secrets: Mapping[str, Document]
    ) -> None:
        cases = self._rendering_cases(contract_resolver, contract_secrets)
        assert cases, (
            "contract_secrets gives nothing to resolve: seed a JSON object, or a literal "
            "secret when whole_document_references is True"
        )
        env = {variable: reference for variable, (reference, _) in cases.items()}
        resolved = contract_resolver.resolve(env)
        for variable, (reference, expected) in cases.items():
            self._assert_rendered(reference, expected, resolved[variable])

    def test_missing_secret_fails_the_resolution(
        self, contract_resolver: Resolver, missing_name: str
    ) -> None:
        key = None if self.whole_document_references else "key"
        with pytest.raises(ResolutionError) as caught:
            contract_resolver.resolve({"MISSING": self.reference(missing_name, key)})
        (failure,) = caught.value.failures
        assert isinstance(failure.error, SecretNotFound)

    def test_missing_key_raises_key_not_found(
        self, contract_resolver: Resolver, contract_secrets: Mapping[str, Document]
    ) -> None:
        name = self._object_name(contract_secrets)
        with pytest.raises(ResolutionError) as caught:
            contract_resolver.resolve({"NO_KEY": self.reference(name, "contract_no_such_key")})
        (failure,) = caught.value.failures
        assert isinstance(failure.error, KeyNotFound)

    # -- the contract: secrecy ------------------------------------------------

    def test_errors_and_logs_never_hold_a_secret(
        self,
        contract_provider: Provider,
        contract_resolver: Resolver,
        contract_secrets: Mapping[str, Document],
        missing_name: str,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        caplog.set_level(logging.DEBUG)
        secrets = _secret_texts(contract_secrets, missing_name, self.reference)
        errors = self._provoke_errors(
            contract_provider, contract_resolver, contract_secrets, missing_name
        )
        texts = [(what, text) for what, error in errors for text in _error_texts(error)]
        texts.append(("repr(provider)", repr(contract_provider)))
        texts.append(("repr(resolver)", repr(contract_resolver)))
        for record in caplog.records:
            where = f"a log record of {record.name}"
            texts.append((where, record.getMessage()))
            if record.exc_info and record.exc_info[1] is not None:
                texts.extend((where, text) for text in _error_texts(record.exc_info[1]))
        for what, text in texts:
            for secret_name, secret in secrets:
                if secret in text:
                    # Name the secret, never quote it: this message is printed.
                    pytest.fail(
                        f"{what} holds the value of seeded secret {secret_name}", pytrace=False
                    )

    def _provoke_errors(
        self,
        provider: Provider,
        resolver: Resolver,
        secrets: Mapping[str, Document],
        missing_name: str,
    ) -> list[tuple[str, BaseException]]:
        """Fetch and resolve everything, and every failure within reach."""
        errors: list[tuple[str, BaseException]] = []
        for name in secrets:
            provider.fetch(name)
        error = _raised_by(provider.fetch, missing_name)
        if error is not None:
            errors.append((f"the error of fetch({missing_name!r})", error))
        for name, answer in provider.fetch_many([*secrets, missing_name]).items():
            if isinstance(answer, BaseException):
                errors.append((f"the fetch_many answer for {name!r}", answer))

        cases = self._rendering_cases(resolver, secrets)
        env = {variable: reference for variable, (reference, _) in cases.items()}
        key = None if self.whole_document_references else "key"
        env["MISSING"] = self.reference(missing_name, key)
        for name, document in secrets.items():
            if _object_of(document) is not None:
                env[f"NO_KEY_{len(env)}"] = self.reference(name, "contract_no_such_key")
            elif isinstance(document, str):  # a key asked of a literal secret
                env[f"LITERAL_KEY_{len(env)}"] = self.reference(name, "key")
        error = _raised_by(resolver.resolve, env)
        assert error is not None, "a resolution with a missing secret succeeded"
        errors.append(("the resolution error", error))
        return errors

    # -- the contract: concurrency and lifetime -------------------------------

    def test_concurrent_fetches_agree(
        self, contract_provider: Provider, contract_secrets: Mapping[str, Document]
    ) -> None:
        names = list(contract_secrets)
        expected = {name: contract_provider.fetch(name) for name in names}
        barrier = threading.Barrier(self.threads)

        def work(index: int) -> list[tuple[str, object]]:
            barrier.wait(timeout=60)  # start together, to collide
            seen: list[tuple[str, object]] = []
            for step in range(self.fetches_per_thread):
                name = names[(index + step) % len(names)]
                seen.append((name, contract_provider.fetch(name)))
            return seen

        with ThreadPoolExecutor(max_workers=self.threads) as pool:
            results = list(pool.map(work, range(self.threads)))
        for seen in results:
            for name, document in seen:
                assert _same_document(document, expected[name]), (
                    f"concurrent fetches of {name!r} disagree"
                )

    def test_concurrent_resolutions_agree(
        self, contract_resolver: Resolver, contract_secrets: Mapping[str, Document]
    ) -> None:
        cases = self._rendering_cases(contract_resolver, contract_secrets)
        env = {variable: reference for variable, (reference, _) in cases.items()}
        expected = contract_resolver.resolve(env)
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(lambda _: contract_resolver.resolve(env), range(16)))
        assert all(result == expected for result in results), "concurrent resolutions disagree"

    def test_close_is_idempotent(
        self, contract_environ: Mapping[str, str], contract_secrets: Mapping[str, Document]
    ) -> None:
        unused = self.provider_class(contract_environ)
        unused.close()
        unused.close()
        used = self.provider_class(contract_environ)
        for name in contract_secrets:
            used.fetch(name)
        used.close()
        used.close()

    # -- helpers ----------------------------------------------------------------

    def _plugin(self) -> object:
        if self.provider_plugin is not None:
            return self.provider_plugin
        # The hook lives in the distribution's top-level package, which may
        # not be the module defining the class (envsecrets_aws.provider).
        module = self.provider_class.__module__
        return importlib.import_module(module.partition(".")[0])

    def _object_name(self, secrets: Mapping[str, Document]) -> str:
        for name, document in secrets.items():
            if _object_of(document) is not None:
                return name
        pytest.skip("contract_secrets seeds no JSON object")

    def _rendering_cases(
        self, resolver: Resolver, secrets: Mapping[str, Document]
    ) -> dict[str, tuple[str, object]]:
        """Variable -> (reference, the JSON value it must render)."""
        provider = resolver.provider(self.provider_class.prefix)
        cases: dict[str, tuple[str, object]] = {}

        def add(name: str, key: str | None, expected: object) -> None:
            reference = self.reference(name, key)
            raw = grammar.parse(reference)
            # Keys the provider's grammar cannot express (a colon in a key
            # that splits at the last colon) are skipped, not failed.
            if raw is not None and provider.split(raw.rest) == (name, key):
                cases[f"CONTRACT_{len(cases)}"] = (reference, expected)

        for name, document in secrets.items():
            if self.whole_document_references:
                add(name, None, document)
            obj = _object_of(document)
            if obj is None:
                continue
            for key, value in obj.items():
                add(name, key, value)
                if isinstance(value, Mapping) and _pointer_safe(key):
                    for inner, inner_value in value.items():
                        pointer = f"/{key}/{inner}"  # a JSON Pointer into a nested object
                        if _pointer_safe(inner) and pointer not in obj:
                            add(name, pointer, inner_value)
        return cases

    def _assert_rendered(self, reference: str, expected: object, actual: str) -> None:
        where = f"{reference} "
        if isinstance(expected, str) and not isinstance(expected, values.JSONNumber):
            if not self.exact_numbers and _object_of(expected) is not None:
                # A backend that stores parsed JSON gives back an equal object.
                assert _same_document(actual, expected), where + "renders a different object"
                return
            # Strings are verbatim; a whole string document is the literal secret.
            assert actual == expected, where + "must render the string verbatim"
            return
        if expected is True or expected is False or expected is None:
            assert actual == values.render(expected), where + "renders true, false or ''"
            return
        if self.exact_numbers:
            assert actual == values.render(expected), (
                where + "must render as the value rules say (numbers as written, compact JSON)"
            )
            return
        parsed = values.parse_json(actual)
        assert _normalise(parsed) == _normalise(expected), where + "renders a different value"
        assert values.render(parsed) == actual, where + "must render as compact JSON"


# -- document comparison --------------------------------------------------------


def _object_of(document: object) -> Mapping[str, object] | None:
    """The JSON object a document holds, or None (a literal secret)."""
    if isinstance(document, Mapping):
        return document
    try:
        return values.as_object(document)
    except DocumentError:
        return None


def _same_document(left: object, right: object) -> bool:
    if isinstance(left, str) and isinstance(right, str) and left == right:
        return True
    left_obj, right_obj = _object_of(left), _object_of(right)
    if left_obj is None or right_obj is None:
        return False
    return _normalise(left_obj) == _normalise(right_obj)


def _normalise(value: object) -> object:
    """A comparable form of a JSON value: numbers by value, not by text."""
    if isinstance(value, values.JSONNumber) or (
        isinstance(value, (int, float)) and not isinstance(value, bool)
    ):
        try:
            return Decimal(str(value))
        except InvalidOperation:
            return value
    if isinstance(value, Mapping):
        return {str(key): _normalise(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_normalise(item) for item in value]
    return value


def _assert_document_shape(name: str, document: object) -> None:
    assert isinstance(document, (str, Mapping)), (
        f"fetch({name!r}) must return a str or a mapping, not {type(document).__name__}"
    )
    if isinstance(document, Mapping):
        assert all(isinstance(key, str) for key in document), "JSON object keys are strings"
        values.render(document)  # raises on values JSON cannot hold


def _pointer_safe(token: str) -> bool:
    return bool(token) and not any(char in token for char in "/~:")


# -- secrecy helpers ------------------------------------------------------------


def _secret_texts(
    secrets: Mapping[str, Document],
    missing_name: str,
    reference: Callable[[str, str | None], str],
) -> list[tuple[str, str]]:
    """(description, value) of every seeded string worth searching for."""
    found: list[tuple[str, str]] = []

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
        obj = _object_of(document)
        if obj is not None:
            public.extend(str(key) for key in obj)
            walk(repr(name), obj)
    # Names, keys and references are public: a value that also appears in
    # one of them cannot tell a leak from a message that names the secret.
    return [
        (where, value)
        for where, value in found
        if len(value) >= _MIN_SECRET_LENGTH and not any(value in text for text in public)
    ]


def _is_installed(package: str) -> bool:
    """Whether a distribution provides the top-level *package*."""
    try:  # the usual name first: editable installs do not list their files
        metadata.distribution(package.replace("_", "-"))
    except metadata.PackageNotFoundError:
        return package in _packages_distributions()
    return True


@functools.cache
def _packages_distributions() -> Mapping[str, list[str]]:
    return metadata.packages_distributions()  # reads every RECORD: once is enough


def _raised_by(function: Callable[[_T], object], argument: _T) -> BaseException | None:
    """The exception *function* raises for *argument*, or None."""
    try:
        function(argument)
    except Exception as error:
        return error
    return None


def _error_texts(error: BaseException) -> Iterator[str]:
    """str, repr and formatted traceback of *error* and its chain."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield str(current)
        yield repr(current)
        current = current.__cause__ or current.__context__
    yield "".join(traceback.format_exception(type(error), error, error.__traceback__))
