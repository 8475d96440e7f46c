"""The envsecrets provider contract, run against the _ssm provider and a
real SSM endpoint (moto's server).

The credentials are ones moto accepts, so that the successful paths are
searched too: botocore's DEBUG records of each signed request, answer and
canonical request, which must keep their lines but lose every value and
credential (envsecrets.redact_logs in SSMProvider._connect).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import pytest
from envsecrets.testing import ProviderContract

from envsecrets_ssm import SSMProvider

DB_JSON = """{
  "user": "app_user_7c1f",
  "password": "pw-8d3e91b2-x",
  "port": 5432,
  "ratio": 1.50,
  "big": 1e6,
  "tls": true,
  "replica": null,
  "options": {"pool": 10, "mode": "verify-full"},
  "hosts": ["db1.internal", "db2.internal"]
}"""


class TestSSMProvider(ProviderContract):
    provider_class = SSMProvider

    @pytest.fixture
    def contract_environ(self, environ: dict[str, str]) -> Mapping[str, str]:
        return environ

    # Seeded once for the class, as against a slow server (a classmethod:
    # pytest 9 deprecates class-scoped fixtures on instances).
    @pytest.fixture(scope="class")
    @classmethod
    def contract_secrets(cls, ssm: Any) -> Mapping[str, str]:
        folder = f"/contract-{uuid.uuid4().hex[:8]}"
        seeded = {
            f"{folder}/app/db": ("SecureString", DB_JSON),
            f"{folder}/token": ("SecureString", "tok-4f9a2c71e0"),
            f"{folder}/hosts": ("StringList", "db1.internal,db2.internal"),
            f"top-{folder[10:]}": ("String", "plain-value-61d0"),
        }
        for name, (kind, value) in seeded.items():
            ssm.put_parameter(Name=name, Type=kind, Value=value)
        return {name: value for name, (_, value) in seeded.items()}

    @pytest.fixture
    def contract_credentials(self) -> Mapping[str, str]:
        # moto accepts any keys: the signed requests are dumped at DEBUG.
        token = uuid.uuid4().hex
        return {
            "AWS_ACCESS_KEY_ID": f"AKIACONTRACT{token[:8].upper()}",
            "AWS_SECRET_ACCESS_KEY": f"contract-secret-key-{token}",
            "AWS_SESSION_TOKEN": f"contract-session-token-{token}",
        }
