"""Every failure names the path and the server, never a value or a token."""

from __future__ import annotations

import pytest

import envsecrets
from tests.conftest import SENTINEL
from tests.vault.conftest import Proxy, Seed, assert_clean, failure_of, is_lookup, resolver
from testservers.faults import Answer as CannedResponse
from testservers.faults import Seen
from testservers.openbao import OpenBao, approle_env, token_env
from testservers.ports import free_port_pair
from testservers.proxy import Proxy as LoopbackProxy
from testservers.stubs import Trickler

JSON = {"Content-Type": "application/json"}


def _check(
    failure: envsecrets.Failure,
    logs: pytest.LogCaptureFixture,
    *,
    kind: type[Exception],
    phrase: str,
    path: str,
    address: str,
    secrets: tuple[str, ...] = (),
) -> None:
    error = failure.error
    assert isinstance(error, kind), repr(error)
    message = str(error)
    assert phrase in message
    assert path in message
    assert address in message
    assert_clean(message, repr(error), failure.describe(), logs.text, secrets=secrets)


def test_permission_denied(bao: OpenBao, seed: Seed, debug_logs: pytest.LogCaptureFixture) -> None:
    failure = failure_of(token_env(bao.address, seed.reader_token), "_vaultkv2:denied:password")
    _check(
        failure,
        debug_logs,
        kind=envsecrets.ProviderError,
        phrase="permission denied (HTTP 403)",
        path="GET /v1/secret/data/denied",
        address=bao.address,
        secrets=(seed.reader_token,),
    )
    assert not isinstance(failure.error, envsecrets.SecretNotFound)


def test_permission_denied_with_approle(
    seed: Seed, proxy: LoopbackProxy, debug_logs: pytest.LogCaptureFixture
) -> None:
    env = approle_env(proxy.url, seed.approle["service"])
    failure = failure_of(env, "_vaultkv2:denied:password")
    _check(
        failure,
        debug_logs,
        kind=envsecrets.ProviderError,
        phrase="permission denied",
        path="/v1/secret/data/denied",
        address=proxy.url,
        secrets=seed.approle["service"],
    )
    # A 403 may mean an expired token: one more login and one retry, no more.
    assert proxy.operations() == {
        "POST /v1/auth/approle/login": 2,
        "GET /v1/secret/data/denied": 2,
    }
    tokens = [r.headers.get("x-vault-token", "") for r in proxy.requests if r.method == "GET"]
    assert_clean(debug_logs.text, secrets=tuple(tokens))


@pytest.mark.parametrize(
    ("reference", "path"),
    [
        ("_vaultkv2:nope:password", "GET /v1/secret/data/nope"),
        ("_vaultkv2:kv/missing/db:user", "GET /v1/kv/data/missing/db"),
        ("_vaultkv1:kv1/nope:token", "GET /v1/kv1/nope"),
        ("_vaultkv2:app?version=99:password", "GET /v1/secret/data/app?version=99"),
    ],
)
def test_not_found(
    bao: OpenBao, seed: Seed, debug_logs: pytest.LogCaptureFixture, reference: str, path: str
) -> None:
    failure = failure_of(token_env(bao.address), reference)
    _check(
        failure,
        debug_logs,
        kind=envsecrets.SecretNotFound,
        phrase="not found (HTTP 404)",
        path=path,
        address=bao.address,
    )


@pytest.mark.parametrize(
    ("version", "phrase"), [(1, "version 1 was deleted"), (2, "version 2 was destroyed")]
)
def test_deleted_and_destroyed_versions(
    bao: OpenBao, seed: Seed, debug_logs: pytest.LogCaptureFixture, version: int, phrase: str
) -> None:
    failure = failure_of(token_env(bao.address), f"_vaultkv2:history?version={version}:password")
    _check(
        failure,
        debug_logs,
        kind=envsecrets.SecretNotFound,
        phrase=phrase,
        path=f"/v1/secret/data/history?version={version}",
        address=bao.address,
    )


def test_missing_key_names_no_value(bao: OpenBao, seed: Seed) -> None:
    failure = failure_of(token_env(bao.address), "_vaultkv2:denied:nokey")
    # Root may read it; the key is absent: the value next to it must not show.
    assert isinstance(failure.error, envsecrets.KeyNotFound)
    assert_clean(failure.error, failure.describe())


