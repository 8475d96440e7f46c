"""Fault injection through the real command line.

``python -m envsecrets -vv run --timeout 2 -- CHILD`` against moto and OpenBao
behind a :class:`~tests.support.faultproxy.FaultProxy`. For every fault the
run either succeeds after bounded retries (the child starts with the real
values) or fails closed: exit 1 within the timeout plus one second, an error
naming every affected variable, no child started (its marker file is
absent), and no secret value in stdout or stderr at the highest verbosity.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import SENTINEL, assert_no_sentinel
from tests.faults.conftest import (
    AWS_SECRETS,
    VAULT_SECRETS,
    Servers,
    aws_environ,
    marker_command,
    run_cli,
)
from tests.support.faultproxy import (
    Blackhole,
    Fault,
    FaultProxy,
    Forward,
    Reset,
    Seen,
    Slow,
    Status,
    Truncate,
    aws_throttling,
    first,
    refused_url,
)
from tests.support.openbao import approle_env, token_env

TIMEOUT = 2.0
#: "--timeout honoured within one second", measured around the whole process.
BOUND = TIMEOUT + 1.0

Setup = Callable[[FaultProxy], Fault | Callable[[Seen], Fault] | None]


def restart(after: float = 0.2, down_for: float = 0.3, only: str = "") -> Setup:
    """The first matching request hangs; *after* seconds later the "server"
    goes down (its connections are cut, new ones refused) and comes back up
    *down_for* seconds later, serving normally."""

    def setup(proxy: FaultProxy) -> Callable[[Seen], Fault]:
        started = threading.Event()

        def flip() -> None:
            time.sleep(after)
            proxy.fault = Forward()
            proxy.down()
            time.sleep(down_for)
            proxy.up()

        def rule(request: Seen) -> Fault:
            if only and only not in request.path:
                return Forward()
            if not started.is_set():
                started.set()
                threading.Thread(target=flip, daemon=True).start()
            return Blackhole()

        return rule

    return setup


def always(fault: Fault) -> Setup:
    return lambda proxy: fault


def transient(count: int, fault: Fault) -> Setup:
    return lambda proxy: first(count, fault)


def on_login(fault: Fault) -> Setup:
    return lambda proxy: lambda request: fault if "approle/login" in request.path else Forward()


REFUSED: Setup = lambda proxy: None  # noqa: E731 (the URL changes, not the proxy)


@dataclass(frozen=True)
class Case:
    backend: str  # aws, vault (token) or approle
    name: str
    setup: Setup
    succeeds: bool
    #: Phrases of which the error must hold one (failures only).
    phrases: tuple[str, ...] = ()
    extra: tuple[tuple[str, str], ...] = ()
    retries: bool = True  # a success needs more requests than a fault-free run

    @property
    def id(self) -> str:
        return f"{self.backend}-{self.name}"


# Where retries back off at random, a failure may come from the last attempt
# or from the deadline: both are the correct fail-closed outcome.
DEADLINE = "before the deadline"
CASES = [
    # -- AWS Secrets Manager (moto) ----------------------------------------
    Case("aws", "refused", REFUSED, False, (DEADLINE, "could not reach AWS Secrets Manager")),
    Case("aws", "blackhole", always(Blackhole()), False, (DEADLINE,)),
    Case("aws", "slow-10s", always(Slow(10)), False, (DEADLINE,)),
    Case("aws", "http500", always(Status(500)), False, (DEADLINE, "after 3 attempts")),
    Case("aws", "http503", always(Status(503)), False, (DEADLINE, "after 3 attempts")),
    Case("aws", "http429", always(Status(429)), False, (DEADLINE, "(HTTP 429)")),
    Case("aws", "throttling", always(aws_throttling()), False, (DEADLINE, "throttled")),
    Case(
        "aws",
        "cut-mid-body",
        always(Truncate()),
        False,
        # botocore may also parse what arrived and find no value in it.
        (DEADLINE, "ConnectionClosed", "returned no value"),
    ),
    Case("aws", "reset", always(Reset()), False, (DEADLINE, "could not reach")),
    Case("aws", "slow-0.5s", always(Slow(0.5)), True, retries=False),
    Case("aws", "http503-twice", transient(2, Status(503)), True),
    Case("aws", "http500-twice", transient(2, Status(500)), True),
    Case("aws", "throttling-twice", transient(2, aws_throttling()), True),
    Case("aws", "cut-mid-body-once", transient(1, Truncate()), True),
    Case("aws", "reset-once", transient(1, Reset()), True),
    # Eight attempts: botocore's random backoff must not land every retry
    # inside the 0.3 s the server is down.
    Case("aws", "restart", restart(), True, extra=(("ENVSECRETS_AWS_MAX_ATTEMPTS", "8"),)),
    # -- Vault KV v1 + v2 with a token (OpenBao) ---------------------------
    Case("vault", "refused", REFUSED, False, (DEADLINE, "unreachable")),
    Case("vault", "blackhole", always(Blackhole()), False, (DEADLINE,)),
    Case("vault", "slow-10s", always(Slow(10)), False, (DEADLINE,)),
    Case(
        "vault",
        "http500",
        always(Status(500)),
        False,
        (DEADLINE, "internal server error (HTTP 500)"),
    ),
    Case(
        "vault",
        "http503",
        always(Status(503)),
        False,
        (DEADLINE, "sealed or unavailable (HTTP 503)"),
    ),
    Case("vault", "http429", always(Status(429)), False, (DEADLINE, "rate limited (HTTP 429)")),
    Case(
        "vault",
        "cut-mid-body",
        always(Truncate()),
        False,
        (DEADLINE, "cut before the whole answer"),
    ),
    Case("vault", "reset", always(Reset()), False, (DEADLINE, "unreachable")),
    Case("vault", "slow-0.5s", always(Slow(0.5)), True, retries=False),
    Case("vault", "http503-twice", transient(2, Status(503)), True),
    Case("vault", "http500-twice", transient(2, Status(500)), True),
    Case("vault", "http429-once", transient(1, Status(429)), True),
    Case("vault", "cut-mid-body-once", transient(1, Truncate()), True),
    Case("vault", "reset-once", transient(1, Reset()), True),
    Case("vault", "restart", restart(), True),
    # -- Vault with AppRole: the login is a POST, never replayed -----------
    Case("approle", "login-blackhole", on_login(Blackhole()), False, (DEADLINE,)),
    Case(
        "approle", "login-http503", on_login(Status(503)), False, (DEADLINE, "AppRole login failed")
    ),
    Case(
        "approle", "login-cut-mid-body", on_login(Truncate()), False, (DEADLINE, "AppRole", "cut")
    ),
    Case("approle", "restart-after-login", restart(only="/v1/secret/"), True),
]


@pytest.fixture
def backend_env(
    servers: Servers, fault_proxy: Callable[[str], FaultProxy], tmp_path: Path
) -> Callable[[Case], tuple[dict[str, str], dict[str, tuple[str, str]], FaultProxy]]:
    def make(case: Case) -> tuple[dict[str, str], dict[str, tuple[str, str]], FaultProxy]:
        upstream = servers.moto_url if case.backend == "aws" else servers.bao.address
        proxy = fault_proxy(upstream)
        fault = case.setup(proxy)
        url = refused_url() if fault is None and case.setup is REFUSED else proxy.url
        if fault is not None:
            proxy.fault = fault
        extra = dict(case.extra)
        if case.backend == "aws":
            return aws_environ(url, tmp_path, **extra), AWS_SECRETS, proxy
        if case.backend == "vault":
            return token_env(url, **extra), VAULT_SECRETS, proxy
        environ = approle_env(url, servers.approle["service"], **extra)
        return environ, VAULT_SECRETS, proxy

    return make


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_fault_succeeds_after_retries_or_fails_closed_in_time(
    case: Case,
    backend_env: Callable[[Case], tuple[dict[str, str], dict[str, tuple[str, str]], FaultProxy]],
    tmp_path: Path,
) -> None:
    environ, secrets, proxy = backend_env(case)
    references = {variable: reference for variable, (reference, _) in secrets.items()}
    marker = tmp_path / "child-started"
    timeout = TIMEOUT if not case.succeeds else 10.0
    result = run_cli(
        "-vv",
        "run",
        "--timeout",
        str(timeout),
        "--",
        *marker_command(marker),
        env={**environ, **references},
        cwd=tmp_path,
    )
    # Redaction holds whatever happened: stderr carries DEBUG logs of
    # botocore/urllib3/envsecrets, stdout only what the child printed.
    assert "DEBUG" in result.stderr
    assert_no_sentinel(result.stderr)
    # (-vv shows botocore's own DEBUG tracebacks of retried requests; an
    # uncaught exception of envsecrets would end stderr instead of the report.)
    requests = proxy.count()
    if case.succeeds:
        assert result.returncode == 0, result.stderr[-2000:]
        assert marker.exists()
        child = json.loads(result.stdout)
        for variable, (_, value) in secrets.items():
            assert child["env"][variable] == value
        assert SENTINEL not in json.dumps(child["argv"]) + child["cmdline"]
        # Retries happened: more requests than the fault-free run needs.
        baseline = {"aws": 1, "vault": 2, "approle": 3}[case.backend]
        assert requests > baseline if case.retries else requests == baseline
        outcome = f"succeeded with {requests} requests in {result.elapsed:.2f}s"
    else:
        assert result.returncode == 1, result.stderr[-2000:]
        assert not marker.exists(), "the command started although resolution failed"
        assert result.stdout == ""
        assert result.elapsed < BOUND, f"took {result.elapsed:.2f}s, deadline {TIMEOUT}s"
        errors = [line for line in result.stderr.splitlines() if "envsecrets: error:" in line]
        assert errors, result.stderr[-2000:]
        report = result.stderr[result.stderr.index(errors[0]) :]
        assert f"{len(secrets)} references could not be resolved" in report
        for variable, (reference, _) in secrets.items():
            assert f"{variable}={reference}: " in report
        assert any(phrase in report for phrase in case.phrases), report
        last = result.stderr.rstrip().splitlines()[-1]
        assert any(last.startswith(f"  {variable}=") for variable in secrets), last
        first_reason = report.splitlines()[1].split(": ", 1)[1]
        outcome = (
            f"failed closed in {result.elapsed:.2f}s after {requests} requests: {first_reason}"
        )
    print(f"\nFAULT {case.id}: {outcome}")
