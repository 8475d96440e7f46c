"""No credential in any log line at DEBUG (issue 15): botocore dumps each
signed request (``X-Amz-Security-Token``, ``Credential=AKID/...``) and the
canonical request it signs. Real requests to moto, every record printed by
the handler ``envsecrets -vv`` installs (``envsecrets.logs.configure(2)``),
sentinels for the access key id, the secret key and the session token."""

# ruff: noqa: PLR0917

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import envsecrets
import envsecrets.logs
import envsecrets_aws

Make = Callable[..., envsecrets.Resolver]


class Printed:
    """What envsecrets' own handler printed: each record as it formatted it
    (after its redaction), and the whole stream."""

    def __init__(self, verbosity: int) -> None:
        self.stream = io.StringIO()
        self.handler = envsecrets.logs.configure(verbosity, stream=self.stream)
        self.texts: list[str] = []
        self.handler.addFilter(self)  # after the handler's own filters

    def filter(self, record: logging.LogRecord) -> bool:
        self.texts.append(self.handler.format(record))
        return True

    def clear(self) -> None:
        """Forget what was printed so far (the seeding client logs too)."""
        self.texts.clear()
        self.stream.seek(0)
        self.stream.truncate()


@pytest.fixture
def printed() -> Iterator[Printed]:
    """The handler of ``envsecrets -vv``, printing to a buffer; removed after."""
    root = logging.getLogger()
    level = root.level
    printed = Printed(2)
    try:
        yield printed
    finally:
        root.removeHandler(printed.handler)
        root.setLevel(level)
        logging.captureWarnings(False)


@pytest.fixture
def keys() -> dict[str, str]:
    """Sentinel credentials; moto accepts any."""
    token = uuid.uuid4().hex
    return {
        "AWS_ACCESS_KEY_ID": f"AKIASENTINEL{token[:8].upper()}",
        "AWS_SECRET_ACCESS_KEY": f"SENTINEL-secret-key-{token}",
        "AWS_SESSION_TOKEN": f"SENTINEL-session-token-{token}",
    }


@pytest.fixture
def seeded(sm: Any, unique: Any) -> str:
    name = unique("creds/db")
    sm.create_secret(Name=name, SecretString='{"user": "admin"}')
    return name


def exercise(make_resolver: Make, environ: dict[str, str], name: str, unique: Any) -> None:
    """A batch, a versioned GetSecretValue, a failure and a listing."""
    resolver = make_resolver(environ)
    assert resolver.resolve(
        {"A": f"_aws:{name}:user", "B": f"_aws:{name}?version_stage=AWSCURRENT:user"}
    ) == {"A": "admin", "B": "admin"}
    with pytest.raises(envsecrets.ResolutionError):
        resolver.resolve({"C": f"_aws:{unique('missing')}:user"})
    assert resolver.list_names("aws", name).names == [name]


def assert_no_credential(printed: Printed, secrets: dict[str, str], *, token: bool = True) -> None:
    texts = printed.texts
    stream = printed.stream.getvalue()
    for variable, value in secrets.items():
        assert value not in stream, f"{variable} was printed"
        leaked = [text for text in texts if value in text]
        assert not leaked, f"{variable} appears in {len(leaked)} log records"
    # The control: botocore did dump the signed requests and what it signed.
    sent = [t for t in texts if "Sending http request" in t]
    canonical = [t for t in texts if "CanonicalRequest" in t]
    assert sent, "botocore.endpoint logged the signed requests"
    assert canonical, "botocore.auth logged the canonical requests"
    assert all("Credential=" not in t or "Credential=<redacted" in t for t in texts)
    if token:
        assert all("x-amz-security-token:<redacted by envsecrets-aws>" in t for t in canonical)
        assert any("X-Amz-Security-Token" in t for t in sent)


@pytest.mark.parametrize("token_variable", ["AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"])
def test_static_credentials_never_logged(
    environ: dict[str, str],
    make_resolver: Make,
    seeded: str,
    unique: Any,
    keys: dict[str, str],
    printed: Printed,
    token_variable: str,
) -> None:
    keys[token_variable] = keys.pop("AWS_SESSION_TOKEN")
    printed.clear()
    exercise(make_resolver, {**environ, **keys}, seeded, unique)
    assert_no_credential(printed, keys)


def test_credentials_from_a_profile_never_logged(
    environ: dict[str, str],
    make_resolver: Make,
    seeded: str,
    unique: Any,
    keys: dict[str, str],
    printed: Printed,
    tmp_path: Path,
) -> None:
    # Credentials the provider never reads itself: botocore's chain loads them.
    credentials = tmp_path / "credentials"
    credentials.write_text(
        "[dev]\n"
        f"aws_access_key_id = {keys['AWS_ACCESS_KEY_ID']}\n"
        f"aws_secret_access_key = {keys['AWS_SECRET_ACCESS_KEY']}\n"
        f"aws_session_token = {keys['AWS_SESSION_TOKEN']}\n"
    )
    env = {
        k: v for k, v in environ.items() if k not in {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    }
    env |= {"AWS_PROFILE": "dev", "AWS_SHARED_CREDENTIALS_FILE": str(credentials)}
    printed.clear()
    exercise(make_resolver, env, seeded, unique)
    assert_no_credential(printed, keys)


def test_a_botocore_logger_created_after_the_client_is_redacted_too(
    environ: dict[str, str],
    make_resolver: Make,
    seeded: str,
    keys: dict[str, str],
    printed: Printed,
    sentinel: str,
) -> None:
    # A filter on botocore's loggers missed the loggers created later; the
    # one on envsecrets' handler sees every record that reaches it.
    resolver = make_resolver({**environ, **keys})
    assert resolver.resolve({"A": f"_aws:{seeded}:user"}) == {"A": "admin"}
    printed.clear()
    late = logging.getLogger(f"botocore.newchild{uuid.uuid4().hex}")
    late.debug("headers: {'x-amz-security-token': '%s'}", sentinel)  # never read by us
    late.debug("x-amz-security-token: %s", keys["AWS_SESSION_TOKEN"])
    late.debug("the key is %s", keys["AWS_SECRET_ACCESS_KEY"])  # a value read from environ
    output = printed.stream.getvalue()
    assert len(printed.texts) == 3, "the control: the late logger's records were printed"
    assert sentinel not in output
    assert "x-amz-security-token': '<redacted by envsecrets-aws>'" in output
    assert "x-amz-security-token: <redacted by envsecrets-aws>" in output
    assert "the key is <redacted by envsecrets-aws>" in output
    for variable, value in keys.items():
        assert value not in output, f"{variable} was printed"


def test_cli_at_vv_prints_no_credential(
    environ: dict[str, str], seeded: str, keys: dict[str, str], run_cli: Any
) -> None:
    done = run_cli(["-vv", "get", f"_aws:{seeded}:user"], {**environ, **keys})
    assert done.returncode == 0, done.stderr
    assert done.stdout == "admin\n"
    assert "CanonicalRequest" in done.stderr  # the control: botocore's dump is there
    for variable, value in keys.items():
        assert value not in done.stderr, f"{variable} is printed at -vv"


def test_provider_declares_the_credentials_it_reads() -> None:
    declared = envsecrets_aws.AWSProvider.credentials
    assert {
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    } <= declared
    assert declared <= envsecrets_aws.AWSProvider.settings
