"""The provider declares every variable it reads as configuration, and
every variable botocore reads for it, so that the CLI can refuse them in
env files and keep the credentials from the child."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pytest

from envsecrets.provider import setting_matches
from envsecrets_aws import AWSProvider
from envsecrets_aws.settings import Settings


class Recording(Mapping[str, str]):
    """An environment that remembers which variables were looked up."""

    def __init__(self, data: Mapping[str, str]) -> None:
        self.data = dict(data)
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.read.add(key)
        return self.data[key]

    def get(self, key: str, default: object = None) -> object:  # type: ignore[override]
        self.read.add(key)
        return self.data.get(key, default)  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


def test_every_variable_settings_reads_is_declared() -> None:
    environ = Recording({"AWS_ACCESS_KEY_ID": "a" * 8, "AWS_SECRET_ACCESS_KEY": "b" * 8})
    Settings.from_environ(environ)
    assert len(environ.read) >= 15  # the control: the recording sees the reads
    undeclared = sorted(v for v in environ.read if not setting_matches(v, AWSProvider.settings))
    assert undeclared == []


def test_every_variable_botocore_reads_is_declared() -> None:
    configprovider = pytest.importorskip("botocore.configprovider")
    read: set[str] = set()
    for entry in configprovider.BOTOCORE_DEFAUT_SESSION_VARIABLES.values():
        variables = entry[1]
        if variables:
            read.update([variables] if isinstance(variables, str) else variables)
    assert "AWS_PROFILE" in read  # the control
    s3_only = {v for v in read if v.startswith("AWS_S3_")}
    undeclared = sorted(v for v in read - s3_only if not setting_matches(v, AWSProvider.settings))
    assert undeclared == []


@pytest.mark.parametrize(
    "variable",
    [
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_SECRETS_MANAGER",
        "AWS_ENDPOINT_URL_STS",
        "AWS_EC2_METADATA_SERVICE_ENDPOINT",
        "HTTPS_PROXY",
        "NO_PROXY",
    ],
)
def test_steering_variables_are_settings_not_credentials(variable: str) -> None:
    assert setting_matches(variable, AWSProvider.settings)
    assert not setting_matches(variable, AWSProvider.credentials)


@pytest.mark.parametrize(
    "variable",
    [
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
        "AWS_PROFILE",
        "AWS_SHARED_CREDENTIALS_FILE",
        "AWS_CONFIG_FILE",
    ],
)
def test_pointers_at_the_agents_identity_are_credentials(variable: str) -> None:
    """With them, botocore in the child obtains the agent's keys (issue 19)."""
    assert setting_matches(variable, AWSProvider.settings)
    assert setting_matches(variable, AWSProvider.credentials)


def test_plain_variables_are_not_settings() -> None:
    for variable in ("PG_HOST", "AWS_LAMBDA_FUNCTION_NAME", "PATH", "AWS_S3_USE_ARN_REGION"):
        assert not setting_matches(variable, AWSProvider.settings)


def test_an_abandoned_call_is_bounded_by_the_clients_own_timeouts(
    environ: dict[str, str],
) -> None:
    """A fetch the core gave up on at its deadline still ends on its own:
    the client carries the timeouts and attempts the documented bound uses."""
    env = {
        **environ,
        "ENVSECRETS_AWS_CONNECT_TIMEOUT": "2",
        "ENVSECRETS_AWS_READ_TIMEOUT": "4",
        "ENVSECRETS_AWS_MAX_ATTEMPTS": "2",
    }
    provider = AWSProvider(env)
    try:
        config = provider._get_client().meta.config
    finally:
        provider.close()
    assert (config.connect_timeout, config.read_timeout) == (2.0, 4.0)
    assert config.retries == {"mode": "standard", "total_max_attempts": 2}
    assert Settings.from_environ(env).longest_call == 2 * (2 + 4) + (1 + 5)
    assert Settings.from_environ(environ).longest_call == 52.0  # the documented default
