"""HTTP(S)_PROXY and NO_PROXY from the agent's environment (never from
os.environ), with the semantics of requests and curl."""

from __future__ import annotations

import pytest

from tests.vault.conftest import LOOKUP, Seed, failure_of, resolver
from testservers.openbao import OpenBao, approle_env, token_env
from testservers.ports import free_port_pair
from testservers.stubs import ForwardProxy


@pytest.mark.parametrize(
    "no_proxy", ["127.0.0.0/8", "127.0.0.1", "10.0.0.0/8,127.0.0.1/32", "*", "::1,127.0.0.0/24"]
)
def test_no_proxy_bypasses_the_proxy(bao: OpenBao, seed: Seed, no_proxy: str) -> None:
    dead_proxy = f"http://127.0.0.1:{free_port_pair()}"  # nothing listens there
    env = token_env(bao.address, HTTP_PROXY=dead_proxy, NO_PROXY=no_proxy)
    with resolver(env) as instance:
        assert instance.get("_vaultkv2:app:password") == "app-v3"


@pytest.mark.parametrize("no_proxy", ["", "10.0.0.0/8", "127.0.0.1:1", "example.com"])
def test_the_proxy_is_used_otherwise(bao: OpenBao, seed: Seed, no_proxy: str) -> None:
    dead_proxy = f"http://127.0.0.1:{free_port_pair()}"
    env = token_env(bao.address, http_proxy=dead_proxy, no_proxy=no_proxy)
    failure = failure_of(env, "_vaultkv2:app:password")
    assert "unreachable" in str(failure.error)


def test_process_environment_proxy_is_ignored(
    bao: OpenBao, seed: Seed, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Settings come from the provider's environment only.
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{free_port_pair()}")
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{free_port_pair()}")
    with resolver(token_env(bao.address)) as instance:
        assert instance.get("_vaultkv2:app:password") == "app-v3"


def test_reads_and_login_go_through_the_proxy(bao: OpenBao, seed: Seed) -> None:
    with ForwardProxy() as forward:
        env = approle_env(bao.address, seed.approle["batch"], http_proxy=forward.url)
        with resolver(env) as instance:
            assert instance.get("_vaultkv2:kv/app/db:user") == "kv-user"
        seen = [(method, url) for method, url, _ in forward.seen]
    assert seen == [
        ("POST", f"{bao.address}/v1/auth/approle/login"),
        ("GET", f"{bao.address}{LOOKUP}kv/data/app/db"),
        ("GET", f"{bao.address}/v1/kv/data/app/db"),
    ]


def test_proxy_credentials_are_sent_to_the_proxy_only(bao: OpenBao, seed: Seed) -> None:
    with ForwardProxy() as forward:
        proxy = forward.url.replace("http://", "http://agent:s3cret-proxy-pw@")
        with resolver(token_env(bao.address, HTTP_PROXY=proxy)) as instance:
            assert instance.get("_vaultkv2:app:password") == "app-v3"
        assert len(forward.seen) == 2  # the mount lookup, the read
    for _, _, headers in forward.seen:
        assert headers.get("Proxy-Authorization", "").startswith("Basic ")
