"""Discovery: list_names on both providers against OpenBao (LIST on the
KV v2 metadata/ path with the _vaultkv2 mount rule, LIST on the KV v1 path),
names only, a policy without `list` refused clearly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import envsecrets
from envsecrets_vault import VaultKV1Provider, VaultKV2Provider
from tests.conftest import SENTINEL
from tests.support.stderr import checked
from tests.vault.conftest import MANY, Seed, assert_clean, resolver
from testservers.openbao import OpenBao, token_env

NO_LIST_POLICY = """
path "kv/data/*" { capabilities = ["read"] }
path "kv/metadata/*" { capabilities = ["deny"] }
"""


def _names(
    provider_class: type[envsecrets.Provider], environ: dict[str, str], prefix: str
) -> list[str]:
    provider = provider_class(environ)
    try:
        return list(provider.list_names(prefix))
    finally:
        provider.close()


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("kv/app/", ["kv/app/db"]),
        ("kv/app/d", ["kv/app/db"]),
        ("kv/app/x", []),
        ("custom-mount/app/", ["custom-mount/app/db"]),
        ("team/kv/data/", ["team/kv/data/app"]),  # the form written out keeps its mount
        ("secret/many/s1", ["secret/many/s1"] + [f"secret/many/s{n}" for n in range(10, 20)]),
    ],
)
def test_kv2_names(bao: OpenBao, seed: Seed, prefix: str, expected: list[str]) -> None:
    assert _names(VaultKV2Provider, token_env(bao.address), prefix) == sorted(expected)


def test_kv2_top_level(bao: OpenBao, seed: Seed) -> None:
    names = _names(VaultKV2Provider, token_env(bao.address), "")
    # The default mount's secrets bare (as "_vaultkv2:app" reads them), its
    # folders in full, the other KV v2 mounts as folders.
    assert {"app", "typed", "secret/many/", "kv/", "custom-mount/", "team/kv/data/"} <= set(names)
    assert "kv1/" not in names  # KV v1
    assert names == sorted(names)
    assert _names(VaultKV2Provider, token_env(bao.address), "ty") == ["typed"]


def test_listed_names_resolve(bao: OpenBao, seed: Seed) -> None:
    names = _names(VaultKV2Provider, token_env(bao.address), "secret/many/")
    assert len(names) == MANY
    env = {f"V{n}": f"_vaultkv2:{name}:value" for n, name in enumerate(names)}
    with resolver(token_env(bao.address)) as instance:
        values = instance.resolve(env)
    assert sorted(values.values()) == sorted(f"many-{n}" for n in range(MANY))


def test_kv1_names(bao: OpenBao, seed: Seed) -> None:
    environ = token_env(bao.address)
    assert {"kv1/legacy", "kv1/team/"} <= set(_names(VaultKV1Provider, environ, "kv1/"))
    assert _names(VaultKV1Provider, environ, "kv1/team/") == ["kv1/team/app"]
    assert _names(VaultKV1Provider, environ, "kv1/nothing/") == []
    top = _names(VaultKV1Provider, environ, "")
    assert "kv1/" in top
    assert "kv/" not in top  # KV v2


def test_through_the_resolver(bao: OpenBao, seed: Seed) -> None:
    with resolver(token_env(bao.address)) as instance:
        listing = instance.list_names("vaultkv2", "kv/app/")
    assert listing.names == ["kv/app/db"]
    assert not listing.truncated


def test_list_denied_by_policy(
    bao: OpenBao, seed: Seed, debug_logs: pytest.LogCaptureFixture
) -> None:
    bao.put_policy("no-list", NO_LIST_POLICY)
    token = bao.create_token(policies=["no-list"])
    environ = token_env(bao.address, token)
    with pytest.raises(envsecrets.AccessDenied) as caught:
        _names(VaultKV2Provider, environ, "kv/app/")
    message = str(caught.value)
    assert "permission denied (HTTP 403)" in message
    assert "LIST /v1/kv/metadata/app/" in message
    assert "'list' capability" in message
    assert bao.address in message
    assert_clean(message, repr(caught.value), debug_logs.text, secrets=(token,))
    # Reading is still allowed: only listing is refused.
    with resolver(environ) as instance:
        assert instance.get("_vaultkv2:kv/app/db:user") == "kv-user"


def test_listing_shows_names_never_values(
    bao: OpenBao, seed: Seed, debug_logs: pytest.LogCaptureFixture
) -> None:
    names = _names(VaultKV2Provider, token_env(bao.address), "")
    assert "denied" in names  # its value is a sentinel
    assert_clean(" ".join(names), debug_logs.text)


def _ls(environ: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ["PATH"], **environ}
    done = subprocess.run(
        [sys.executable, "-m", "envsecrets", "ls", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return checked(done, args)  # without -v: envsecrets' own words only


def test_envsecrets_ls_names_and_keys(bao: OpenBao, seed: Seed, tmp_path: Path) -> None:
    environ = token_env(bao.address, seed.reader_token, HOME=str(tmp_path))
    bao.put_policy("lister", 'path "secret/*" { capabilities = ["read", "list"] }')
    environ["VAULT_TOKEN"] = bao.create_token(policies=["lister"])
    names = _ls(environ, "_vaultkv2:secret/many/s2")
    assert names.returncode == 0, names.stderr
    assert "secret/many/s2" in names.stdout.split()
    # The keys of a secret whose value is a sentinel: names and types only.
    keys = _ls(environ, "_vaultkv2:denied:")
    assert keys.returncode == 0, keys.stderr
    assert "password" in keys.stdout
    assert SENTINEL not in keys.stdout + keys.stderr
    assert environ["VAULT_TOKEN"] not in keys.stdout + keys.stderr


def test_envsecrets_ls_refused_by_policy(bao: OpenBao, seed: Seed, tmp_path: Path) -> None:
    environ = token_env(bao.address, seed.reader_token, HOME=str(tmp_path))
    done = _ls(environ, "_vaultkv2:kv/app/")
    assert done.returncode == 1
    assert "permission denied (HTTP 403)" in done.stderr
    assert "'list' capability" in done.stderr
    assert seed.reader_token not in done.stderr
