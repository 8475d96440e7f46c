"""Checks of a provider's declared settings, credentials and hints."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from importlib import metadata
from typing import ClassVar

import pytest

from envsecrets.errors import ReferenceSyntaxError
from envsecrets.hooks import NAME
from envsecrets.provider import Document, Provider, setting_matches
from envsecrets.registry import CREDENTIALS_GROUP, static_credentials
from envsecrets.testing._base import ContractBase
from envsecrets.testing._leaks import capture_logs, fail_on_leaks, record_texts
from envsecrets.testing._support import MIN_SECRET_LENGTH, Text, error_texts, raised_by

#: A variable name, or a pattern: a name's start followed by ``*``.
_SETTING = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\*?")


class SettingsChecks(ContractBase):
    """What a provider declares about its environment, and its hints."""

    __test__: ClassVar[bool] = False

    def test_settings_and_credentials_are_frozensets_of_names(self) -> None:
        cls = self.provider_class
        for attribute in ("settings", "credentials"):
            declared = getattr(cls, attribute)
            assert isinstance(declared, frozenset), (
                f"{cls.__name__}.{attribute} must be a frozenset of variable names, "
                f"not a {type(declared).__name__}"
            )
            for entry in sorted(declared, key=repr):
                assert isinstance(entry, str), (
                    f"{cls.__name__}.{attribute} holds {entry!r}, which is not a str"
                )
                assert _SETTING.fullmatch(entry), (
                    f"{cls.__name__}.{attribute} holds {entry!r}: an entry is a variable "
                    "name ([A-Za-z_][A-Za-z0-9_]*), or a name's start followed by '*' "
                    "(AWS_ENDPOINT_URL*)"
                )

    def test_credentials_are_settings(self) -> None:
        cls = self.provider_class
        outside = sorted(
            credential for credential in cls.credentials if not _covered(credential, cls.settings)
        )
        assert not outside, (
            f"{cls.__name__}.credentials names {', '.join(outside)}, which "
            f"{cls.__name__}.settings does not: a credential is a setting too "
            "(it must come from the process environment, never from an env file)"
        )

    def test_credentials_are_declared_without_code(self) -> None:
        """Every class-level credential is in the static declaration of the
        provider's distribution, which the core reads without importing it:
        a plugin that is not loaded (disabled, not allowed, broken) still
        has its credentials kept from ``envsecrets run``'s child."""
        cls = self.provider_class
        if not cls.credentials:
            pytest.skip(f"{cls.__name__} declares no credentials")
        distribution = _distribution_of(cls)
        if distribution is None:
            return  # not installed (yet): no metadata to hold a declaration
        dist = metadata.distribution(distribution)
        declared = [ep.name for ep in dist.entry_points if ep.group == CREDENTIALS_GROUP]
        static = static_credentials(distribution, declared) or frozenset()
        outside = sorted(name for name in cls.credentials if not _covered(name, static))
        assert not outside, (
            f"{cls.__name__}.credentials names {', '.join(outside)}, which {distribution} "
            f"does not declare in its metadata: add to its pyproject.toml "
            f'[project.entry-points."{CREDENTIALS_GROUP}"] one line per credential, '
            f'such as {outside[0]} = "{cls.__module__.partition(".")[0]}"'
        )

    def test_hints_are_strings_that_split_back(self, contract_provider: Provider) -> None:
        cls = self.provider_class
        name, key = cls.name_hint, cls.key_hint
        for attribute, hint in (("name_hint", name), ("key_hint", key)):
            assert isinstance(hint, str), f"{cls.__name__}.{attribute} must be a str"
            assert hint.isprintable(), f"{cls.__name__}.{attribute} must be one printable line"
        if not name:
            assert not key, f"{cls.__name__}.key_hint is set: set name_hint too"
            return
        if not key:
            assert self.whole_document_references, (
                f"references to {cls.__name__} need a KEY: set key_hint too"
            )
        rest = f"{name}:{key}" if key else name
        try:
            parsed = cls.split(rest)
        except ReferenceSyntaxError as error:
            pytest.fail(f"the hints make an invalid reference _{cls.prefix}:{rest}: {error}")
        assert parsed == (name, key or None), (
            f"split({rest!r}) gives {parsed!r}, not the hints (name_hint {name!r}, "
            f"key_hint {key!r}): the editor would write a reference that reads otherwise"
        )

    def test_credentials_never_appear_in_errors_or_logs(
        self,
        contract_environ: Mapping[str, str],
        contract_credentials: Mapping[str, str],
        contract_failing_environ: Mapping[str, str],
        contract_secrets: Mapping[str, Document],
        missing_name: str,
    ) -> None:
        cls = self.provider_class
        if not cls.credentials:
            pytest.skip(f"{cls.__name__} declares no credentials")
        undeclared = sorted(
            variable
            for variable in contract_credentials
            if not setting_matches(variable, cls.credentials)
        )
        assert not undeclared, (
            f"contract_credentials sets {', '.join(undeclared)}, which "
            f"{cls.__name__}.credentials does not declare"
        )
        short = sorted(
            variable
            for variable, value in contract_credentials.items()
            if len(value) < MIN_SECRET_LENGTH
        )
        assert not short, (
            f"contract_credentials gives {', '.join(short)} a value shorter than "
            f"{MIN_SECRET_LENGTH} characters: too short to search messages for"
        )
        assert contract_credentials, "contract_credentials gives no credential to check"
        needles = [
            (f"the value of credential {variable}", value)
            for variable, value in contract_credentials.items()
        ]
        environ = {**contract_environ, **contract_credentials}

        def provoke() -> list[Text]:
            texts = self._credential_paths(environ, contract_secrets, missing_name)
            texts.extend(self._failing_paths(contract_failing_environ, contract_secrets))
            return texts

        texts, records = capture_logs(provoke)
        texts.extend(record_texts(records))
        fail_on_leaks(texts, needles, records)

    def _credential_paths(
        self,
        environ: Mapping[str, str],
        secrets: Mapping[str, Document],
        missing_name: str,
    ) -> list[Text]:
        """Fetch, resolve and list with the credentials set, collecting
        every error and repr on the way (refusals included)."""
        provider = self.provider_class(environ)
        try:
            with self.resolver_for(environ) as resolver:
                errors = self._provoke_errors(
                    provider, resolver, secrets, missing_name, strict=False
                )
                outputs, listing_errors = self._provoke_listing(
                    provider, resolver, secrets, missing_name
                )
                errors.extend(listing_errors)
                outputs.append(("repr(provider)", repr(provider)))
                outputs.append(("repr(resolver)", repr(resolver)))
        finally:
            provider.close()
        return outputs + _texts_of(errors)

    def _failing_paths(
        self, environ: Mapping[str, str], secrets: Mapping[str, Document]
    ) -> list[Text]:
        """Fetch and resolve in *environ*, where fetches are expected to fail."""
        errors: list[tuple[str, BaseException]] = []
        provider = self.provider_class(environ)
        try:
            for name in secrets:
                error = raised_by(provider.fetch, name)
                if error is not None:
                    errors.append((f"the error of fetch({name!r}) when failing", error))
            key = None if self.whole_document_references else "key"
            env = {f"FAILING_{i}": self.reference(name, key) for i, name in enumerate(secrets)}
            with self.resolver_for(environ) as resolver:
                error = raised_by(resolver.resolve, env)
                if error is not None:
                    errors.append(("the resolution error when failing", error))
        finally:
            provider.close()
        return _texts_of(errors)


def _covered(credential: str, settings: Iterable[str]) -> bool:
    """Whether the settings declare every variable *credential* names."""
    settings = list(settings)
    if credential in settings:
        return True
    if credential.endswith("*"):
        stem = credential[:-1]
        return any(setting.endswith("*") and stem.startswith(setting[:-1]) for setting in settings)
    return setting_matches(credential, settings)


def _texts_of(errors: Iterable[tuple[str, BaseException]]) -> list[Text]:
    return [(what, text) for what, error in errors for text in error_texts(error)]


def _distribution_of(cls: type[Provider]) -> str | None:
    """The distribution whose ``envsecrets`` entry point names the top-level
    package of *cls* (editable installs included), or ``None``."""
    top = cls.__module__.partition(".")[0]
    for entry_point in metadata.entry_points(group=NAME):
        dist = getattr(entry_point, "dist", None)
        if dist is not None and entry_point.module.partition(".")[0] == top:
            name: str = dist.metadata["Name"]
            return name
    return None
