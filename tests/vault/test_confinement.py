"""Confinement: a role file cannot reach the agent's own Vault token, cubbyhole or identity.

Every refused reference fails with a message naming its path and saying it is not in a KV mount,
and the counting proxy in front of the real OpenBao server sees no request at all.
"""

from __future__ import annotations

import pytest

import envsecrets
from envsecrets_vault import VaultKV1Provider, VaultKV2Provider
from testservers.faults import Answer as CannedResponse
from testservers.openbao import OpenBao, token_env
from testservers.proxy import Proxy as LoopbackProxy

from .conftest import Proxy, Seed, failure_of, is_lookup, resolver

NEVER_READ = "(auth/, sys/, cubbyhole/, identity/, token/ are never read)"


@pytest.mark.parametrize(
    ("reference", "path", "engine"),
    [
        ("_vaultkv1:auth/token/lookup-self:id", "auth/token/lookup-self", 1),
        ("_vaultkv1:/auth/token/lookup-self:id", "auth/token/lookup-self", 1),
        ("_vaultkv1:cubbyhole/x:k", "cubbyhole/x", 1),
        ("_vaultkv1:sys/mounts:k", "sys/mounts", 1),
        ("_vaultkv1:identity/entity/id/x:k", "identity/entity/id/x", 1),
        ("_vaultkv1:token/lookup-self:id", "token/lookup-self", 1),
        ("_vaultkv2:auth/token/lookup-self:id", "auth/token/lookup-self", 2),
        ("_vaultkv2:cubbyhole/data/x:k", "cubbyhole/data/x", 2),
        ("_vaultkv2:sys/mounts:k", "sys/mounts", 2),
    ],
)
def test_vaults_own_paths_are_refused_before_any_request(
    proxy: LoopbackProxy, reference: str, path: str, engine: int
) -> None:
    failure = failure_of(token_env(proxy.url), reference)
    assert isinstance(failure.error, envsecrets.ReferenceSyntaxError)
    assert (
        str(failure.error) == f"the Vault path {path} is not in a KV v{engine} mount {NEVER_READ}"
    )
    assert f"VAR={reference}" in failure.describe()  # the core names the variable
    assert proxy.count() == 0


@pytest.mark.parametrize(
    ("reference", "path"),
    [
        ("_vaultkv1:secret/../auth/token/lookup-self:id", "secret/../auth/token/lookup-self"),
        ("_vaultkv1:a//b:k", "a//b"),
        ("_vaultkv1://auth/token/lookup-self:id", "/auth/token/lookup-self"),
        ("_vaultkv2:secret/./data/app:password", "secret/./data/app"),
    ],
)
def test_dot_and_empty_segments_are_refused_before_any_request(
    proxy: LoopbackProxy, reference: str, path: str
) -> None:
    failure = failure_of(token_env(proxy.url), reference)
    assert isinstance(failure.error, envsecrets.ReferenceSyntaxError)
    assert str(failure.error) == f"the Vault path {path} has an empty, '.' or '..' segment"
    assert proxy.count() == 0


def test_a_kv2_secret_named_like_a_root_in_the_default_mount_still_reads(
    bao: OpenBao, seed: Seed
) -> None:
    # "_vaultkv2:NAME" without "/" reads secret/data/NAME: a secret, whatever its name.
    bao.kv_put("secret", "cubbyhole", {"k": "in-kv"})
    with resolver(token_env(bao.address)) as instance:
        assert instance.get("_vaultkv2:cubbyhole:k") == "in-kv"


@pytest.mark.parametrize(
    ("provider_class", "prefix"),
    [
        (VaultKV1Provider, "cubbyhole/"),
        (VaultKV1Provider, "auth/token/"),
        (VaultKV2Provider, "sys/"),
        (VaultKV1Provider, "secret/../cubbyhole/"),
    ],
)
def test_listing_vaults_own_paths_is_refused(
    proxy: LoopbackProxy, provider_class: type[VaultKV1Provider], prefix: str
) -> None:
    provider = provider_class(token_env(proxy.url))
    try:
        with pytest.raises(envsecrets.ReferenceSyntaxError, match=r"is not in a KV v|segment"):
            provider.list_names(prefix)
    finally:
        provider.close()
    assert proxy.count() == 0


def test_kv_reads_still_work(proxy: LoopbackProxy) -> None:
    env = {
        "A": "_vaultkv1:kv1/legacy:token",
        "B": "_vaultkv2:team/kv/data/app:password",
        "C": "_vaultkv2:app:password",
        "D": "_vaultkv2:secret/app?version=1:password",
        "E": "_vaultkv2:kv/app/db:user",
    }
    with resolver(token_env(proxy.url)) as instance:
        assert instance.resolve(env) == {
            "A": "kv1-token",
            "B": "team-pass",
            "C": "app-v3",
            "D": "app-v1",
            "E": "kv-user",
        }


# -- the mount check: a lookup (GET /v1/sys/internal/ui/mounts/PATH) before the read -----------


