"""The core's provider contract, run against both Vault providers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import pytest

import envsecrets_vault
from envsecrets.testing import ProviderContract
from envsecrets_vault import VaultKV1Provider, VaultKV2Provider
from tests.support.openbao import OpenBao, token_env
from tests.vault.conftest import Seed

DOCUMENT = {
    "password": "contract-pw-51d0",
    "port": 5432,
    "ratio": 1.5,
    "enabled": True,
    "nothing": None,
    "nested": {"user": "contract-user-7f", "list": [1, "two"]},
}


class _VaultContract(ProviderContract):
    __test__: ClassVar[bool] = False
    provider_plugin: ClassVar[object] = envsecrets_vault
    exact_numbers = False  # the server stores parsed JSON

    @pytest.fixture
    def contract_environ(self, bao: OpenBao, seed: Seed) -> Mapping[str, str]:
        return token_env(bao.address)


class TestVaultKV2Contract(_VaultContract):
    provider_class = VaultKV2Provider

    @pytest.fixture
    def contract_secrets(self, bao: OpenBao, seed: Seed) -> Mapping[str, object]:
        bao.kv_put("secret", "contract", DOCUMENT)
        bao.kv_put("kv", "contract/app", {"token": "contract-tok-9a"})
        return {"contract": DOCUMENT, "kv/contract/app": {"token": "contract-tok-9a"}}


class TestVaultKV1Contract(_VaultContract):
    provider_class = VaultKV1Provider

    @pytest.fixture
    def contract_secrets(self, bao: OpenBao, seed: Seed) -> Mapping[str, object]:
        bao.kv_put("kv1", "contract", DOCUMENT, version=1)
        return {"kv1/contract": DOCUMENT}

    @pytest.fixture
    def missing_name(self) -> str:
        return "kv1/contract-missing"
