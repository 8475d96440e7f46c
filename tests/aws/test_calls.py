"""Fewest calls: counted at a proxy in front of the server, not trusted from
the provider."""

# ruff: noqa: PLR0917

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

import envsecrets
import envsecrets_aws
from tests.aws.conftest import deny
from tests.support.proxy import CannedResponse, LoopbackProxy, SeenRequest

Make = Callable[..., envsecrets.Resolver]


def seed(sm: Any, names: list[str]) -> None:
    for index, name in enumerate(names):
        sm.create_secret(Name=name, SecretString=f'{{"user": "u{index}", "n": {index}}}')


def env_for(names: list[str]) -> dict[str, str]:
    env = {}
    for index, name in enumerate(names):
        env[f"USER_{index}"] = f"_aws:{name}:user"
        env[f"N_{index}"] = f"_aws:{name}:n"  # a second key: no second fetch
        env[f"WHOLE_{index}"] = f"_aws:{name}"
    return env


def expected(names: list[str]) -> dict[str, str]:
    result = {}
    for index in range(len(names)):
        result[f"USER_{index}"] = f"u{index}"
        result[f"N_{index}"] = str(index)
        result[f"WHOLE_{index}"] = f'{{"user": "u{index}", "n": {index}}}'
    return result


def through(proxy: LoopbackProxy, environ: dict[str, str], **extra: str) -> dict[str, str]:
    return {**environ, "AWS_ENDPOINT_URL": proxy.url, **extra}


@pytest.mark.parametrize(("count", "batches"), [(1, 1), (20, 1), (21, 2), (45, 3)])
def test_k_secrets_cost_ceil_k_over_20_batch_calls(
    sm: Any,
    environ: dict[str, str],
    make_resolver: Make,
    make_proxy: Any,
    unique: Any,
    count: int,
    batches: int,
) -> None:
    names = [unique(f"calls/{i}") for i in range(count)]
    seed(sm, names)
    proxy = make_proxy()
    resolver = make_resolver(through(proxy, environ))
    assert resolver.resolve(env_for(names)) == expected(names)
    assert proxy.operations() == {"BatchGetSecretValue": batches}


def test_endpoint_for_secrets_manager_wins(
    sm: Any, environ: dict[str, str], make_resolver: Make, make_proxy: Any, unique: Any
) -> None:
    names = [unique("svc")]
    seed(sm, names)
    proxy = make_proxy()
    # AWS_ENDPOINT_URL points nowhere; the service-specific one goes to the proxy.
    resolver = make_resolver(
        {
            **environ,
            "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
            "AWS_ENDPOINT_URL_SECRETS_MANAGER": proxy.url,
        }
    )
    assert resolver.resolve(env_for(names)) == expected(names)
    assert proxy.operations() == {"BatchGetSecretValue": 1}


def test_versioned_references_use_get_secret_value(
    sm: Any, environ: dict[str, str], make_resolver: Make, make_proxy: Any, unique: Any
) -> None:
    names = [unique(f"ver/{i}") for i in range(3)]
    seed(sm, names)
    for name in names:
        sm.put_secret_value(SecretId=name, SecretString='{"user": "new"}')
    proxy = make_proxy()
    env = {
        "A": f"_aws:{names[0]}:user",
        "B": f"_aws:{names[1]}:user",
        "C": f"_aws:{names[2]}?version_stage=AWSPREVIOUS:user",
        "D": f"_aws:{names[2]}?version_stage=AWSPREVIOUS:n",  # same version: one call
        "E": f"_aws:{names[0]}?version_stage=AWSCURRENT:user",
    }
    result = make_resolver(through(proxy, environ)).resolve(env)
    assert result == {"A": "new", "B": "new", "C": "u2", "D": "2", "E": "new"}
    assert proxy.operations() == {"BatchGetSecretValue": 1, "GetSecretValue": 2}


def test_only_versioned_references_make_no_batch_call(
    sm: Any, environ: dict[str, str], make_resolver: Make, make_proxy: Any, unique: Any
) -> None:
    names = [unique("onlyver")]
    seed(sm, names)
    proxy = make_proxy()
    resolver = make_resolver(through(proxy, environ))
    assert resolver.get(f"_aws:{names[0]}?version_stage=AWSCURRENT:user") == "u0"
    assert proxy.operations() == {"GetSecretValue": 1}