@pytest.mark.parametrize(
    ("status", "phrase"),
    [
        (503, "Vault is sealed or unavailable (HTTP 503)"),
        (429, "rate limited (HTTP 429)"),
        (502, "bad gateway (HTTP 502)"),
    ],
)
def test_unavailable_server_is_retried_then_reported(
    seed: Seed,
    proxy: Proxy,
    debug_logs: pytest.LogCaptureFixture,
    status: int,
    phrase: str,
) -> None:
    body = b'{"errors":["Vault is sealed"]}' if status == 503 else b'{"errors":[]}'
    proxy.rule = lambda r: CannedResponse(status, body, JSON)
    failure = failure_of(token_env(proxy.url), "_vaultkv2:app:password")
    _check(
        failure,
        debug_logs,
        kind=envsecrets.ProviderError,
        phrase=phrase,
        path="GET /v1/secret/data/app",
        address=proxy.url,
        secrets=("root",),
    )
    # The mount lookup before the read got the same answers: the read is named, not sent.
    assert "GET /v1/secret/data/app while checking its mount" in str(failure.error)
    assert proxy.lookups() == ["secret/data/app"] * 4  # the first try and 3 retries
    assert proxy.count() == 0


def test_transient_failure_is_retried(seed: Seed, proxy: LoopbackProxy) -> None:
    calls: list[int] = []

    def flaky(request: Seen) -> CannedResponse | None:
        if is_lookup(request):
            return None
        calls.append(1)
        return CannedResponse(503, b'{"errors":[]}', JSON) if len(calls) <= 2 else None

    proxy.rule = flaky
    env = token_env(proxy.url)
    with resolver(env) as instance:
        assert instance.get("_vaultkv2:app:password") == "app-v3"
    assert proxy.count() == 3


def test_unreachable_address(debug_logs: pytest.LogCaptureFixture) -> None:
    address = f"http://127.0.0.1:{free_port_pair()}"  # nothing listens there
    failure = failure_of(token_env(address, SENTINEL), "_vaultkv1:kv1/legacy:token")
    _check(
        failure,
        debug_logs,
        kind=envsecrets.ProviderError,
        phrase="unreachable",
        path="GET /v1/kv1/legacy",
        address=address,
    )


def test_timeout(seed: Seed, proxy: Proxy, debug_logs: pytest.LogCaptureFixture) -> None:
    proxy.delay = 1.0
    env = token_env(proxy.url, VAULT_HTTP_REQ_TIMEOUT="200ms")
    failure = failure_of(env, "_vaultkv2:app:password")
    _check(
        failure,
        debug_logs,
        kind=envsecrets.ProviderError,
        phrase="timed out after 0.2s",
        path="GET /v1/secret/data/app",
        address=proxy.url,
        secrets=("root",),
    )
    # The timeout bounds the whole call, retries included: no second try (of the mount
    # lookup, which timed out first: nothing read).
    assert proxy.lookups() == ["secret/data/app"]
    assert proxy.count() == 0


def test_missing_address_is_a_clear_error(debug_logs: pytest.LogCaptureFixture) -> None:
    failure = failure_of({"VAULT_TOKEN": SENTINEL}, "_vaultkv2:app:password")
    assert "VAULT_ADDR is not set" in str(failure.error)
    assert_clean(failure.describe(), debug_logs.text)


def test_one_approle_variable_alone_fails_every_reference() -> None:
    environ = {"VAULT_ADDR": "http://127.0.0.1:9", "VAULT_APP_ROLE_ID": SENTINEL}
    with resolver(environ) as instance:
        results = instance.check({"A": "_vaultkv2:app:k", "B": "_vaultkv1:kv1/x:k"})
    assert [result.ok for result in results] == [False, False]
    for result in results:
        assert "VAULT_APP_ROLE_SECRET_ID is not" in str(result.error)
        assert_clean(result.error)


def test_bad_reference_fails_at_parse_time() -> None:
    with resolver(token_env("http://127.0.0.1:9")) as instance:
        results = instance.check({"A": "_vaultkv2:app?version=two:k", "B": "_vaultkv1:a//b:k"})
    assert "positive integer" in str(results[0].error)
    assert "empty" in str(results[1].error)


def test_permission_denied_carries_vaults_own_text(
    bao: OpenBao, seed: Seed, debug_logs: pytest.LogCaptureFixture
) -> None:
    failure = failure_of(token_env(bao.address, seed.reader_token), "_vaultkv2:denied:password")
    assert isinstance(failure.error, envsecrets.AccessDenied)
    message = str(failure.error)
    assert "[Vault: permission denied]" in message
    assert "HTTP 403" in message
    assert_clean(message, debug_logs.text, secrets=(seed.reader_token,))


