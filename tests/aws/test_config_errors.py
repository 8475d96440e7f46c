"""A configuration botocore cannot load names the variable that causes it
(issue 14: ``AWS_PROFILE=nope`` used to hint at AWS_REGION and
AWS_ENDPOINT_URL). Every case builds a real client against moto's address."""

# ruff: noqa: PLR0917

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import envsecrets
import envsecrets_aws
from envsecrets import ResolutionError

Make = Callable[..., envsecrets.Resolver]
LOADED = "the AWS configuration could not be loaded"


def error_of(make_resolver: Make, environ: dict[str, str]) -> envsecrets.EnvsecretsError:
    """The one failure of resolving an _aws reference in *environ*."""
    with pytest.raises(ResolutionError) as caught:
        make_resolver(environ).resolve({"A": "_aws:app/db:password"})
    [failure] = caught.value.failures
    assert isinstance(failure.error, envsecrets.ProviderError)
    return failure.error


def without_keys(environ: dict[str, str]) -> dict[str, str]:
    return {
        k: v for k, v in environ.items() if k not in {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    }


@pytest.mark.parametrize("variable", ["AWS_PROFILE", "AWS_DEFAULT_PROFILE"])
def test_unknown_profile_names_its_variable(
    environ: dict[str, str], make_resolver: Make, variable: str
) -> None:
    error = error_of(make_resolver, {**without_keys(environ), variable: "nope"})
    assert isinstance(error, envsecrets_aws.AWSConfigurationError)
    assert str(error) == (
        f"{LOADED} (ProfileNotFound): {variable} names profile 'nope', which neither "
        "AWS_CONFIG_FILE nor AWS_SHARED_CREDENTIALS_FILE defines"
    )
    assert "AWS_REGION" not in str(error)


@pytest.mark.parametrize("variable", ["AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"])
def test_unreadable_file_names_its_variable(
    environ: dict[str, str], make_resolver: Make, tmp_path: Path, variable: str, sentinel: str
) -> None:
    broken = tmp_path / "broken"
    broken.write_text(f"[profile x\naws_secret_access_key = {sentinel}\n")
    # Without static keys botocore reads the credentials file too.
    error = error_of(make_resolver, {**without_keys(environ), variable: str(broken)})
    assert str(error) == (
        f"{LOADED} (ConfigParseError): the file in {variable} is not a valid AWS configuration file"
    )
    assert sentinel not in str(error) + repr(error)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("AWS_ENDPOINT_URL", "not a url"),
        ("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://[::1"),
        ("AWS_ENDPOINT_URL", "https://user:SENTINEL-pass@[::1"),
    ],
)
def test_invalid_endpoint_names_its_variable(
    environ: dict[str, str], make_resolver: Make, variable: str, value: str
) -> None:
    env = {k: v for k, v in environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    error = error_of(make_resolver, {**env, variable: value})
    assert isinstance(error, envsecrets_aws.AWSConfigurationError)
    assert str(error) == f"{LOADED} (ValueError): {variable} is not a valid endpoint URL"
    assert "SENTINEL" not in repr(error)


@pytest.mark.parametrize("variable", ["AWS_REGION", "AWS_DEFAULT_REGION"])
def test_invalid_region_names_its_variable(
    environ: dict[str, str], make_resolver: Make, variable: str
) -> None:
    env = {k: v for k, v in environ.items() if k != "AWS_REGION"}
    error = error_of(make_resolver, {**env, variable: "us east 1"})
    assert str(error) == f"{LOADED} (InvalidRegionError): {variable} is not a valid region name"


def test_invalid_region_of_the_profile(
    environ: dict[str, str], make_resolver: Make, tmp_path: Path
) -> None:
    config = tmp_path / "config"
    config.write_text("[profile dev]\nregion = us east 1\n")
    env = {k: v for k, v in environ.items() if k != "AWS_REGION"}
    error = error_of(make_resolver, {**env, "AWS_PROFILE": "dev", "AWS_CONFIG_FILE": str(config)})
    assert str(error) == (
        f"{LOADED} (InvalidRegionError): the region of the profile in AWS_CONFIG_FILE "
        "is not a valid region name"
    )


@pytest.mark.parametrize(
    ("variable", "value", "kind"),
    [
        ("AWS_DEFAULTS_MODE", "fast", "InvalidDefaultsMode"),
        ("AWS_STS_REGIONAL_ENDPOINTS", "junk", "InvalidSTSRegionalEndpointsConfigError"),
    ],
)
def test_options_botocore_reads_itself_name_their_variable(
    environ: dict[str, str],
    make_resolver: Make,
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
    kind: str,
) -> None:
    # botocore reads these from the process environment (the CLI's environ).
    monkeypatch.setenv(variable, value)
    error = error_of(make_resolver, {**environ, variable: value})
    assert isinstance(error, envsecrets_aws.AWSConfigurationError)
    assert str(error).startswith(f"{LOADED} ({kind}): {variable} ")


def test_container_endpoint_names_its_variable(
    environ: dict[str, str], make_resolver: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = "http://169.254.1.1.example/creds"
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url)
    env = {**without_keys(environ), "AWS_CONTAINER_CREDENTIALS_FULL_URI": url}
    error = error_of(make_resolver, env)
    assert "AWS_CONTAINER_CREDENTIALS_FULL_URI" in str(error)
    assert url not in str(error)


def test_cli_message_for_an_unknown_profile(environ: dict[str, str], run_cli: Any) -> None:
    done = run_cli(
        ["get", "_aws:app/db:password"], {**without_keys(environ), "AWS_PROFILE": "nope"}
    )
    assert done.returncode == 1
    assert f"{LOADED} (ProfileNotFound): AWS_PROFILE names profile 'nope'" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "source", ["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_CONTAINER_AUTHORIZATION_TOKEN"]
)
def test_container_token_with_a_newline_names_its_variable(
    environ: dict[str, str],
    make_resolver: Make,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    sentinel: str,
    source: str,
) -> None:
    # A token file written by `echo` ends in a newline, which botocore refuses
    # in the Authorization header; it is not an endpoint problem.
    token_file = tmp_path / "token"
    token_file.write_text(sentinel + "\n")
    value = str(token_file) if source.endswith("_FILE") else sentinel + "\n"
    container = {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:9/creds",
        source: value,
    }
    for variable, setting in container.items():
        monkeypatch.setenv(variable, setting)  # botocore reads the process environment
    error = error_of(make_resolver, {**without_keys(environ), **container})
    message = str(error)
    assert isinstance(error, envsecrets_aws.AWSCredentialsError)
    assert f"{source} holds a line break" in message
    assert "AWS_ENDPOINT_URL" not in message
    assert sentinel not in message + repr(error)
