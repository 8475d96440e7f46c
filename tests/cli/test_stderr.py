"""Without ``-v``, stderr carries envsecrets' own words only (issue 23): no urllib3 retry line,
no ``InsecureRequestWarning``, no ``DependencyWarning``. The ``cli`` fixture checks every CLI
test's stderr; these run the real cases the trial found against real servers."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator

import pytest

from tests.cli.conftest import Runner
from tests.support.stderr import foreign_lines
from testservers.moto import moto_environ, moto_server, secretsmanager
from testservers.openbao import OpenBao, token_env

# Real AWS and Vault runs: every plugin and both servers (tox env wheels).
for _module in ("envsecrets_vault", "envsecrets_aws", "moto"):
    pytest.importorskip(_module, reason="needs every plugin and moto installed")


@pytest.fixture(scope="module")
def bao_tls() -> Iterator[OpenBao]:
    with OpenBao(tls=True) as server:
        server.kv_put("secret", "tls", {"password": "tls-pass"})
        yield server


def refused_port() -> int:
    with socket.socket() as probe:  # bound, never listening: connections are refused
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_check_finds_what_a_library_prints() -> None:
    urllib3 = (
        "/x/site-packages/urllib3/connectionpool.py:1097: InsecureRequestWarning: Unverified "
        "HTTPS request is being made to host '127.0.0.1'.\n  warnings.warn(\n"
    )
    own = "envsecrets: error: boom\n  X=_a:b: failed\n"
    assert foreign_lines(own + urllib3) == urllib3.splitlines()
    retry = "WARNING:urllib3.connectionpool:Retrying (Retry(total=2, ...)) after connection broken"
    assert foreign_lines(retry) == [retry]
    assert foreign_lines("child says\nenvsecrets: warning\n", child="child says\n") == []


def test_unreachable_vault(cli: Runner) -> None:
    env = token_env(f"http://127.0.0.1:{refused_port()}", X="_vaultkv2:app:password")
    done = cli("run", "--", sys.executable, "-c", "pass", env=env)  # the fixture checks stderr
    assert done.returncode == 1
    assert "unreachable: the connection failed" in done.stderr
    assert "Retrying" not in done.stderr


def test_skip_verify_is_said_once_in_envsecrets_words(cli: Runner, bao_tls: OpenBao) -> None:
    env = token_env(bao_tls.address, VAULT_SKIP_VERIFY="true")
    env |= {"A": "_vaultkv2:tls:password", "B": "_vaultkv2:tls:password"}
    done = cli("resolve", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("VAULT_SKIP_VERIFY") == 1
    assert done.stderr.startswith("envsecrets: VAULT_SKIP_VERIFY is set")
    assert "InsecureRequestWarning" not in done.stderr


@pytest.mark.parametrize("attempt", range(3))
def test_aws_and_vault_together(cli: Runner, bao_tls: OpenBao, attempt: int) -> None:
    with moto_server() as url:
        secretsmanager(url).create_secret(Name=f"both{attempt}", SecretString='{"k": "aws"}')
        env = moto_environ(url) | token_env(bao_tls.address, VAULT_SKIP_VERIFY="1")
        env |= {"A": f"_aws:both{attempt}:k", "V": "_vaultkv2:tls:password"}
        done = cli("resolve", env=env)
    assert done.returncode == 0, done.stderr
    assert 'A="aws"' in done.stdout
    assert "DependencyWarning" not in done.stderr
