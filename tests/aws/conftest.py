"""Fixtures for the envsecrets-aws tests: a moto server, a seeding client,
resolvers bound to the server or to a counting proxy in front of it."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import traceback
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import envsecrets
import envsecrets_aws
from envsecrets.logs import RedactingFilter
from tests.support.stderr import checked
from testservers.faults import Answer as CannedResponse
from testservers.faults import Seen as SeenRequest
from testservers.moto import moto_environ, moto_server, secretsmanager
from testservers.proxy import Proxy as LoopbackProxy

AMZ_JSON = {"Content-Type": "application/x-amz-json-1.1"}
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture(autouse=True)
def _isolated_os_environ(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: Any) -> None:
    """The provider must read the environ it is given: empty the AWS part of os.environ."""
    import os

    for variable in list(os.environ):
        if variable.startswith("AWS_"):
            monkeypatch.delenv(variable)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    empty = tmp_path_factory.mktemp("aws") / "empty"
    empty.write_text("")
    # No ~/.aws/config or credentials of the machine leak into a test.
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))


@pytest.fixture
def environ(moto_url: str, tmp_path: Any) -> dict[str, str]:
    """The agent's environment: pointed at the moto server, dummy credentials."""
    empty = tmp_path / "aws-config"
    empty.write_text("")
    return moto_environ(
        moto_url, AWS_CONFIG_FILE=str(empty), AWS_SHARED_CREDENTIALS_FILE=str(empty)
    )


@pytest.fixture(scope="session")
def sm(moto_url: str) -> Any:
    """A boto3 client for seeding the server directly (not the code under test)."""
    return secretsmanager(moto_url)


@pytest.fixture
def unique() -> Callable[[str], str]:
    """Return a secret name unique to this test (the server outlives tests)."""
    token = uuid.uuid4().hex[:8]
    return lambda base="s": f"{base}-{token}"


@pytest.fixture
def sentinel() -> str:
    """A secret value that must never appear in an error, a repr or a log."""
    return f"SENTINEL-aws-{uuid.uuid4().hex}"


@pytest.fixture
def make_resolver() -> Iterator[Callable[..., envsecrets.Resolver]]:
    """Build resolvers with only the aws plugin; close them after the test."""
    made: list[envsecrets.Resolver] = []

    def make(environ: dict[str, str], **options: Any) -> envsecrets.Resolver:
        options.setdefault("timeout", 20.0)
        resolver = envsecrets.Resolver(
            environ, plugins=[envsecrets_aws], entry_points=False, **options
        )
        made.append(resolver)
        return resolver

    yield make
    for resolver in made:
        resolver.close()


@pytest.fixture
def run_cli() -> Callable[[list[str], dict[str, str]], subprocess.CompletedProcess[str]]:
    """Run ``python -m envsecrets ARGS`` in a fresh process whose environment
    is *environ* over this one's, without any AWS_ variable of its own."""

    def run(args: list[str], environ: dict[str, str]) -> subprocess.CompletedProcess[str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        done = subprocess.run(
            [sys.executable, "-m", "envsecrets", *args],
            env={**base, **environ},
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
            check=False,
        )
        return checked(done, args)  # without -v: envsecrets' own words only

    return run


@pytest.fixture(scope="session")
def shared_proxy(moto_url: str) -> Iterator[LoopbackProxy]:
    # One proxy for the session: stopping one waits out its 0.5 s poll.
    with LoopbackProxy(moto_url) as proxy:
        yield proxy


@pytest.fixture
def make_proxy(
    moto_url: str, shared_proxy: LoopbackProxy
) -> Iterator[Callable[..., LoopbackProxy]]:
    """A counting proxy in front of the moto server, with no request seen yet.

    ``make_proxy(rule=...)`` answers some requests itself; ``delay=`` gets a
    proxy of its own (a delayed request may outlive its test).
    """
    own: list[LoopbackProxy] = []

    def make(*, delay: float = 0.0, rule: Any = None) -> LoopbackProxy:
        if delay:
            proxy = LoopbackProxy(moto_url, delay=delay, rule=rule).start()
            own.append(proxy)
            return proxy
        shared_proxy.rule = rule
        shared_proxy.reset()
        return shared_proxy

    yield make
    shared_proxy.rule = None
    for proxy in own:
        proxy.stop()


def aws_error(code: str, message: str = "denied", status: int = 400) -> CannedResponse:
    """An AWS JSON-protocol error answer."""
    body = json.dumps({"__type": code, "message": message}).encode()
    return CannedResponse(status, body, dict(AMZ_JSON))


def deny(operation: str, code: str = "AccessDeniedException", message: str = "denied") -> Any:
    """A proxy rule answering *code* to every *operation* request."""

    def rule(request: SeenRequest) -> CannedResponse | None:
        if request.operation == operation:
            return aws_error(code, message)
        return None

    return rule


def failure_text(error: BaseException) -> str:
    """Every text an error can show: str, repr, traceback with its chain,
    and each failure's error."""
    parts = [str(error), repr(error), "".join(traceback.format_exception(error))]
    for failure in getattr(error, "failures", ()):
        parts += [str(failure.error), repr(failure.error), repr(failure), failure.describe()]
        parts.append("".join(traceback.format_exception(failure.error)))
    return "\n".join(parts)


def assert_no_leak(secret: str, error: BaseException, caplog: pytest.LogCaptureFixture) -> None:
    """*secret* appears in no message, repr, traceback or log record."""
    assert secret not in failure_text(error)
    for record in caplog.records:
        assert secret not in record.getMessage()
        assert secret not in logging.Formatter().format(record)


def capture(caplog: pytest.LogCaptureFixture) -> None:
    """Capture every logger at DEBUG from now on (botocore dumps bodies at
    that level), through envsecrets' redaction as a library user attaches
    it to a handler of their own. Call it after seeding: the seeding client
    logs values."""
    caplog.clear()
    caplog.set_level(logging.DEBUG)
    caplog.handler.addFilter(RedactingFilter())
