"""The core's provider contract, run against the _aws provider and moto."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

import pytest

import envsecrets_aws
from envsecrets.testing import ProviderContract
from envsecrets_aws import AWSProvider


class AWSContractEnvironment:
    """The environment and credentials of the plugin's contract tests (both providers)."""

    @pytest.fixture
    def contract_environ(self, environ: dict[str, str]) -> Mapping[str, str]:
        return environ

    @pytest.fixture
    def contract_credentials(self) -> Mapping[str, str]:
        # Credentials moto accepts: the successful paths (signed requests
        # dumped by botocore at DEBUG) are searched too, not only refusals.
        token = uuid.uuid4().hex
        return {
            "AWS_ACCESS_KEY_ID": f"AKIACONTRACT{token[:8].upper()}",
            "AWS_SECRET_ACCESS_KEY": f"contract-secret-key-{token}",
            "AWS_SESSION_TOKEN": f"contract-session-token-{token}",
        }


class TestAWSContract(AWSContractEnvironment, ProviderContract):
    provider_class = AWSProvider
    provider_plugin = envsecrets_aws

    @pytest.fixture
    def contract_secrets(self, sm: Any, unique: Any) -> Mapping[str, object]:
        literal, document = unique("contract/literal"), unique("contract/json")
        body = {
            "user": "admin-user",
            "port": 5432,
            "ratio": 1.50,
            "enabled": True,
            "none": None,
            "nested": {"host": "db.internal", "list": [1, 2.50]},
        }
        text = json.dumps(body).replace("1.5,", "1.50,").replace("2.5]", "2.50]")
        sm.create_secret(Name=literal, SecretString="literal-s3cr3t-value")
        sm.create_secret(Name=document, SecretString=text)
        return {literal: "literal-s3cr3t-value", document: text}
