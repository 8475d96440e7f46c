"""AppRole: one login per provider whatever the number of reads, token reuse,
re-login on expiry. Counted at a proxy in front of the real server."""

from __future__ import annotations

import time

import pytest

import envsecrets
from tests.vault.conftest import MANY, Seed, assert_clean, is_lookup, resolver
from testservers.faults import Answer as CannedResponse
from testservers.faults import Seen as SeenRequest
from testservers.openbao import approle_env
from testservers.proxy import Proxy as LoopbackProxy

LOGIN = "POST /v1/auth/approle/login"


def _is_login(request: SeenRequest) -> bool:
    return request.operation == LOGIN


def _is_read(request: SeenRequest) -> bool:
    return request.method == "GET" and not is_lookup(request)


@pytest.mark.parametrize("role", ["batch", "service"])
def test_many_paths_one_login(
    seed: Seed, proxy: LoopbackProxy, role: str, debug_logs: pytest.LogCaptureFixture
) -> None:
    env = {f"V{n}": f"_vaultkv2:secret/many/s{n}:value" for n in range(MANY)}
    with resolver(approle_env(proxy.url, seed.approle[role])) as instance:
        result = instance.resolve(env)
    assert result == {f"V{n}": f"many-{n}" for n in range(MANY)}
    assert proxy.count(_is_login) == 1
    assert proxy.count(_is_read) == MANY
    assert proxy.count() == MANY + 1
    # Every read carried the token from the one login.
    tokens = {r.headers.get("x-vault-token") for r in proxy.requests if _is_read(r)}
    assert len(tokens) == 1
    token = tokens.pop()
    assert token
    assert token.startswith("b." if role == "batch" else "s.")
    assert_clean(debug_logs.text, repr(instance), secrets=(token, *seed.approle[role]))


def test_long_lived_resolver_reuses_its_token(seed: Seed, proxy: LoopbackProxy) -> None:
    with resolver(approle_env(proxy.url, seed.approle["batch"])) as instance:
        for _ in range(3):
            assert instance.get("_vaultkv2:app:password") == "app-v3"
    assert proxy.count(_is_login) == 1
    assert proxy.count(_is_read) == 3


def test_both_prefixes_share_one_login(seed: Seed, proxy: LoopbackProxy) -> None:
    # _vaultkv1 and _vaultkv2 share one client (and token) per resolver.
    env = {
        "A": "_vaultkv1:kv1/legacy:token",
        "B": "_vaultkv1:kv1/team/app:user",
        "C": "_vaultkv2:app:password",
        "D": "_vaultkv2:kv/app/db:user",
    }
    with resolver(approle_env(proxy.url, seed.approle["service"])) as instance:
        assert instance.resolve(env)["D"] == "kv-user"
    assert proxy.count(_is_login) == 1
    assert proxy.count(_is_read) == 4


def test_expired_token_logs_in_again(seed: Seed, proxy: LoopbackProxy) -> None:
    env = {"A": "_vaultkv2:app:password", "B": "_vaultkv2:typed:port"}
    with resolver(approle_env(proxy.url, seed.approle["short"])) as instance:
        assert instance.resolve(env) == {"A": "app-v3", "B": "5432"}
        assert proxy.count(_is_login) == 1
        time.sleep(2.5)  # the token's TTL is 2 s
        assert instance.resolve(env) == {"A": "app-v3", "B": "5432"}
    assert proxy.count(_is_login) == 2
    assert proxy.count(_is_read) == 4
    # 4 reads, not 5: the TTL triggered the second login, not a refused read.


def test_revoked_token_gets_one_more_login(seed: Seed, bao_proxy_403: LoopbackProxy) -> None:
    proxy = bao_proxy_403
    env = {f"V{n}": f"_vaultkv2:secret/many/s{n}:value" for n in range(5)}
    with resolver(approle_env(proxy.url, seed.approle["batch"])) as instance:
        assert instance.resolve(env) == {f"V{n}": f"many-{n}" for n in range(5)}
    # 5 reads refused as if the token were revoked, one more login, 5 retries.
    assert proxy.count(_is_login) == 2
    assert proxy.count(_is_read) == 10


@pytest.fixture
def bao_proxy_403(proxy: LoopbackProxy) -> LoopbackProxy:
    """Refuse every read carrying the first login's token, as Vault does once
    a token is revoked or expired."""
    first_token: list[str] = []

    def rule(request: SeenRequest) -> CannedResponse | None:
        token = request.headers.get("x-vault-token")
        if _is_read(request) and token:
            if not first_token:
                first_token.append(token)
            if token == first_token[0]:
                return CannedResponse(
                    403, b'{"errors":["permission denied"]}', {"Content-Type": "application/json"}
                )
        return None

    proxy.rule = rule
    proxy.delay = 0.05  # keep the five reads in flight together
    return proxy


def test_wrong_secret_id(
    seed: Seed, proxy: LoopbackProxy, debug_logs: pytest.LogCaptureFixture
) -> None:
    role_id, _ = seed.approle["batch"]
    wrong = "SENTINEL-7d1f3c9a-never-print-me-secret-id"
    env = {f"V{n}": f"_vaultkv2:secret/many/s{n}:value" for n in range(10)}
    with resolver(approle_env(proxy.url, (role_id, wrong))) as instance:
        for _ in range(2):
            with pytest.raises(envsecrets.ResolutionError) as caught:
                instance.resolve(env)
            assert len(caught.value.failures) == 10
            message = str(caught.value.failures[0].error)
            assert "AppRole login failed" in message
            assert "POST /v1/auth/approle/login" in message
            assert proxy.url in message
            assert_clean(
                caught.value, repr(caught.value), debug_logs.text, secrets=(wrong, role_id)
            )
    # Rejected credentials are not sent again: one login for 2 x 10 references.
    assert proxy.count(_is_login) == 1
    assert proxy.count(_is_read) == 0


def test_wrong_role_id(seed: Seed, proxy: LoopbackProxy) -> None:
    _, secret_id = seed.approle["batch"]
    with (
        resolver(approle_env(proxy.url, ("no-such-role", secret_id))) as instance,
        pytest.raises(envsecrets.ResolutionError) as caught,
    ):
        instance.get("_vaultkv2:app:password")
    assert "wrong VAULT_APP_ROLE_ID or VAULT_APP_ROLE_SECRET_ID" in str(caught.value)
    assert_clean(caught.value, secrets=(secret_id,))


def test_login_retried_on_connection_errors_only(seed: Seed, proxy: LoopbackProxy) -> None:
    # A 500 answer to the login is not replayed: the secret ID may have been spent.
    proxy.rule = lambda r: CannedResponse(500, b'{"errors":["boom"]}') if _is_login(r) else None
    with (
        resolver(approle_env(proxy.url, seed.approle["batch"])) as instance,
        pytest.raises(envsecrets.ResolutionError) as caught,
    ):
        instance.get("_vaultkv2:app:password")
    assert "internal server error (HTTP 500)" in str(caught.value)
    assert proxy.count(_is_login) == 1