@pytest.fixture
def transit(bao: OpenBao) -> str:
    """A non-KV engine at a KV-looking custom name (enabled once per session server)."""
    bao.request("POST", "sys/mounts/mytransit", {"type": "transit"})  # 400 if already there
    bao.api("POST", "mytransit/keys/k")
    return "mytransit"


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        (
            "_vaultkv1:secret/app:password",
            "the Vault path secret/app is not in a KV v1 mount (secret/ is KV v2: use _vaultkv2)",
        ),
        (
            "_vaultkv2:kv1/legacy:token",
            "the Vault path kv1/data/legacy is not in a KV v2 mount (kv1/ is KV v1: use _vaultkv1)",
        ),
        (
            "_vaultkv1:mytransit/keys/k:name",
            "the Vault path mytransit/keys/k is not in a KV v1 mount "
            "(mytransit/ is a transit mount)",
        ),
        (
            "_vaultkv2:mytransit/keys/k:name",
            "the Vault path mytransit/data/keys/k is not in a KV v2 mount "
            "(mytransit/ is a transit mount)",
        ),
    ],
)
def test_paths_outside_a_kv_mount_of_the_prefixs_version_are_refused_before_the_read(
    proxy: Proxy, transit: str, reference: str, message: str
) -> None:
    failure = failure_of(token_env(proxy.url), reference)
    assert type(failure.error) is envsecrets.ProviderError
    assert str(failure.error) == message
    path = message.split()[3]
    assert proxy.lookups() == [path]  # the lookup only: nothing sent to the refused path
    assert proxy.count() == 0


def test_a_namespace_written_into_the_path_is_checked_too(proxy: Proxy) -> None:
    # From the root namespace, ns1/cubbyhole/x is ns1's cubbyhole: refused like cubbyhole/x.
    failure = failure_of(token_env(proxy.url), "_vaultkv1:ns1/cubbyhole/x:k")
    assert type(failure.error) is envsecrets.ProviderError
    assert str(failure.error) == (
        "the Vault path ns1/cubbyhole/x is not in a KV v1 mount "
        "(ns1/cubbyhole/ is a ns_cubbyhole mount)"
    )
    assert proxy.lookups() == ["ns1/cubbyhole/x"]
    assert proxy.count() == 0
    # ns1's KV v2 mount, written the same way, still reads.
    with resolver(token_env(proxy.url)) as instance:
        assert instance.get("_vaultkv2:ns1/secret/data/app:password") == "ns1-pass"


@pytest.mark.parametrize("provider_class", [VaultKV1Provider, VaultKV2Provider])
def test_listing_a_non_kv_mount_is_refused(
    proxy: Proxy, transit: str, provider_class: type[VaultKV1Provider]
) -> None:
    provider = provider_class(token_env(proxy.url))
    try:
        with pytest.raises(envsecrets.ProviderError, match=r"\(mytransit/ is a transit mount\)$"):
            provider.list_names("mytransit/keys/")
    finally:
        provider.close()
    assert proxy.count() == 0


def test_listing_under_no_mount_is_refused(proxy: Proxy) -> None:
    provider = VaultKV2Provider(token_env(proxy.url))
    try:
        with pytest.raises(envsecrets.AccessDenied, match="is not in a KV mount, or the token"):
            provider.list_names("nomount/")
    finally:
        provider.close()
    assert proxy.count() == 0


def test_one_lookup_per_mount_per_resolver(proxy: Proxy) -> None:
    env = {f"V{n}": f"_vaultkv2:secret/many/s{n}:value" for n in range(5)}
    env |= {"A": "_vaultkv1:kv1/legacy:token", "B": "_vaultkv1:kv1/team/app:user"}
    proxy.delay = 0.05  # the reads overlap
    with resolver(token_env(proxy.url)) as instance:
        instance.resolve(env)
        instance.get("_vaultkv2:app:password")  # later reads of a known mount: no lookup
    assert sorted(path.partition("/")[0] for path in proxy.lookups()) == ["kv1", "secret"]
    assert proxy.count() == 8
    with resolver(token_env(proxy.url)) as instance:  # a new resolver looks up again
        instance.get("_vaultkv2:app:password")
    assert len(proxy.lookups()) == 3


@pytest.mark.parametrize(
    ("status", "body", "why"),
    [
        (404, b'{"errors":[]}', "the mount lookup is not answered"),
        (200, b"<html>", "Vault answered with something that is not a JSON object"),
    ],
)
def test_a_server_that_does_not_answer_the_lookup_fails_closed(
    proxy: Proxy, status: int, body: bytes, why: str
) -> None:
    json = {"Content-Type": "application/json"}
    proxy.rule = lambda r: CannedResponse(status, body, json) if is_lookup(r) else None
    failure = failure_of(token_env(proxy.url), "_vaultkv2:app:password")
    assert type(failure.error) is envsecrets.ProviderError
    assert str(failure.error) == (
        f"{why}: GET /v1/secret/data/app while checking its mount at Vault {proxy.url}"
    )
    assert proxy.count() == 0
