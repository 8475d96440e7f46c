"""The core's provider contract, run against the _aws_iam_rds provider.

Its documents are the original's ``USER=_aws_iam_rds:NAME`` values (NAME
itself, deterministic); tokens change every second, so their checks are in
test_rds.py, each verified by recomputing its signature. No NAME is ever
missing (every NAME is a DB user name), so the checks of a missing secret
do not apply."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

import pytest

import envsecrets_aws
from envsecrets.testing import ProviderContract
from envsecrets_aws.rds import RDSIAMProvider
from tests.aws.test_contract import AWSContractEnvironment

NOT_APPLICABLE = "every NAME of _aws_iam_rds is a DB user name: no secret is missing"


class TestRDSIAMContract(AWSContractEnvironment, ProviderContract):
    provider_class = RDSIAMProvider
    provider_plugin = envsecrets_aws

    @pytest.fixture
    def contract_secrets(self) -> Mapping[str, str]:
        suffix = uuid.uuid4().hex[:8]
        return {f"app_user_{suffix}": f"app_user_{suffix}", f"report-{suffix}": f"report-{suffix}"}

    def test_missing_secret_raises_secret_not_found(self) -> None:  # type: ignore[override]
        pytest.skip(NOT_APPLICABLE)

    def test_missing_secret_fails_the_resolution(self) -> None:  # type: ignore[override]
        pytest.skip(NOT_APPLICABLE)

    def test_errors_never_depend_on_fetched_values(self) -> None:  # type: ignore[override]
        pytest.skip(NOT_APPLICABLE + " (the oracle is a missing secret's name)")
