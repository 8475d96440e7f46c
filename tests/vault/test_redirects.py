"""Redirects as Vault's own client follows them: one 301/302/307/308 on
reads and on the login, re-sending the request (token and body) to the new
location; never from https to http; none with VAULT_DISABLE_REDIRECTS."""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import pytest

from tests.vault.conftest import LOOKUP, Certs, Proxy, Seed, assert_clean, failure_of, resolver
from testservers.openbao import OpenBao, approle_env, token_env
from testservers.proxy import Proxy as LoopbackProxy
from testservers.stubs import Redirector

LOGIN = "POST /v1/auth/approle/login"


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_read_follows_one_redirect(
    seed: Seed, proxy: Proxy, status: int, debug_logs: pytest.LogCaptureFixture
) -> None:
    # A standby pointing at the active node: another origin (the proxy).
    with (
        Redirector(proxy.url, status=status) as standby,
        resolver(token_env(standby.url, seed.reader_token)) as instance,
    ):
        assert instance.get("_vaultkv2:app:password") == "app-v3"
    assert standby.seen == [("GET", LOOKUP + "secret/data/app"), ("GET", "/v1/secret/data/app")]
    # The request went on to the new origin with its token, as Vault's client sends it.
    [read] = proxy.sent()
    assert read.headers.get("x-vault-token") == seed.reader_token
    assert_clean(debug_logs.text, secrets=(seed.reader_token,))


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_login_follows_one_redirect_with_its_body(
    seed: Seed, proxy: LoopbackProxy, status: int
) -> None:
    with (
        Redirector(proxy.url, status=status) as standby,
        resolver(approle_env(standby.url, seed.approle["batch"])) as instance,
    ):
        assert instance.resolve({"A": "_vaultkv2:app:password"}) == {"A": "app-v3"}
    assert ("POST", "/v1/auth/approle/login") in standby.seen
    # Re-sent as a POST with its body (requests alone would turn a 301/302 into a GET).
    assert proxy.operations() == {LOGIN: 1, "GET /v1/secret/data/app": 1}


def test_second_redirect_is_not_followed(seed: Seed, proxy: LoopbackProxy) -> None:
    with Redirector(proxy.url) as second, Redirector(second.url) as first:
        failure = failure_of(token_env(first.url), "_vaultkv2:app:password")
    message = str(failure.error)
    assert f"redirected more than once (HTTP 307 to {proxy.url})" in message
    assert proxy.count() == 0


def test_disable_redirects(seed: Seed, proxy: LoopbackProxy) -> None:
    with Redirector(proxy.url) as standby:
        env = token_env(standby.url, VAULT_DISABLE_REDIRECTS="true")
        failure = failure_of(env, "_vaultkv2:app:password")
    message = str(failure.error)
    assert f"redirect not followed (HTTP 307 to {proxy.url})" in message
    assert "VAULT_DISABLE_REDIRECTS" in message
    assert "GET /v1/secret/data/app" in message
    assert proxy.count() == 0


@pytest.fixture
def https_redirector(certs: Certs, proxy: LoopbackProxy) -> Iterator[Redirector]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certs.server.cert, certs.server.key)
    with Redirector(proxy.url, status=307, context=context) as stub:
        yield stub


@pytest.mark.parametrize("approle", [False, True])
def test_https_to_http_redirect_is_refused(  # noqa: PLR0917 (fixtures)
    seed: Seed,
    certs: Certs,
    proxy: LoopbackProxy,
    https_redirector: Redirector,
    approle: bool,
    debug_logs: pytest.LogCaptureFixture,
) -> None:
    extra = {"VAULT_CACERT": str(certs.ca.cert)}
    env = (
        approle_env(https_redirector.url, seed.approle["batch"], **extra)
        if approle
        else token_env(https_redirector.url, seed.reader_token, **extra)
    )
    failure = failure_of(env, "_vaultkv2:app:password")
    message = str(failure.error)
    assert f"redirect refused (HTTP 307 to {proxy.url})" in message
    assert "downgrade" in message
    assert https_redirector.url in message
    assert proxy.count() == 0  # nothing, token or secret ID, went out in clear
    assert_clean(message, debug_logs.text, secrets=(seed.reader_token, *seed.approle["batch"]))


def test_redirect_to_the_real_server(bao: OpenBao, seed: Seed) -> None:
    with Redirector(bao.address, status=307) as standby, resolver(token_env(standby.url)) as r:
        assert r.get("_vaultkv1:kv1/legacy:token") == "kv1-token"
