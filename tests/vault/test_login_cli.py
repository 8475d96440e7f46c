"""`envsecrets run` with jwt, kubernetes and cert logins, end to end against a real OpenBao: KV v2
and KV v1 references resolved with one login, and the child gets neither the JWT file's name nor
a token. At -vv, no JWT reaches stderr, on success or failure."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SENTINEL
from tests.vault.conftest import AuthBao
from tests.vault.test_login_methods import METHODS, token_file

#: What a Vault or OpenBao token looks like (service, batch, or legacy form).
VAULT_TOKEN = re.compile(r"\b(hv[sbr]|[sbr])\.[A-Za-z0-9_-]{20,}")
CHILD = "import json, os; print(json.dumps(dict(os.environ)))"


def _envsecrets(environ: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ["PATH"], **environ}
    command = [sys.executable, "-m", "envsecrets", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("method", METHODS)
def test_run_resolves_kv2_and_kv1_and_keeps_the_login_from_the_child(
    bao_auth: AuthBao, method: str, tmp_path: Path
) -> None:
    path = token_file(bao_auth, method, tmp_path)
    environ = {
        **bao_auth.env(method, path, HOME=str(tmp_path)),
        "PASS": "_vaultkv2:secret/svc/s7:value",
        "USER": "_vaultkv1:kv1/auth/app:user",
        **{f"MANY{n}": f"_vaultkv2:secret/svc/s{n}:value" for n in range(10)},
    }
    before = bao_auth.logins(method)
    done = _envsecrets(environ, "run", "--", sys.executable, "-c", CHILD)
    assert done.returncode == 0, done.stderr
    child = json.loads(done.stdout)
    assert (child["PASS"], child["USER"], child["MANY9"]) == ("auth-7", "kv1-auth-user", "auth-9")
    assert bao_auth.logins(method) == before + 1
    for credential in ("VAULT_AUTH_JWT_FILE", "VAULT_TOKEN", "VAULT_CLIENT_KEY"):
        assert credential not in child
    jwt = path.read_text().strip() if path else None
    for name, value in child.items():
        assert not VAULT_TOKEN.search(value), f"{name} holds a Vault token"
        assert jwt is None or jwt not in value, f"{name} holds the JWT"
    assert child["VAULT_AUTH_METHOD"] == method  # a setting, not a credential: passed on


@pytest.mark.parametrize("expired", [False, True])
def test_no_jwt_in_debug_logs(bao_auth: AuthBao, expired: bool, tmp_path: Path) -> None:
    path = tmp_path / "jwt"
    jwt = bao_auth.jwt(ttl=-600 if expired else 600, jti=SENTINEL)
    path.write_text(jwt)
    environ = bao_auth.env("jwt", path, HOME=str(tmp_path))
    done = _envsecrets(environ, "-vv", "get", "_vaultkv2:secret/svc/s2:value")
    assert "DEBUG" in done.stderr  # the debug logs were on
    if expired:
        assert done.returncode != 0
        assert "JWT login failed" in done.stderr
        assert "token is expired" in done.stderr
    else:
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.strip() == "auth-2"
    _, payload, signature = jwt.split(".")
    for part in (jwt, payload, signature, SENTINEL):
        assert part not in done.stderr
        assert part not in done.stdout


def test_an_env_file_may_not_choose_the_login(bao_auth: AuthBao, tmp_path: Path) -> None:
    path = token_file(bao_auth, "jwt", tmp_path)
    env_file = tmp_path / "role.env"
    env_file.write_text(f"VAULT_AUTH_JWT_FILE={path}\nVAULT_AUTH_ROLE=other\n")
    environ = bao_auth.env("jwt", path, HOME=str(tmp_path))
    done = _envsecrets(environ, "run", "-e", str(env_file), "--", sys.executable, "-c", "pass")
    assert done.returncode == 2
    for name in ("VAULT_AUTH_JWT_FILE", "VAULT_AUTH_ROLE"):
        assert f"sets {name}, a provider setting" in done.stderr
