"""VAULT_HTTP_REQ_TIMEOUT bounds each call as a whole, seen from a resolver:
retries end with the budget, a call that ended in time leaves its kept-alive
connection usable, and concurrent calls each have their own budget.

(The trickling-server cases are in test_errors.py.)"""

from __future__ import annotations

import threading
import time

import envsecrets
from tests.vault.conftest import Proxy, Seed, failure_of, resolver
from tests.vault.test_http_behaviour import MOUNT, Scripted, answer
from testservers.faults import Answer as CannedResponse
from testservers.openbao import token_env
from testservers.proxy import Proxy as LoopbackProxy

JSON = {"Content-Type": "application/json"}


def test_retries_end_with_the_budget(seed: Seed, proxy: Proxy) -> None:
    # Each 503 takes 0.3 s: a second attempt starts at once, the budget
    # (0.5 s) ends it, and no third one goes out.
    proxy.delay = 0.3
    proxy.rule = lambda r: CannedResponse(503, b'{"errors":[]}', JSON)
    env = token_env(proxy.url, VAULT_HTTP_REQ_TIMEOUT="500ms")
    started = time.monotonic()
    failure = failure_of(env, "_vaultkv2:app:password")
    elapsed = time.monotonic() - started
    assert isinstance(failure.error, envsecrets.ProviderError)
    assert "timed out after 0.5s (VAULT_HTTP_REQ_TIMEOUT)" in str(failure.error)
    assert "GET /v1/secret/data/app while checking its mount" in str(failure.error)
    assert proxy.lookups() == ["secret/data/app"] * 2  # the mount lookup failed: no read
    assert proxy.count() == 0
    assert elapsed < 2.0  # not 4 attempts with backoff


def test_a_call_that_ended_in_time_leaves_its_connection_usable() -> None:
    # The first read ends well within its budget; the second one, later than
    # that budget would have ended, uses the same kept-alive connection.
    server = Scripted([[MOUNT, answer("one"), answer("two")]])
    try:
        with resolver(token_env(server.url, VAULT_HTTP_REQ_TIMEOUT="300ms")) as instance:
            assert instance.get("_vaultkv2:s1:password") == "one"
            time.sleep(0.5)
            assert instance.get("_vaultkv2:s2:password") == "two"
        assert server.connections == 1
    finally:
        server.close()


def test_concurrent_calls_each_have_their_own_budget(seed: Seed, proxy: LoopbackProxy) -> None:
    # Five reads of 0.6 s each, together, under a budget of 1 s per call:
    # all succeed (the budget is per call, not shared).
    proxy.delay = 0.6
    env = token_env(proxy.url, VAULT_HTTP_REQ_TIMEOUT="1s")
    references = {f"V{n}": f"_vaultkv2:secret/many/s{n}:value" for n in range(5)}
    results: list[dict[str, str]] = []
    with resolver(env) as instance:
        thread = threading.Thread(target=lambda: results.append(instance.resolve(references)))
        thread.start()
        thread.join(timeout=30)
    assert results == [{f"V{n}": f"many-{n}" for n in range(5)}]
    assert proxy.count() == 5
