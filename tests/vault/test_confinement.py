"""Confinement: a role file cannot reach the agent's own Vault token, cubbyhole or identity.

Every refused reference fails with a message naming its path and saying it is not in a KV mount,
and the counting proxy in front of the real OpenBao server sees no request at all.
"""

from __future__ import annotations

import pytest

import envsecrets
from envsecrets_vault import VaultKV1Provider, VaultKV2Provider
from testservers.openbao import OpenBao, token_env
from testservers.proxy import Proxy as LoopbackProxy

from .conftest import Seed, failure_of, resolver

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
