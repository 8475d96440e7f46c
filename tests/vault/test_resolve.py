"""Resolving references against a real OpenBao: paths, versions, values."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from tests.vault.conftest import Seed, resolve
from testservers.openbao import OpenBao, token_env
from testservers.proxy import Proxy as LoopbackProxy


@pytest.mark.parametrize(
    ("reference", "value"),
    [
        ("_vaultkv1:kv1/legacy:token", "kv1-token"),
        ("_vaultkv1:/kv1/legacy:token", "kv1-token"),
        ("_vaultkv1:kv1/team/app:user", "kv1-user"),
        ("_vaultkv2:app:password", "app-v3"),  # default mount, latest version
        ("_vaultkv2:secret/data/app:password", "app-v3"),  # the original agent's form
        ("_vaultkv2:secret/app:password", "app-v3"),
        ("_vaultkv2:custom-mount/data/app/db:password", "custom-pass"),
        ("_vaultkv2:team/kv/data/app:password", "team-pass"),
        ("_vaultkv2:kv/app/db:user", "kv-user"),  # first segment is the mount
        ("_vaultkv2:kv/data/app/db:password", "kv-pass"),
        ("_vaultkv2:app?version=1:password", "app-v1"),
        ("_vaultkv2:secret/data/app?version=2:password", "app-v2"),
        ("_vaultkv2:history:password", "history-v3"),
    ],
)
def test_references(bao: OpenBao, seed: Seed, reference: str, value: str) -> None:
    assert resolve(token_env(bao.address), {"VAR": reference}) == {"VAR": value}


def test_values_render_per_core_rules(bao: OpenBao, seed: Seed) -> None:
    env = {
        "PORT": "_vaultkv2:typed:port",
        "RATIO": "_vaultkv2:typed:ratio",
        "ON": "_vaultkv2:typed:enabled",
        "OFF": "_vaultkv2:typed:off",
        "NOTHING": "_vaultkv2:typed:nothing",
        "NESTED": "_vaultkv2:typed:nested",
        "POINTER": "_vaultkv2:typed:/nested/b/c",
        "ITEM": "_vaultkv2:typed:/nested/a/1",
        "KV1_PORT": "_vaultkv1:kv1/legacy:port",
        "PLAIN": "not a reference",
    }
    assert resolve(token_env(bao.address), env) == {
        "PORT": "5432",
        "RATIO": "1.5",
        "ON": "true",
        "OFF": "false",
        "NOTHING": "",
        "NESTED": '{"a":[1,2],"b":{"c":"d"}}',
        "POINTER": "d",
        "ITEM": "2",
        "KV1_PORT": "6379",
        "PLAIN": "not a reference",
    }


def test_no_key_renders_the_whole_data_object(bao: OpenBao, seed: Seed) -> None:
    result = resolve(
        token_env(bao.address), {"ALL": "_vaultkv2:app?version=2", "KV1": "_vaultkv1:kv1/legacy"}
    )
    assert result["ALL"] == '{"password":"app-v2","version":2}'
    assert json.loads(result["KV1"]) == {"token": "kv1-token", "port": 6379}
    assert " " not in result["KV1"]  # compact


def test_namespace(bao: OpenBao, seed: Seed) -> None:
    env = token_env(bao.address, VAULT_NAMESPACE="ns1")
    assert resolve(env, {"VAR": "_vaultkv2:app:password"}) == {"VAR": "ns1-pass"}
    # Without the namespace the same reference reads the root namespace.
    assert resolve(token_env(bao.address), {"VAR": "_vaultkv2:app:password"}) == {"VAR": "app-v3"}


def test_token_as_file_and_base64(bao: OpenBao, seed: Seed, tmp_path: Path) -> None:
    file = tmp_path / "token"
    file.write_text(seed.reader_token + "\n")
    encoded = base64.b64encode(seed.reader_token.encode()).decode()
    for token in (f"file://{file}", f"base64://{encoded}"):
        env = token_env(bao.address, token)
        assert resolve(env, {"VAR": "_vaultkv2:app:password"}) == {"VAR": "app-v3"}


def test_one_read_per_distinct_path(bao: OpenBao, seed: Seed, proxy: LoopbackProxy) -> None:
    proxy.delay = 0.2  # the reads overlap for sure
    env = {
        "A": "_vaultkv2:app:password",
        "B": "_vaultkv2:app:version",
        "C": "_vaultkv2:secret/data/app:password",  # same API path as A: shares its read
        "D": "_vaultkv2:app?version=1:password",
        "E": "_vaultkv1:kv1/legacy:token",
        "F": "_vaultkv1:kv1/legacy:port",
    }
    resolve(token_env(proxy.url), env)
    assert proxy.operations() == {"GET /v1/secret/data/app": 2, "GET /v1/kv1/legacy": 1}
    assert proxy.count(lambda r: r.path.endswith("?version=1")) == 1
