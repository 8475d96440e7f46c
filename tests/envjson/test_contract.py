"""The provider contract of envsecrets.testing, run against _envjson."""

from __future__ import annotations

import pytest

from envsecrets.testing import ProviderContract
from envsecrets_envjson import EnvJSONProvider


class TestEnvJSONContract(ProviderContract):
    provider_class = EnvJSONProvider
    whole_document_references = False  # _envjson always needs a KEY

    @pytest.fixture
    def contract_secrets(self) -> dict[str, str]:
        return {
            "APP_CONFIG": '{"user": "app_user_7c1f", "password": "pw-8d3e91b2-x", '
            '"port": 5432, "ratio": 1.50, "on": true, "none": null, "tls": {"mode": "full"}}',
            "OTHER_CONFIG": '{"token": "tok-41c9a0e3-secret"}',
        }

    @pytest.fixture
    def contract_environ(self, contract_secrets: dict[str, str]) -> dict[str, str]:
        return dict(contract_secrets)
