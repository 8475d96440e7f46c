"""Checks of a provider's declaration, fetching, secrecy and concurrency."""

from __future__ import annotations

import inspect
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import ClassVar

import pytest

from envsecrets import grammar
from envsecrets.errors import KeyNotFound, ResolutionError, SecretNotFound
from envsecrets.plugins import load_registry
from envsecrets.provider import PREFIX_PATTERN, Document, Provider
from envsecrets.resolver import Resolver
from envsecrets.testing._base import ContractBase
from envsecrets.testing._leaks import capture_logs, fail_on_leaks, record_texts
from envsecrets.testing._support import (
    assert_document_shape,
    assert_entry_point,
    error_texts,
    failure_texts,
    heavy_imports,
    object_of,
    raised_by,
    same_document,
    secret_texts,
    threads_started,
)


class FetchChecks(ContractBase):
    """The promises of every provider: declaration, fetching, secrecy of
    values, concurrency and lifetime."""

    __test__: ClassVar[bool] = False

    # -- the contract: declaration --------------------------------------------

    def test_prefix_matches_the_grammar(self) -> None:
        cls = self.provider_class
        assert isinstance(cls, type), "provider_class must be a class"
        assert issubclass(cls, Provider), "provider_class must subclass envsecrets.Provider"
        prefix = getattr(cls, "prefix", None)
        assert isinstance(prefix, str), f"{cls.__name__}.prefix must be a str"
        assert PREFIX_PATTERN.fullmatch(prefix), (
            f"{cls.__name__}.prefix {prefix!r} must match [a-z][a-z0-9_]* (a letter first, "
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
        assert_entry_point(module, self.provider_class.prefix)

    def test_import_pulls_no_heavy_sdk(self) -> None:
        module = getattr(self._plugin(), "__name__", None)
        if not isinstance(module, str):
            pytest.skip("the plugin is not a module")
        heavy = heavy_imports(module, self.heavy_modules)
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
            assert_document_shape(name, document)
            assert same_document(document, seeded), (
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
        with threads_started() as started:
            for start in range(0, len(names), size):
                chunk = names[start : start + size]
                result = contract_provider.fetch_many(chunk)
                assert isinstance(result, Mapping)
                assert set(result) <= set(chunk), (
                    "fetch_many must answer only names it is given (it may leave some "
                    "out: the core fetches those with fetch)"
                )
                answers.update(result)
        assert not started, (
            f"fetch_many started threads ({', '.join(started)}): providers start no "
            "threads, the core owns all concurrency (leave names out and the core "
            "fetches them)"
        )
        for name in contract_secrets:
            if name not in answers:
                continue  # left to fetch, which the tests above check
            answer = answers[name]
            assert not isinstance(answer, BaseException), (
                f"fetch_many failed for {name!r} ({type(answer).__name__}) but fetch did not"
            )
            assert same_document(answer, contract_provider.fetch(name)), (
                f"fetch_many and fetch disagree about {name!r}"
            )
        if missing_name in answers:
            assert isinstance(answers[missing_name], SecretNotFound), (
                "fetch_many must return envsecrets.SecretNotFound for a missing name, "
                f"not {type(answers[missing_name]).__name__}"
            )

    def test_fetch_many_accepts_duplicates(
        self, contract_provider: Provider, contract_secrets: Mapping[str, Document]
    ) -> None:
        name = next(iter(contract_secrets))
        result = contract_provider.fetch_many([name, name])
        assert set(result) <= {name}, "fetch_many must answer only names it is given"
        if name in result:
            assert same_document(result[name], contract_secrets[name])

    def test_missing_secret_raises_secret_not_found(
        self, contract_provider: Provider, missing_name: str
    ) -> None:
        error = raised_by(contract_provider.fetch, missing_name)
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
        split = inspect.getattr_static(self.provider_class, "split")
        assert isinstance(split, classmethod), (
            f"{self.provider_class.__name__}.split must be a classmethod: references are "
            "parsed without building a provider"
        )
        for name, document in contract_secrets.items():
            keys: list[str | None] = ["user_name", "PG_PASS2"]
            if self.whole_document_references:
                keys.append(None)
            obj = object_of(document)
            keys.extend(key for key in obj or () if key.replace("_", "").isalnum())
            for key in keys:
                raw = grammar.parse(self.reference(name, key))
                assert raw is not None, f"{self.reference(name, key)!r} is not a reference"
                assert raw.prefix == self.provider_class.prefix
                assert self.provider_class.split(raw.rest) == (name, key), (
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
    ) -> None:
        secrets = secret_texts(contract_secrets, missing_name, self.reference)
        errors, records = capture_logs(
            lambda: self._provoke_errors(
                contract_provider, contract_resolver, contract_secrets, missing_name
            )
        )
        texts = [(what, text) for what, error in errors for text in error_texts(error)]
        texts.append(("repr(provider)", repr(contract_provider)))
        texts.append(("repr(resolver)", repr(contract_resolver)))
        texts.extend(record_texts(records))
        fail_on_leaks(texts, secrets, records)

    def test_errors_never_depend_on_fetched_values(
        self,
        contract_resolver: Resolver,
        contract_secrets: Mapping[str, Document],
        missing_name: str,
    ) -> None:
        """The error oracle of issue 19: failing references whose key and
        name list the seeded values as candidates must fail with the same
        bytes whether or not those values were fetched in the same
        resolution, and never with a ``***`` the role did not write."""
        found = secret_texts(contract_secrets, missing_name, self.reference)
        candidates = [value for _, value in found]
        if not candidates:
            pytest.skip("contract_secrets seeds no string value of four characters or more")
        attack = self._oracle_attack(contract_secrets, missing_name, candidates)
        alone = failure_texts(contract_resolver, attack)
        cases = self._rendering_cases(contract_resolver, contract_secrets)
        served = {variable: reference for variable, (reference, _) in cases.items()}
        together = failure_texts(contract_resolver, {**served, **attack})
        for variable in attack:
            # Never quote these texts: they hold the seeded values.
            if variable not in alone or variable not in together:
                pytest.fail(f"{variable} did not fail; it must", pytrace=False)
            if alone[variable] != together[variable]:
                pytest.fail(
                    f"the error of {variable} changed when the seeded secrets were fetched in "
                    "the same resolution: a message must not depend on a fetched value "
                    "(quote the role's name and key as written, never mask inside them)",
                    pytrace=False,
                )
            if "***" in together[variable]:
                pytest.fail(
                    f"the error of {variable} masks part of the role's words", pytrace=False
                )

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
                assert same_document(document, expected[name]), (
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
