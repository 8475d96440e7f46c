"""The process-wide client cache: resolvers with the same settings share one
botocore client (and its kept-alive connections); other settings get
another; closing a resolver leaves the shared client to the others."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

import envsecrets
import envsecrets_aws
from envsecrets_aws import provider as aws_provider
from envsecrets_aws.settings import Settings
from testservers.moto import moto_environ

Make = Callable[..., envsecrets.Resolver]


@pytest.fixture(scope="module")
def config_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    empty = tmp_path_factory.mktemp("client-cache") / "aws-config"
    empty.write_text("")
    return str(empty)


@pytest.fixture
def environ(moto_url: str, config_file: str) -> dict[str, str]:
    """The conftest's environ, but one config file for the whole module: a
    botocore session per config file is ~28,000 objects kept for the life of
    the process, which slows every later full garbage collection."""
    return moto_environ(
        moto_url, AWS_CONFIG_FILE=config_file, AWS_SHARED_CREDENTIALS_FILE=config_file
    )


@pytest.fixture(scope="module", autouse=True)
def _drop_sessions() -> Iterator[None]:
    yield
    # This module's sessions (one per config file) are not kept for later tests.
    aws_provider._botocore_session.cache_clear()


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    aws_provider._client_for.cache_clear()
    yield
    aws_provider._client_for.cache_clear()


def cached_clients() -> int:
    return aws_provider._client_for.cache_info().currsize


def client_of(resolver: envsecrets.Resolver) -> Any:
    provider = resolver.provider("aws")
    assert isinstance(provider, envsecrets_aws.AWSProvider)
    return provider._get_client()


def seeded(sm: Any, name: str, value: str = "v") -> dict[str, str]:
    sm.create_secret(Name=name, SecretString=f'{{"user": "{value}"}}')
    return {"USER": f"_aws:{name}:user"}


def test_settings_are_hashable_and_keep_credentials_out_of_repr(environ: dict[str, str]) -> None:
    secret = "SENTINEL-secret-access-key"
    settings = Settings.from_environ({**environ, "AWS_SECRET_ACCESS_KEY": secret})
    assert hash(settings) == hash(
        Settings.from_environ({**environ, "AWS_SECRET_ACCESS_KEY": secret})
    )
    provider = envsecrets_aws.AWSProvider({**environ, "AWS_SECRET_ACCESS_KEY": secret})
    try:
        provider._get_client()
        assert cached_clients() == 1
        # The cache key is the Settings: its repr, the cache's and the
        # provider's show no credential.
        assert secret not in repr(settings)
        assert secret not in repr(aws_provider._client_for.cache_info())
        assert secret not in repr(provider)
    finally:
        provider.close()


def test_two_resolvers_with_the_same_environ_share_one_client(
    sm: Any, environ: dict[str, str], make_resolver: Make, unique: Any
) -> None:
    env = seeded(sm, unique("shared"), "alice")
    first, second = make_resolver(dict(environ)), make_resolver(dict(environ))
    assert first.resolve(env) == {"USER": "alice"}
    assert second.resolve(env) == {"USER": "alice"}
    assert first.provider("aws") is not second.provider("aws")
    assert client_of(first) is client_of(second)
    assert cached_clients() == 1


@pytest.mark.parametrize(
    "change",
    [
        {"AWS_REGION": "eu-west-1"},
        {"AWS_ACCESS_KEY_ID": "other", "AWS_SECRET_ACCESS_KEY": "other"},
        {"AWS_SESSION_TOKEN": "token"},
        {"AWS_ENDPOINT_URL": "http://127.0.0.1:9"},
        {"AWS_CA_BUNDLE": "/nonexistent/ca.pem"},
        {"ENVSECRETS_AWS_READ_TIMEOUT": "7"},
        {"ENVSECRETS_AWS_MAX_ATTEMPTS": "1"},
        {"ENVSECRETS_AWS_BATCH": "false"},
    ],
    ids=lambda change: next(iter(change)),
)
def test_other_settings_get_another_client(
    environ: dict[str, str], make_resolver: Make, change: dict[str, str]
) -> None:
    base = client_of(make_resolver(dict(environ)))
    other = client_of(make_resolver({**environ, **change}))
    assert other is not base
    assert client_of(make_resolver(dict(environ))) is base
    assert cached_clients() == 2
    if "AWS_REGION" in change:
        assert (base.meta.region_name, other.meta.region_name) == ("us-east-1", "eu-west-1")
    if "AWS_ENDPOINT_URL" in change:
        assert other.meta.endpoint_url == "http://127.0.0.1:9"
        assert base.meta.endpoint_url == environ["AWS_ENDPOINT_URL"]
    if "AWS_ACCESS_KEY_ID" in change:
        assert other._request_signer._credentials.access_key == "other"
        assert base._request_signer._credentials.access_key == environ["AWS_ACCESS_KEY_ID"]


def test_closing_one_resolver_leaves_the_shared_client_to_another(
    sm: Any,
    environ: dict[str, str],
    make_resolver: Make,
    unique: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    name = unique("survivor")
    env = seeded(sm, name, "bob")
    first, second = make_resolver(dict(environ)), make_resolver(dict(environ))
    assert first.resolve(env) == {"USER": "bob"}
    client = client_of(first)
    closed: list[bool] = []
    monkeypatch.setattr(client, "close", lambda: closed.append(True))
    closed_provider = first.provider("aws")
    first.close()
    assert closed == []
    # The closed provider refuses to fetch...
    with pytest.raises(envsecrets.ProviderError, match="closed"):
        closed_provider.fetch(name)
    assert getattr(closed_provider, "_client", None) is None
    # ...while the second resolver reuses the same, still open, client.
    assert second.resolve(env) == {"USER": "bob"}
    assert client_of(second) is client
    assert closed == []


def test_least_recently_used_client_is_evicted_not_closed(
    environ: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    limit = aws_provider.MAX_CLIENTS
    regions = [f"us-test-{index}" for index in range(limit + 1)]

    def provider_in(region: str) -> envsecrets_aws.AWSProvider:
        return envsecrets_aws.AWSProvider({**environ, "AWS_REGION": region})

    providers = [provider_in(region) for region in regions]
    try:
        clients = [provider._get_client() for provider in providers[:limit]]
        first, second, third = clients[:3]
        assert cached_clients() == limit
        closed: list[bool] = []
        monkeypatch.setattr(second, "close", lambda: closed.append(True))
        # Use the first again: the second is now the least recently used.
        assert provider_in(regions[0])._get_client() is first
        providers[limit]._get_client()
        assert cached_clients() == limit
        assert closed == []  # evicted, not closed: providers[1] still holds it
        assert providers[1]._get_client() is second
        again = provider_in(regions[1])
        assert again._get_client() is not second
        # That evicted the third, now the least recently used; the first,
        # used since, is kept.
        assert cached_clients() == limit
        assert provider_in(regions[0])._get_client() is first
        assert provider_in(regions[2])._get_client() is not third
    finally:
        for provider in providers:
            provider.close()


def test_an_endpoint_only_os_environ_names_is_part_of_the_key(
    environ: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    agent = {key: value for key, value in environ.items() if key != "AWS_ENDPOINT_URL"}
    plain = envsecrets_aws.AWSProvider(agent)._get_client()
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    ignoring = envsecrets_aws.AWSProvider(agent)._get_client()
    assert ignoring is not plain
    # Either way the agent's environment, which names no endpoint, wins.
    assert plain.meta.endpoint_url == ignoring.meta.endpoint_url
    assert "127.0.0.1:9" not in ignoring.meta.endpoint_url
