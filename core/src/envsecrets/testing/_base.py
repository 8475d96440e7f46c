"""What every group of contract checks shares: settings, fixtures, helpers."""

from __future__ import annotations

import functools
import importlib
import re
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

import pytest

from envsecrets import grammar, values
from envsecrets.provider import Document, Provider, provider_can_list, setting_matches
from envsecrets.resolver import NameListing, Resolver
from envsecrets.testing._support import (
    HEAVY_MODULES,
    Text,
    normalise,
    object_of,
    pointer_safe,
    raised_by,
    same_document,
    sentinel,
    variable_for,
)

#: Values a backend takes in a secret name unchanged (no "/", no space).
_NAME_SAFE = re.compile(r"[A-Za-z0-9._-]+")


class ContractBase:
    """The attributes, fixtures and helpers of :class:`ProviderContract`."""

    # pytest collects subclasses (``__init_subclass__``), never this base.
    __test__: ClassVar[bool] = False

    #: The provider under test.
    provider_class: ClassVar[type[Provider]]
    #: The plugin that registers it (a module with an ``envsecrets_providers``
    #: hook); default: the top-level package of :attr:`provider_class`.
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

    @pytest.fixture
    def contract_credentials(self) -> Mapping[str, str]:
        """Credential variable -> value, set over ``contract_environ`` by the
        credential check, which then searches errors and logs for each value.

        The default gives every declared credential a random sentinel (a
        pattern such as ``APP_KEY*`` gets ``APP_KEYCONTRACT``): the backend
        then refuses, and the refusal is checked. Override it to return
        credentials the backend accepts, of six characters or more, so that
        the successful paths are checked too.
        """
        return {variable_for(name): sentinel() for name in sorted(self.provider_class.credentials)}

    @pytest.fixture
    def contract_failing_environ(
        self, contract_environ: Mapping[str, str], contract_credentials: Mapping[str, str]
    ) -> Mapping[str, str]:
        """An environment in which fetches fail while credentials are set.

        The default keeps the credentials and drops every other declared
        setting (an address, a region): the provider is left half
        configured. Override it to point the provider at a closed port.
        """
        cls = self.provider_class
        kept = {
            variable: value
            for variable, value in contract_environ.items()
            if not setting_matches(variable, cls.settings)
            or setting_matches(variable, cls.credentials)
        }
        return {**kept, **contract_credentials}

    @pytest.fixture
    def contract_listed_names(self, contract_secrets: Mapping[str, Document]) -> Collection[str]:
        """The seeded NAMEs that listing must find (default: all of them)."""
        return list(contract_secrets)

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
        with self.resolver_for(contract_environ) as resolver:
            yield resolver

    def resolver_for(self, environ: Mapping[str, str]) -> Resolver:
        """A resolver built on *environ* that knows only the plugin under test."""
        return Resolver(environ, plugins=[self._plugin()], entry_points=False, timeout=60.0)

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
            if object_of(document) is not None:
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
            if raw is not None and type(provider).split(raw.rest) == (name, key):
                cases[f"CONTRACT_{len(cases)}"] = (reference, expected)

        for name, document in secrets.items():
            if self.whole_document_references:
                add(name, None, document)
            obj = object_of(document)
            if obj is None:
                continue
            for key, value in obj.items():
                add(name, key, value)
                if isinstance(value, Mapping) and pointer_safe(key):
                    for inner, inner_value in value.items():
                        pointer = f"/{key}/{inner}"  # a JSON Pointer into a nested object
                        if pointer_safe(inner) and pointer not in obj:
                            add(name, pointer, inner_value)
        return cases

    def _assert_rendered(self, reference: str, expected: object, actual: str) -> None:
        where = f"{reference} "
        if isinstance(expected, str) and not isinstance(expected, values.JSONNumber):
            if not self.exact_numbers and object_of(expected) is not None:
                # A backend that stores parsed JSON gives back an equal object.
                assert same_document(actual, expected), where + "renders a different object"
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
        assert normalise(parsed) == normalise(expected), where + "renders a different value"
        assert values.render(parsed) == actual, where + "must render as compact JSON"

    def _provoke_errors(
        self,
        provider: Provider,
        resolver: Resolver,
        secrets: Mapping[str, Document],
        missing_name: str,
        *,
        strict: bool = True,
    ) -> list[tuple[str, BaseException]]:
        """Fetch and resolve everything, and every failure within reach.

        With *strict* False, fetches of seeded secrets may fail too (the
        credentials under test may be refused): their errors are collected.
        """
        errors: list[tuple[str, BaseException]] = []
        for name in secrets:
            error = raised_by(provider.fetch, name)
            if error is not None:
                if strict:
                    raise error
                errors.append((f"the error of fetch({name!r})", error))
        error = raised_by(provider.fetch, missing_name)
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
            if object_of(document) is not None:
                env[f"NO_KEY_{len(env)}"] = self.reference(name, "contract_no_such_key")
            elif isinstance(document, str):  # a key asked of a literal secret
                env[f"LITERAL_KEY_{len(env)}"] = self.reference(name, "key")
        error = raised_by(resolver.resolve, env)
        assert error is not None, "a resolution with a missing secret succeeded"
        errors.append(("the resolution error", error))
        return errors

    def _oracle_attack(
        self, secrets: Mapping[str, Document], missing_name: str, candidates: Sequence[str]
    ) -> dict[str, str]:
        """Failing references whose key and name list *candidates*: a key
        missing from a seeded object, and a missing secret whose name holds
        the candidates that are safe in any backend's names."""
        attack: dict[str, str] = {}
        joined = "|".join(candidates)
        for name, document in secrets.items():
            if object_of(document) is not None:
                attack["ORACLE_KEY"] = self.reference(name, f"contract_no_such_key|{joined}")
                break
        plain = [value for value in candidates if _NAME_SAFE.fullmatch(value)]
        key = None if self.whole_document_references else "key"
        attack["ORACLE_NAME"] = self.reference("-".join([missing_name, *plain]), key)
        return attack

    def _provoke_listing(
        self,
        provider: Provider,
        resolver: Resolver,
        secrets: Mapping[str, Document],
        missing_name: str,
    ) -> tuple[list[Text], list[tuple[str, BaseException]]]:
        """List names (when the provider can) and keys of every seeded
        secret; return what the listings printed and the errors raised."""
        prefix = self.provider_class.prefix
        outputs: list[Text] = []
        errors: list[tuple[str, BaseException]] = []

        def attempt(what: str, call: Callable[[], object]) -> None:
            try:
                result = call()
            except Exception as error:
                errors.append((f"the error of {what}", error))
                return
            items = result.names if isinstance(result, NameListing) else result
            assert isinstance(items, Iterable)
            outputs.append((f"the output of {what}", "\n".join(map(str, items))))
            outputs.append((f"the output of {what}", repr(result)))

        if provider_can_list(type(provider)):
            prefixes = ["", missing_name]
            for name in secrets:
                prefixes.extend((name[: name.rfind("/") + 1], name))
            for text in dict.fromkeys(prefixes):
                attempt(f"list_names({text!r})", functools.partial(_listed, provider, text))
                attempt(
                    f"Resolver.list_names({prefix!r}, {text!r})",
                    functools.partial(resolver.list_names, prefix, text),
                )
        for name in [*secrets, missing_name]:
            attempt(
                f"Resolver.list_keys({prefix!r}, {name!r})",
                functools.partial(resolver.list_keys, prefix, name),
            )
        return outputs, errors


def _listed(provider: Provider, prefix: str) -> list[str]:
    return list(provider.list_names(prefix))
