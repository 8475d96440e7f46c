"""JWT, Kubernetes and TLS-certificate logins (VAULT_AUTH_METHOD) against a real OpenBao: one login
for many paths (counted by the server's audit device), a new login before the token expires or after
a 403, the JWT file read again at every login, and Vault's own words when a login is refused."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import envsecrets
from envsecrets_vault.config import KUBERNETES_TOKEN
from tests.conftest import SENTINEL
from tests.vault.conftest import (
    AUTH_MOUNTS,
    AUTH_PATHS,
    AuthBao,
    Proxy,
    assert_clean,
    failure_of,
    resolver,
)

METHODS = ["jwt", "kubernetes", "cert"]
MANY = {f"V{n}": f"_vaultkv2:secret/svc/s{n}:value" for n in range(AUTH_PATHS)}
RESOLVED = {f"V{n}": f"auth-{n}" for n in range(AUTH_PATHS)}


def token_file(bao_auth: AuthBao, method: str, directory: Path, **options: object) -> Path | None:
    """A file holding a valid JWT for *method* (None for cert: it needs none)."""
    if method == "cert":
        return None
    path = directory / f"{method}-token"
    if method == "jwt":
        path.write_text(bao_auth.jwt(**options) + "\n")  # type: ignore[arg-type]
    else:
        path.write_text(bao_auth.kubernetes.issue("apps", "envsecrets", **options))  # type: ignore[arg-type]
    return path


@pytest.mark.parametrize("method", METHODS)
def test_many_paths_one_login(
    bao_auth: AuthBao, method: str, tmp_path: Path, debug_logs: pytest.LogCaptureFixture
) -> None:
    path = token_file(bao_auth, method, tmp_path)
    before = bao_auth.logins(method)
    env = {**MANY, "OLD": "_vaultkv1:kv1/auth/app:user"}
    with resolver(bao_auth.env(method, path)) as instance:
        assert instance.resolve(env) == {**RESOLVED, "OLD": "kv1-auth-user"}
        assert instance.get("_vaultkv2:secret/svc/s0:value") == "auth-0"  # the token is reused
        assert f"auth={method}" in repr(instance.provider("vaultkv2").client())  # type: ignore[attr-defined]
    assert bao_auth.logins(method) == before + 1
    secrets = (path.read_text().strip(),) if path else ()
    assert_clean(debug_logs.text, secrets=secrets)


@pytest.mark.parametrize("method", ["jwt", "kubernetes"])
def test_the_token_file_is_read_again_at_every_login(
    bao_auth: AuthBao, method: str, tmp_path: Path
) -> None:
    path = token_file(bao_auth, method, tmp_path)
    assert path is not None
    first = path.read_text().strip()
    env = bao_auth.env(method, path, VAULT_AUTH_ROLE="short")  # tokens live 2 s
    reviewed, logins = len(bao_auth.kubernetes.reviewed), bao_auth.logins(method)
    with resolver(env) as instance:
        assert instance.resolve(MANY) == RESOLVED
        token_file(bao_auth, method, tmp_path)  # rotated, as a projected token is
        second = path.read_text().strip()
        assert second != first
        time.sleep(2.5)
        assert instance.resolve(MANY) == RESOLVED
    if method == "kubernetes":  # what the TokenReview endpoint was asked
        sent = bao_auth.kubernetes.reviewed[reviewed:]
    else:  # what the audit device logged (as HMACs), against the two JWTs' HMACs
        hashed = {bao_auth.server.audit_hash("counting", jwt): jwt for jwt in (first, second)}
        sent = [hashed.get(e["data"]["jwt"]) for e in bao_auth.login_entries(method)[logins:]]
    # The first JWT until the rotation, the second after it (a slow machine may log in again
    # within one resolution: the 2-second token can expire in between).
    assert sent == [first] * sent.count(first) + [second] * sent.count(second)
    assert first in sent
    assert second in sent


def test_a_revoked_token_gets_one_more_login(bao_auth: AuthBao, tmp_path: Path) -> None:
    path = token_file(bao_auth, "kubernetes", tmp_path)
    with Proxy(bao_auth.server.address) as proxy:
        env = bao_auth.env("kubernetes", path, VAULT_ADDR=proxy.url)
        with resolver(env) as instance:
            assert instance.get("_vaultkv2:secret/svc/s1:value") == "auth-1"
            [token] = {r.headers["x-vault-token"] for r in proxy.sent() if r.method == "GET"}
            bao_auth.server.api("POST", "auth/token/revoke", {"token": token})
            before = bao_auth.logins("kubernetes")
            assert instance.resolve(MANY) == RESOLVED  # 403 (revoked): one login, one more try
        assert bao_auth.logins("kubernetes") == before + 1
        tokens = {r.headers.get("x-vault-token") for r in proxy.sent()[-AUTH_PATHS:]}
        assert token not in tokens


JWT_FAILURES = {
    # case: (token options, environment, what Vault says)
    "expired": ({"ttl": -600}, {}, "invalid expiration time (exp) claim: token is expired"),
    "wrong audience": ({"audience": "someone-else"}, {}, "audience claim does not match"),
    "role of another audience": ({}, {"VAULT_AUTH_ROLE": "other"}, "audience claim does not match"),
    "unknown role": ({}, {"VAULT_AUTH_ROLE": "nope"}, 'role "nope" could not be found'),
    "not a JWT": (None, {}, "compact JWS format must have three parts"),
}


@pytest.mark.parametrize("case", list(JWT_FAILURES))
def test_a_refused_jwt_says_why(
    bao_auth: AuthBao, case: str, tmp_path: Path, debug_logs: pytest.LogCaptureFixture
) -> None:
    options, extra, said = JWT_FAILURES[case]
    path = tmp_path / "jwt"
    jwt = SENTINEL if options is None else bao_auth.jwt(jti=SENTINEL, **options)  # type: ignore[arg-type]
    path.write_text(jwt)
    env = bao_auth.env("jwt", path, **extra)
    before = bao_auth.logins("jwt")
    with resolver(env) as instance, pytest.raises(envsecrets.ResolutionError) as caught:
        instance.resolve(MANY)
    # Twenty references waited on one login, and share its failure.
    assert bao_auth.logins("jwt") == before + 1
    assert len(caught.value.failures) == AUTH_PATHS
    message = str(caught.value.failures[0].error)
    role = extra.get("VAULT_AUTH_ROLE", "app")
    assert message.startswith(
        f"JWT login failed: Vault refused the JWT of VAULT_AUTH_JWT_FILE ({path}) for role "
        f"{role!r} [Vault: "
    ), message
    assert said in message
    assert f"POST /v1/auth/jwt/login at Vault {bao_auth.server.address}" in message
    assert_clean(caught.value, repr(caught.value), debug_logs.text, secrets=(jwt,))


def test_a_refused_kubernetes_token_says_why(bao_auth: AuthBao, tmp_path: Path) -> None:
    path = tmp_path / "token"
    cases = [  # namespace, ttl, what Vault says
        ("apps", -600, "token is expired"),
        ("elsewhere", 600, "namespace not authorized"),
    ]
    for namespace, ttl, said in cases:
        path.write_text(bao_auth.kubernetes.issue(namespace, "envsecrets", ttl=ttl))
        failure = failure_of(bao_auth.env("kubernetes", path), "_vaultkv2:secret/svc/s0:value")
        message = str(failure.error)
        assert message.startswith(
            f"Kubernetes login failed: Vault refused the JWT of VAULT_AUTH_JWT_FILE ({path}) for "
            "role 'app' [Vault: "
        ), message
        assert said in message
        assert "POST /v1/auth/team/k8s/login" in message
        assert_clean(message, secrets=(path.read_text(),))


def test_a_token_unknown_to_kubernetes_is_denied(bao_auth: AuthBao, tmp_path: Path) -> None:
    # Well-formed and unexpired, but the API server's review refuses it.
    path = tmp_path / "token"
    issued = bao_auth.kubernetes.issue("apps", "envsecrets")
    del bao_auth.kubernetes.issued[issued]
    path.write_text(issued)
    failure = failure_of(bao_auth.env("kubernetes", path), "_vaultkv2:secret/svc/s0:value")
    assert "Kubernetes login failed" in str(failure.error)
    assert "permission denied" in str(failure.error)


@pytest.mark.parametrize("method", ["jwt", "kubernetes"])
def test_a_missing_token_file_names_the_variable_and_the_path(
    bao_auth: AuthBao, method: str, tmp_path: Path
) -> None:
    path = tmp_path / "no-such-token"
    before = bao_auth.logins(method)
    failure = failure_of(bao_auth.env(method, path), "_vaultkv2:secret/svc/s0:value")
    mount = AUTH_MOUNTS[method]
    assert str(failure.error) == (
        f"{'JWT' if method == 'jwt' else 'Kubernetes'} login failed: the JWT file {path} "
        f"(VAULT_AUTH_JWT_FILE) cannot be read (FileNotFoundError): POST /v1/auth/{mount}/login "
        f"at Vault {bao_auth.server.address}"
    )
    path.write_text("\n")
    failure = failure_of(bao_auth.env(method, path), "_vaultkv2:secret/svc/s0:value")
    assert f"the JWT file {path} (VAULT_AUTH_JWT_FILE) is empty" in str(failure.error)
    assert bao_auth.logins(method) == before  # nothing was sent


@pytest.mark.skipif(Path(KUBERNETES_TOKEN).exists(), reason="this machine is a Kubernetes pod")
def test_kubernetes_reads_the_service_account_token_by_default(bao_auth: AuthBao) -> None:
    failure = failure_of(bao_auth.env("kubernetes"), "_vaultkv2:secret/svc/s0:value")
    assert f"the JWT file {KUBERNETES_TOKEN} (VAULT_AUTH_JWT_FILE) cannot be read" in str(
        failure.error
    )


def test_a_refused_jwt_is_not_final(bao_auth: AuthBao, tmp_path: Path) -> None:
    # A refused JWT is not sent again, but the platform may write a new one by the next
    # resolution: it is read and sent.
    path = tmp_path / "jwt"
    path.write_text(bao_auth.jwt(ttl=-600))
    before = bao_auth.logins("jwt")
    with resolver(bao_auth.env("jwt", path)) as instance:
        for _ in range(2):  # the refused JWT is sent once
            with pytest.raises(envsecrets.ResolutionError, match="token is expired"):
                instance.resolve(MANY)
        path.write_text(bao_auth.jwt())
        assert instance.resolve(MANY) == RESOLVED
    assert bao_auth.logins("jwt") == before + 2


def test_a_refused_certificate_is_final(bao_auth: AuthBao) -> None:
    env = bao_auth.env("cert", VAULT_AUTH_ROLE="nope")
    before = bao_auth.logins("cert")
    with resolver(env) as instance:
        for _ in range(2):
            with pytest.raises(envsecrets.ResolutionError) as caught:
                instance.resolve(MANY)
            message = str(caught.value.failures[0].error)
            assert message.startswith(
                "TLS certificate login failed: Vault refused the client certificate of "
                f"VAULT_CLIENT_CERT ({bao_auth.certs.client.cert}) for role 'nope' [Vault: "
            ), message
    assert bao_auth.logins("cert") == before + 1  # static credentials are not sent again


def test_check_fetch_logs_in_as_the_editor_test_does(bao_auth: AuthBao, tmp_path: Path) -> None:
    # The editor's Test runs check_rows: a Resolver of the editor's environment, check(fetch=True).
    fields = pytest.importorskip("envsecrets_editor.fields")
    path = token_file(bao_auth, "jwt", tmp_path)
    rows = [
        fields.Row("PASS", source="vaultkv2", name="secret/svc/s3", key="value"),
        fields.Row("USER", source="vaultkv1", name="kv1/auth/app", key="user"),
    ]
    before = bao_auth.logins("jwt")
    outcome = fields.check_rows(rows, {}, bao_auth.env("jwt", path))
    assert outcome == {"PASS": (True, "ok"), "USER": (True, "ok")}
    assert bao_auth.logins("jwt") == before + 1
    path.write_text(bao_auth.jwt(ttl=-600))
    outcome = fields.check_rows(rows, {}, bao_auth.env("jwt", path))
    assert outcome["PASS"][0] is False
    assert "token is expired" in outcome["PASS"][1]
