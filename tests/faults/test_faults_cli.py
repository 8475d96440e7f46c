"""Fault injection through the real command line.

``python -m envsecrets -vv run --timeout T -- CHILD`` against moto and OpenBao
behind a :class:`~testservers.proxy.Proxy`. For every fault the
run either succeeds after bounded retries (the child starts with the real
values) or fails closed: exit 1, an error naming every affected variable
with the reason of *that* fault, no child started (its marker file is
absent), and no secret value in stdout or stderr at the highest verbosity.

Each failure has one possible reason, because the timeouts make it so
(never "this reason or the deadline"):

- a fault the provider reports itself (refused, 5xx, 429, throttling, reset,
  cut answer, a request timeout) runs under a resolution deadline far longer
  than its retries can take, so the provider always answers first;
- a hang meant to end at the deadline runs with per-request timeouts far
  longer than the run is allowed to take (``run_cli`` gives up after
  60 s), so only the deadline can end it, and the process exits without
  waiting for the request it abandoned.

The number of requests at the wire is asserted, not the time taken.
"""

from __future__ import annotations

import json
import re
import threading
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
from testservers.faults import (
    Blackhole,
    Fault,
    Forward,
    Reset,
    Seen,
    Slow,
    Status,
    Truncate,
    aws_throttling,
    first,
)
from testservers.openbao import approle_env, token_env
from testservers.ports import refused_url
from testservers.proxy import Proxy as FaultProxy

#: The resolution deadline of every case that must not end at the deadline:
#: far longer than any provider's bounded retries (AWS's throttling backoff,
#: the longest, sleeps at most 1 + 2 s over its 3 attempts).
LONG_DEADLINE = 60.0
#: The resolution deadline of the cases that must end at the deadline.
SHORT_DEADLINE = 1.0
#: Per-request timeout (seconds) of the cases that must end at the deadline:
#: longer than run_cli waits for the process, so a run that waited for the
#: request it abandoned fails instead of passing late.
NO_REQUEST_TIMEOUT = 300.0
#: Per-request timeout of the cases whose reason is the request timing out.
REQUEST_TIMEOUT = 0.5

Setup = Callable[[FaultProxy], Fault | Callable[[Seen], Fault] | None]


def restart(down_for: float = 0.05, only: str = "") -> Setup:
    """The first matching request hangs, and its arrival restarts the
    "server": every connection is cut (that request's too), new ones are
    refused for *down_for* seconds, then it serves normally again.

    Driven by the request, not by a timer: the cut always hits a request in
    flight. *down_for* is far shorter than the retries' backoff (Vault: 0, 0.4
    and 0.8 s, so an immediate retry may be refused and the next finds it
    back up; AWS: eight attempts).
    """

    def setup(proxy: FaultProxy) -> Callable[[Seen], Fault]:
        started = threading.Event()
        lock = threading.Lock()

        def rule(request: Seen) -> Fault:
            if only and only not in request.path:
                return Forward()
            with lock:
                if started.is_set():
                    return Forward()
                started.set()
            proxy.fault = Forward()
            threading.Thread(target=proxy.restart, args=(down_for,), daemon=True).start()
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

#: Requests a fault-free run makes: AWS one batch call for both secrets,
#: Vault one mount lookup and one read per secret (two mounts), AppRole one
#: login more.
BASELINE = {"aws": 1, "vault": 4, "approle": 5}


@dataclass(frozen=True)
class Case:
    backend: str  # aws, vault (token) or approle
    name: str
    setup: Setup
    succeeds: bool
    #: The reason every failing variable's line must give (failures only).
    reason: str = ""
    #: Requests the proxy must have seen (failures): a number, an inclusive
    #: range, or None for what the reason reports (see expected_requests).
    requests: int | tuple[int, int] | None = None
    #: Per-request timeout in seconds; None keeps the provider's default.
    request_timeout: float | None = None
    deadline: float = LONG_DEADLINE
    extra: tuple[tuple[str, str], ...] = ()
    retries: bool = True  # a success needs more requests than a fault-free run

    @property
    def id(self) -> str:
        return f"{self.backend}-{self.name}"


# The core's words when a fetch is still running at the deadline.
DEADLINE = "before the deadline"