@pytest.mark.parametrize("count", [5, 45])
def test_fallback_when_batch_is_denied(
    sm: Any, environ: dict[str, str], make_resolver: Make, make_proxy: Any, unique: Any, count: int
) -> None:
    names = [unique(f"deny/{i}") for i in range(count)]
    seed(sm, names)
    chunks = -(-count // 20)
    # The denials wait until every chunk's batch call has arrived: the chunks
    # start together, and none may learn of the denial before the others
    # sent theirs (a chunk that starts after a denial skips the batch).
    arrived = threading.Barrier(chunks, timeout=30)
    denied = deny("BatchGetSecretValue")

    def deny_together(request: SeenRequest) -> CannedResponse | None:
        answer: CannedResponse | None = denied(request)
        if answer is not None:
            arrived.wait()
        return answer

    proxy = make_proxy(rule=deny_together)
    resolver = make_resolver(through(proxy, environ))
    assert resolver.resolve(env_for(names)) == expected(names)
    # Each chunk of the first resolution tries the batch once (concurrently,
    # so no extra round trip when it is allowed); then one Get per secret.
    assert proxy.operations() == {"BatchGetSecretValue": chunks, "GetSecretValue": count}

    proxy.reset()
    assert resolver.resolve(env_for(names)) == expected(names)
    assert proxy.operations() == {"GetSecretValue": count}  # the batch is never tried again


def test_fallback_is_per_provider_instance(
    sm: Any, environ: dict[str, str], make_resolver: Make, make_proxy: Any, unique: Any
) -> None:
    names = [unique("inst")]
    seed(sm, names)
    proxy = make_proxy(rule=deny("BatchGetSecretValue"))
    for _ in range(2):
        assert make_resolver(through(proxy, environ)).resolve(env_for(names)) == expected(names)
    assert proxy.operations() == {"BatchGetSecretValue": 2, "GetSecretValue": 2}


def test_batching_can_be_switched_off(
    sm: Any, environ: dict[str, str], make_resolver: Make, make_proxy: Any, unique: Any
) -> None:
    names = [unique(f"off/{i}") for i in range(4)]
    seed(sm, names)
    proxy = make_proxy()
    resolver = make_resolver(through(proxy, environ, ENVSECRETS_AWS_BATCH="false"))
    assert resolver.resolve(env_for(names)) == expected(names)
    assert proxy.operations() == {"GetSecretValue": 4}


def test_a_rejected_batch_is_asked_one_by_one(
    sm: Any, environ: dict[str, str], make_resolver: Make, make_proxy: Any, unique: Any
) -> None:
    names = [unique(f"inval/{i}") for i in range(2)]
    seed(sm, names)
    proxy = make_proxy(rule=deny("BatchGetSecretValue", "InvalidParameterException", "bad id"))
    resolver = make_resolver(through(proxy, environ))
    assert resolver.resolve(env_for(names)) == expected(names)
    assert resolver.resolve(env_for(names)) == expected(names)
    # Not a permission problem: batching is tried again next time.
    assert proxy.operations() == {"BatchGetSecretValue": 2, "GetSecretValue": 4}


def test_one_client_reused_across_resolutions(
    sm: Any, environ: dict[str, str], make_resolver: Make, unique: Any
) -> None:
    names = [unique("reuse")]
    seed(sm, names)
    resolver = make_resolver(environ)
    resolver.resolve(env_for(names))
    provider = resolver.provider("aws")
    client = provider._client
    assert client is not None
    resolver.resolve(env_for(names))
    assert provider._client is client


def test_client_built_once_under_concurrency(sm: Any, environ: dict[str, str], unique: Any) -> None:
    import threading

    names = [unique(f"conc/{i}") for i in range(8)]
    seed(sm, names)
    provider = envsecrets_aws.AWSProvider(environ)
    barrier = threading.Barrier(len(names))
    clients: list[object] = []
    results: list[object] = []

    def work(name: str) -> None:
        barrier.wait()
        results.append(provider.fetch(name))
        clients.append(provider._client)

    threads = [threading.Thread(target=work, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert len(results) == len(names)
    assert len({id(client) for client in clients}) == 1
    provider.close()
    with pytest.raises(envsecrets.ProviderError, match="closed"):
        provider.fetch(names[0])


def test_duplicates_and_dedupe_in_fetch_many(
    sm: Any, environ: dict[str, str], make_proxy: Any, unique: Any
) -> None:
    names = [unique("dup")]
    seed(sm, names)
    proxy = make_proxy()
    provider = envsecrets_aws.AWSProvider(through(proxy, environ))
    try:
        arn = sm.describe_secret(SecretId=names[0])["ARN"]
        result = provider.fetch_many([names[0], names[0], arn, arn.rsplit("-", 1)[0]])
        assert set(result) == {names[0], arn, arn.rsplit("-", 1)[0]}
        assert len(set(result.values())) == 1
        assert proxy.operations() == {"BatchGetSecretValue": 1}
    finally:
        provider.close()


def test_a_denied_batch_leaves_every_name_to_the_core(
    sm: Any, environ: dict[str, str], make_proxy: Any, unique: Any
) -> None:
    """With BatchGetSecretValue denied, ``fetch_many`` answers nothing and
    starts no thread; the core fetches each name with GetSecretValue on its
    own pool (one concurrency owner)."""
    names = [unique(f"each/{i}") for i in range(3)]
    seed(sm, names)
    proxy = make_proxy(rule=deny("BatchGetSecretValue"))
    provider = envsecrets_aws.AWSProvider(through(proxy, environ))
    try:
        before = {thread.ident for thread in threading.enumerate()}
        assert provider.fetch_many(names) == {}
        assert {thread.ident for thread in threading.enumerate()} <= before
    finally:
        provider.close()
    assert proxy.operations() == {"BatchGetSecretValue": 1}

    env = {f"V{i}": f"_aws:{name}:n" for i, name in enumerate(names)}
    with envsecrets.Resolver(through(proxy, environ)) as resolver:
        assert resolver.resolve(env) == {f"V{i}": str(i) for i in range(3)}
    assert proxy.operations() == {"BatchGetSecretValue": 2, "GetSecretValue": 3}
