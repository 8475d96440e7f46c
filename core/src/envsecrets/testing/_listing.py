"""Checks of discovery: names a provider lists, keys the core lists."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import ClassVar

import pytest

from envsecrets import values
from envsecrets.errors import ListingNotSupported
from envsecrets.provider import Document, Provider, provider_can_list
from envsecrets.resolver import Resolver
from envsecrets.testing._base import ContractBase
from envsecrets.testing._leaks import capture_logs, fail_on_leaks, record_texts
from envsecrets.testing._support import error_texts, object_of, raised_by, secret_texts


class ListingChecks(ContractBase):
    """Listing is optional; a provider that lists only ever gives names."""

    __test__: ClassVar[bool] = False

    def test_list_names_is_implemented_or_refused(
        self, contract_provider: Provider, contract_resolver: Resolver
    ) -> None:
        cls = self.provider_class
        # Consumed: a generator raises only when iterated.
        error = raised_by(lambda prefix: list(contract_provider.list_names(prefix)), "")
        if provider_can_list(cls):
            assert not isinstance(error, ListingNotSupported), (
                f"{cls.__name__} overrides list_names only to raise ListingNotSupported: "
                "remove the override, so that callers know without asking"
            )
            return
        assert isinstance(error, ListingNotSupported), (
            f"{cls.__name__} does not override list_names, whose default must raise "
            "envsecrets.ListingNotSupported"
        )
        with pytest.raises(ListingNotSupported):
            contract_resolver.list_names(cls.prefix, "")

    def test_list_names_finds_the_seeded_secrets(
        self, contract_provider: Provider, contract_listed_names: Collection[str]
    ) -> None:
        self._skip_unless_listing()
        for name in contract_listed_names:
            folder = name[: name.rfind("/") + 1]
            for prefix in dict.fromkeys((folder, name)):
                if name not in self._names(contract_provider, prefix):
                    pytest.fail(
                        f"list_names({prefix!r}) does not list the seeded secret {name!r}",
                        pytrace=False,  # the listing may hold values: never print it
                    )

    def test_list_names_of_an_unknown_prefix_is_empty(
        self,
        contract_provider: Provider,
        contract_secrets: Mapping[str, Document],
        missing_name: str,
    ) -> None:
        self._skip_unless_listing()
        assert contract_secrets, "contract_secrets must seed at least one secret"
        try:
            names = self._names(contract_provider, missing_name)
        except Exception as error:
            pytest.fail(
                f"list_names({missing_name!r}) raised {type(error).__name__}: a prefix that "
                "matches nothing lists no name"
            )
        if names:
            pytest.fail(
                f"list_names({missing_name!r}) lists {len(names)} names, though no secret "
                "name starts with it",
                pytrace=False,
            )

    def test_list_keys_match_the_seeded_documents(
        self, contract_resolver: Resolver, contract_secrets: Mapping[str, Document]
    ) -> None:
        prefix = self.provider_class.prefix
        checked = 0
        for name, document in contract_secrets.items():
            obj = object_of(document)
            if obj is None:
                continue
            listed = contract_resolver.list_keys(prefix, name)
            # Keys and JSON types are public: quoting them is safe.
            found = [(info.key, info.json_type) for info in listed]
            expected = sorted((str(key), values.json_type(value)) for key, value in obj.items())
            assert found == expected, (
                f"Resolver.list_keys({prefix!r}, {name!r}) gives {found}; "
                f"the seeded document has {expected}"
            )
            checked += 1
        if not checked:
            pytest.skip("contract_secrets seeds no JSON object")

    def test_listing_never_reveals_a_value(
        self,
        contract_provider: Provider,
        contract_resolver: Resolver,
        contract_secrets: Mapping[str, Document],
        missing_name: str,
    ) -> None:
        secrets = secret_texts(contract_secrets, missing_name, self.reference)
        (outputs, errors), records = capture_logs(
            lambda: self._provoke_listing(
                contract_provider, contract_resolver, contract_secrets, missing_name
            )
        )
        texts = [*outputs, *record_texts(records)]
        texts.extend((what, text) for what, error in errors for text in error_texts(error))
        fail_on_leaks(texts, secrets, records)

    def _skip_unless_listing(self) -> None:
        if not provider_can_list(self.provider_class):
            pytest.skip(f"{self.provider_class.__name__} does not list names")

    def _names(self, provider: Provider, prefix: str) -> list[str]:
        """What list_names gives for *prefix*, checked to be names under it."""
        result = provider.list_names(prefix)
        if isinstance(result, (str, bytes)):
            pytest.fail("list_names must return an iterable of names, not one string")
        names = list(result)
        # Never quote an entry, nor let pytest show one: a broken provider
        # may list values.
        for index, name in enumerate(names):
            if not isinstance(name, str):
                pytest.fail(
                    f"list_names({prefix!r}) gave a {type(name).__name__} (entry {index}), "
                    "not a str",
                    pytrace=False,
                )
            if not name.startswith(prefix):
                pytest.fail(
                    f"list_names({prefix!r}) gave an entry that does not start with the "
                    f"prefix (entry {index})",
                    pytrace=False,
                )
        return names