def hang(backend: str, name: str, setup: Setup, requests: int) -> Case:
    """A case that only the resolution deadline can end."""
    return Case(
        backend,
        name,
        setup,
        False,
        DEADLINE,
        requests,
        request_timeout=NO_REQUEST_TIMEOUT,
        deadline=SHORT_DEADLINE,
    )


AWS_UNREACHABLE = "could not reach AWS Secrets Manager at http://127.0.0.1:"
VAULT_UNREACHABLE = "unreachable: the connection failed (4 attempts)"
VAULT_CUT = "the connection was cut before the whole answer arrived"
CASES = [
    # -- AWS Secrets Manager (moto): one batch call for both secrets, 3 attempts
    Case("aws", "refused", REFUSED, False, AWS_UNREACHABLE, 0),
    hang("aws", "blackhole", always(Blackhole()), requests=1),
    hang("aws", "slow-10s", always(Slow(10)), requests=1),
    Case(
        "aws",
        "blackhole-request-timeout",
        always(Blackhole()),
        False,
        "did not answer in time for secret 'faults/",
        3,
        request_timeout=REQUEST_TIMEOUT,
    ),
    Case("aws", "http500", always(Status(500)), False, "after 3 attempts (HTTP 500)", 3),
    Case("aws", "http503", always(Status(503)), False, "after 3 attempts (HTTP 503)", 3),
    Case("aws", "http429", always(Status(429)), False, "after 3 attempts (HTTP 429)", 3),
    Case(
        "aws",
        "throttling",
        always(aws_throttling()),
        False,
        "throttled the request for secret 'faults/",
        3,
    ),
    # botocore does not check a 200 answer's length against Content-Length:
    # the cut batch answer parses as one without values, and so do the two
    # GetSecretValue answers asked for instead.
    Case("aws", "cut-mid-body", always(Truncate()), False, "returned no value for secret", 3),
    Case("aws", "reset", always(Reset()), False, "(ConnectionClosedError)", 3),
    Case("aws", "slow-0.5s", always(Slow(0.5)), True, retries=False),
    Case("aws", "http503-twice", transient(2, Status(503)), True),
    Case("aws", "http500-twice", transient(2, Status(500)), True),
    Case("aws", "throttling-twice", transient(2, aws_throttling()), True),
    Case("aws", "cut-mid-body-once", transient(1, Truncate()), True),
    Case("aws", "reset-once", transient(1, Reset()), True),
    # Eight attempts: botocore's random backoff (50 ms scale) must not land
    # every retry inside the 50 ms the server is down.
    Case("aws", "restart", restart(), True, extra=(("ENVSECRETS_AWS_MAX_ATTEMPTS", "8"),)),
    # -- Vault KV v1 + v2 with a token (OpenBao): one read per secret, 4 attempts
    Case("vault", "refused", REFUSED, False, VAULT_UNREACHABLE, 0),
    hang("vault", "blackhole", always(Blackhole()), requests=2),
    hang("vault", "slow-10s", always(Slow(10)), requests=2),
    # VAULT_HTTP_REQ_TIMEOUT bounds each read and the whole call: the read
    # retry of a timed-out GET may or may not start before the call's end.
    Case(
        "vault",
        "blackhole-request-timeout",
        always(Blackhole()),
        False,
        "timed out after 0.5s (VAULT_HTTP_REQ_TIMEOUT)",
        (2, 4),
        request_timeout=REQUEST_TIMEOUT,
    ),
    Case("vault", "http500", always(Status(500)), False, "server error (HTTP 500), 4 attempts"),
    Case(
        "vault",
        "http503",
        always(Status(503)),
        False,
        "sealed or unavailable (HTTP 503), 4 attempts",
    ),
    Case("vault", "http429", always(Status(429)), False, "rate limited (HTTP 429), 4 attempts"),
    Case("vault", "cut-mid-body", always(Truncate()), False, VAULT_CUT),
    Case("vault", "reset", always(Reset()), False, VAULT_UNREACHABLE),
    Case("vault", "slow-0.5s", always(Slow(0.5)), True, retries=False),
    Case("vault", "http503-twice", transient(2, Status(503)), True),
    Case("vault", "http500-twice", transient(2, Status(500)), True),
    Case("vault", "http429-once", transient(1, Status(429)), True),
    Case("vault", "cut-mid-body-once", transient(1, Truncate()), True),
    Case("vault", "reset-once", transient(1, Reset()), True),
    Case("vault", "restart", restart(), True),
    # -- Vault with AppRole: the login is a POST, never replayed -----------
    hang("approle", "login-blackhole", on_login(Blackhole()), requests=1),
    Case(
        "approle",
        "login-request-timeout",
        on_login(Blackhole()),
        False,
        "timed out after 0.5s (VAULT_HTTP_REQ_TIMEOUT): POST /v1/auth/approle/login",
        1,
        request_timeout=REQUEST_TIMEOUT,
    ),
    Case(
        "approle",
        "login-http503",
        on_login(Status(503)),
        False,
        "AppRole login failed, Vault is sealed or unavailable (HTTP 503)",
        1,
    ),
    Case(
        "approle",
        "login-cut-mid-body",
        on_login(Truncate()),
        False,
        f"{VAULT_CUT}: POST /v1/auth/approle/login",
        1,
    ),
    Case("approle", "restart-after-login", restart(only="/v1/secret/"), True),
]


