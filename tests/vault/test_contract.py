"""The core's provider contract, run against both Vault providers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import pytest

import envsecrets_vault
from envsecrets.testing import ProviderContract
from envsecrets_vault import VaultKV1Provider, VaultKV2Provider
from tests.vault.conftest import Certs, Seed
from testservers.openbao import OpenBao, token_env
from testservers.ports import free_port_pair

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
    def contract_environ(self, bao: OpenBao, seed: Seed, certs: Certs) -> Mapping[str, str]:
        # A client certificate too (its file holds the key as well), so that
        # the credential VAULT_CLIENT_KEY can be a real one.
        return token_env(bao.address, VAULT_CLIENT_CERT=str(certs.client_combined))

    @pytest.fixture
    def contract_credentials(self, seed: Seed, certs: Certs) -> Mapping[str, str]:
        # Credentials the server accepts (AppRole wins over the token), so
        # that the successful paths are searched as well as the refusals.
        role_id, secret_id = seed.approle["service"]
        return {
            "VAULT_APP_ROLE_ID": role_id,
            "VAULT_APP_ROLE_SECRET_ID": secret_id,
            "VAULT_TOKEN": "s.contract-token-8c1e5f",
            "VAULT_CLIENT_KEY": str(certs.client.key),
        }

    @pytest.fixture
    def contract_failing_environ(
        self, contract_environ: Mapping[str, str], contract_credentials: Mapping[str, str]
    ) -> Mapping[str, str]:
        closed = f"http://127.0.0.1:{free_port_pair()}"
        return {**contract_environ, **contract_credentials, "VAULT_ADDR": closed}


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
