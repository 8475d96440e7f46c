"""At -vv (urllib3, requests and hvac log at DEBUG), no credential reaches
stderr: not the token, the role ID, the secret ID, nor the login's token."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.vault.conftest import Seed
from testservers.openbao import OpenBao, approle_env, token_env
from testservers.proxy import Proxy as LoopbackProxy


def _run(environ: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ["PATH"], **environ}
    return subprocess.run(
        [sys.executable, "-m", "envsecrets", "-vv", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_approle_credentials_stay_out_of_debug_logs(
    seed: Seed, proxy: LoopbackProxy, tmp_path: Path
) -> None:
    role_id, secret_id = seed.approle["service"]
    environ = approle_env(proxy.url, (role_id, secret_id), HOME=str(tmp_path))
    done = _run(environ, "get", "_vaultkv2:app:password")
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "app-v3"
    assert "DEBUG" in done.stderr  # the debug logs were on
    [login] = [r for r in proxy.requests if r.method == "POST"]
    tokens = {r.headers.get("x-vault-token", "") for r in proxy.requests if r.method == "GET"}
    for credential in (role_id, secret_id, *tokens):
        assert credential
        assert credential not in done.stderr
    assert login.body  # the secret ID went to the server, and only there


def test_token_stays_out_of_debug_logs_on_failure(bao: OpenBao, seed: Seed, tmp_path: Path) -> None:
    environ = token_env(bao.address, seed.reader_token, HOME=str(tmp_path))
    done = _run(environ, "get", "_vaultkv2:denied:password")
    assert done.returncode != 0
    assert "permission denied" in done.stderr
    assert seed.reader_token not in done.stderr
