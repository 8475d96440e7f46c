"""VAULT_AGENT_ADDR: a Vault Agent/Proxy in front of the server, adding its
own auto-auth token. Against a real `bao proxy` with AppRole auto-auth,
counted at the server by a file audit device."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.vault.conftest import Proxy, assert_clean, failure_of, resolver
from testservers.openbao import BaoProxy, OpenBao, audit_operations
from testservers.ports import free_port_pair

RUNS = 3
LOGIN = ("update", "auth/approle/login")
READ = ("read", "secret/data/agent/app")


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[OpenBao, Path]]:
    log = tmp_path_factory.mktemp("audit") / "audit.log"
    config = f'audit "file" "counting" {{\n  options {{\n    file_path = "{log}"\n  }}\n}}\n'
    with OpenBao(config=config) as server:
        server.kv_put("secret", "agent/app", {"password": "agent-pass"})
        server.put_policy("agent", 'path "secret/data/agent/*" { capabilities = ["read"] }')
        yield server, log


@pytest.fixture(scope="module")
def bao_proxy(audited: tuple[OpenBao, Path]) -> Iterator[BaoProxy]:
    server, _ = audited
    credentials = server.approle("agent", token_type="service", token_policies=["agent"])
    with BaoProxy(server.address, credentials) as running:
        yield running


def _count(log: Path, operation: tuple[str, str]) -> int:
    return sum(1 for seen in audit_operations(log) if seen == operation)


def test_runs_through_the_proxy_log_in_zero_times(
    audited: tuple[OpenBao, Path], bao_proxy: BaoProxy, tmp_path: Path
) -> None:
    _, log = audited
    logins_before = _count(log, LOGIN)
    assert logins_before >= 1  # the proxy's own auto-auth
    reads_before = _count(log, READ)
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "VAULT_AGENT_ADDR": bao_proxy.address,
        "PASS": "_vaultkv2:secret/agent/app:password",
    }
    for _ in range(RUNS):
        done = subprocess.run(
            [sys.executable, "-m", "envsecrets", "run", "--", sys.executable, "-c",
             "import os; print(os.environ['PASS'])"],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "agent-pass"
    # N processes: N reads at the server, and not one login of their own.
    assert _count(log, LOGIN) == logins_before
    assert _count(log, READ) == reads_before + RUNS


def test_no_token_is_sent_to_the_agent(bao_proxy: BaoProxy) -> None:
    with Proxy(bao_proxy.address) as counting:
        # VAULT_ADDR names a closed port: VAULT_AGENT_ADDR wins, as in the Vault CLI.
        environ = {
            "VAULT_ADDR": f"http://127.0.0.1:{free_port_pair()}",
            "VAULT_AGENT_ADDR": counting.url,
        }
        with resolver(environ) as instance:
            assert instance.get("_vaultkv2:secret/agent/app:password") == "agent-pass"
            assert "auth=agent" in repr(instance.provider("vaultkv2").client())  # type: ignore[attr-defined]
    assert len(counting.sent()) == 1  # the read (after its mount lookup)
    assert all("x-vault-token" not in seen.headers for seen in counting.requests)


def test_a_token_given_is_sent_through_the_agent(
    audited: tuple[OpenBao, Path], bao_proxy: BaoProxy
) -> None:
    server, _ = audited
    token = server.create_token(policies=["agent"])
    with Proxy(bao_proxy.address) as counting:
        environ = {"VAULT_AGENT_ADDR": counting.url, "VAULT_TOKEN": token}
        with resolver(environ) as instance:
            assert instance.get("_vaultkv2:secret/agent/app:password") == "agent-pass"
    assert counting.requests[0].headers.get("x-vault-token") == token


def test_agent_address_without_agent_fails_cleanly() -> None:
    address = f"http://127.0.0.1:{free_port_pair()}"
    failure = failure_of({"VAULT_AGENT_ADDR": address}, "_vaultkv2:app:password")
    assert "unreachable" in str(failure.error)
    assert address in str(failure.error)
    assert_clean(failure.error)
