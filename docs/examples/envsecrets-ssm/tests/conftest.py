"""Test configuration: the envsecrets provider contract kit, and a real SSM
endpoint (moto's server on loopback) seeded through boto3."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from testservers.moto import aws_client, moto_environ, service_server

pytest_plugins = ["envsecrets.testing"]


@pytest.fixture(scope="session")
def ssm_url() -> Iterator[str]:
    """moto's SSM alone, as the real endpoint is one service."""
    with service_server("ssm") as url:
        yield url


@pytest.fixture(scope="session")
def ssm(ssm_url: str) -> Any:
    """A boto3 client for seeding the server (not the code under test)."""
    return aws_client("ssm", ssm_url)


@pytest.fixture(autouse=True)
def no_machine_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """botocore's chain also reads os.environ and ~/.aws: nothing of this
    machine's may reach a test."""
    import os

    for variable in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(variable)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    (tmp_path / "aws-empty").write_text("")
    for variable in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.setenv(variable, str(tmp_path / "aws-empty"))


@pytest.fixture
def environ(ssm_url: str) -> dict[str, str]:
    """The agent's environment: the moto endpoint, dummy keys, a region."""
    return moto_environ(ssm_url)


@pytest.fixture
def unique() -> Callable[[str], str]:
    """A parameter name of this test alone: the server outlives tests."""
    token = uuid.uuid4().hex[:8]
    return lambda path: f"/{token}/{path}"