def timeout_environ(backend: str, seconds: float | None) -> dict[str, str]:
    """The provider's per-request timeout settings for *seconds*."""
    if seconds is None:
        return {}
    if backend == "aws":
        return {
            "ENVSECRETS_AWS_CONNECT_TIMEOUT": f"{seconds:g}",
            "ENVSECRETS_AWS_READ_TIMEOUT": f"{seconds:g}",
        }
    return {"VAULT_HTTP_REQ_TIMEOUT": f"{seconds * 1000:g}ms"}


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
        extra = {**timeout_environ(case.backend, case.request_timeout), **dict(case.extra)}
        if case.backend == "aws":
            return aws_environ(url, tmp_path, **extra), AWS_SECRETS, proxy
        if case.backend == "vault":
            return token_env(url, **extra), VAULT_SECRETS, proxy
        environ = approle_env(url, servers.approle["service"], **extra)
        return environ, VAULT_SECRETS, proxy

    return make


def expected_requests(case: Case, reason: str, secrets: int) -> tuple[int, int]:
    """The range of requests a failure must have sent: the case's figure, or
    as many attempts per secret as the reason reports (Vault: "4 attempts")."""
    if isinstance(case.requests, tuple):
        return case.requests
    if case.requests is not None:
        return case.requests, case.requests
    attempts = re.search(r"\b(\d+) attempts\b", reason)
    if attempts:
        return int(attempts.group(1)) * secrets, int(attempts.group(1)) * secrets
    # A GET whose answer was cut is tried once more, never more.
    return 2 * secrets, 2 * secrets


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_fault_succeeds_after_retries_or_fails_closed_with_its_reason(
    case: Case,
    backend_env: Callable[[Case], tuple[dict[str, str], dict[str, tuple[str, str]], FaultProxy]],
    tmp_path: Path,
) -> None:
    environ, secrets, proxy = backend_env(case)
    references = {variable: reference for variable, (reference, _) in secrets.items()}
    marker = tmp_path / "child-started"
    result = run_cli(
        "-vv",
        "run",
        "--timeout",
        f"{case.deadline:g}",
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
        baseline = BASELINE[case.backend]
        assert requests > baseline if case.retries else requests == baseline
        outcome = f"succeeded with {requests} requests"
    else:
        assert result.returncode == 1, result.stderr[-2000:]
        assert not marker.exists(), "the command started although resolution failed"
        assert result.stdout == ""
        errors = [line for line in result.stderr.splitlines() if "envsecrets: error:" in line]
        assert errors, result.stderr[-2000:]
        report = result.stderr[result.stderr.index(errors[0]) :]
        assert f"{len(secrets)} references could not be resolved" in report
        lines = report.splitlines()
        for variable, (reference, _) in secrets.items():
            line = next((ln for ln in lines if ln.startswith(f"  {variable}={reference}: ")), "")
            assert case.reason in line, f"{variable}: expected {case.reason!r}\n{report}"
        last = result.stderr.rstrip().splitlines()[-1]
        assert any(last.startswith(f"  {variable}=") for variable in secrets), last
        first_reason = lines[1].split(": ", 1)[1]
        low, high = expected_requests(case, first_reason, len(secrets))
        assert low <= requests <= high, f"{requests} requests, not {low}-{high}: {first_reason}"
        outcome = f"failed closed after {requests} requests: {first_reason}"
    # Reported with -s; the time is shown, never asserted.
    print(f"\nFAULT {case.id}: {outcome} ({result.elapsed:.2f}s)")