def test_unknown_mount_carries_vaults_own_text(bao: OpenBao, seed: Seed) -> None:
    # OpenBao answers the mount lookup of a path under no mount with 403, even to root.
    failure = failure_of(token_env(bao.address), "_vaultkv1:nomount/app:password")
    assert isinstance(failure.error, envsecrets.AccessDenied)
    assert "GET /v1/nomount/app while checking its mount" in str(failure.error)


def test_vault_errors_are_bounded_and_never_echo_a_credential(
    proxy: LoopbackProxy, debug_logs: pytest.LogCaptureFixture
) -> None:
    token = "s.SENTINEL-token-3f9c2a1d"
    said = f"token {token} is not allowed: " + "x" * 5000
    body = ('{"errors":["' + said + '"]}').encode()
    proxy.rule = lambda r: CannedResponse(400, body, JSON)
    failure = failure_of(token_env(proxy.url, token), "_vaultkv2:app:password")
    message = str(failure.error)
    assert "bad request (HTTP 400) [Vault: token [hidden] is not allowed" in message
    assert len(message) < 600
    assert_clean(message, debug_logs.text, secrets=(token,))


def test_trickling_server_is_bounded_by_the_timeout(debug_logs: pytest.LogCaptureFixture) -> None:
    # One byte every 0.2 s of a 4 kB answer: each read is quick, the whole
    # would take 15 minutes. The total deadline ends it, without a retry.
    with Trickler(interval=0.2) as server:
        env = token_env(server.url, SENTINEL, VAULT_HTTP_REQ_TIMEOUT="1s")
        failure = failure_of(env, "_vaultkv2:app:password")
        connections = server.connections
    _check(
        failure,
        debug_logs,
        kind=envsecrets.ProviderError,
        phrase="timed out after 1s (VAULT_HTTP_REQ_TIMEOUT)",
        path="GET /v1/secret/data/app",
        address=server.url,
    )
    assert connections == 1


def test_trickling_login_is_bounded_by_the_timeout() -> None:
    with Trickler(interval=0.2) as server:
        env = approle_env(server.url, ("role-id-1", SENTINEL), VAULT_HTTP_REQ_TIMEOUT="1s")
        failure = failure_of(env, "_vaultkv2:app:password")
    message = str(failure.error)
    assert "timed out after 1s" in message
    assert "POST /v1/auth/approle/login" in message
    assert_clean(message)


def test_crlf_in_namespace_is_refused_before_any_request(proxy: LoopbackProxy) -> None:
    env = token_env(proxy.url, VAULT_NAMESPACE="ns1\r\nX-Injected: yes")
    failure = failure_of(env, "_vaultkv2:app:password")
    assert "VAULT_NAMESPACE holds a control character" in str(failure.error)
    assert proxy.count() == 0


@pytest.mark.parametrize(
    ("reference", "route"),
    [("_vaultkv2:nomount/x:k", "nomount/data/x"), ("_vaultkv1:nomount/x:k", "nomount/x")],
)
def test_unknown_mount_is_refused_with_vaults_own_text(
    proxy: Proxy, reference: str, route: str
) -> None:
    # The mount lookup fails closed; Vault's own words follow, and nothing is read.
    failure = failure_of(token_env(proxy.url), reference)
    assert isinstance(failure.error, envsecrets.AccessDenied)
    message = str(failure.error)
    assert message.startswith(
        f"the Vault path {route} is not in a KV mount, or the token may not read it "
        "(permission denied (HTTP 403)"
    )
    assert f'grant access to path "{route}/"]: GET /v1/{route} while checking its mount' in message
    assert proxy.lookups() == [route]
    assert proxy.count() == 0


def test_vaults_echo_of_the_roles_path_is_no_credential_oracle(bao: OpenBao, seed: Seed) -> None:
    # Issue 19: a role that writes token candidates into a path must not learn which one is the
    # agent's token from where Vault's echoed text would be blanked.
    env = token_env(bao.address)
    token = env["VAULT_TOKEN"]
    messages = []
    for candidates in (f"cand-a|{token}|cand-b", "cand-a|cand-x|cand-b"):
        failure = failure_of(env, f"_vaultkv2:nomount/{candidates}:k")
        message = str(failure.error)
        assert f'grant access to path "nomount/data/{candidates}/"' in message
        assert "[hidden]" not in message
        messages.append(message.replace(candidates, "CANDIDATES"))
    assert messages[0] == messages[1]
