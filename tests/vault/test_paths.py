"""The path rules: reference NAME -> API path (no server needed)."""

from __future__ import annotations

import pytest

from envsecrets import ReferenceSyntaxError
from envsecrets_vault.paths import ApiPath, kv1_path, kv2_path


@pytest.mark.parametrize(
    ("name", "api"),
    [
        ("app", "/v1/secret/data/app"),  # no "/": default mount, as the original agent
        ("secret/data/app", "/v1/secret/data/app"),  # the original agent's form
        ("custom-mount/data/app/db", "/v1/custom-mount/data/app/db"),
        ("team/kv/data/app", "/v1/team/kv/data/app"),  # nested mount, as written
        ("kv/app/db", "/v1/kv/data/app/db"),  # first segment is the mount
        ("secret/app", "/v1/secret/data/app"),
        ("/secret/data/app", "/v1/secret/data/app"),  # one leading slash trimmed
        ("kv/app/", "/v1/kv/data/app"),
        ("data/app", "/v1/data/data/app"),  # "data" as the first segment is a mount name
    ],
)
def test_kv2_paths(name: str, api: str) -> None:
    assert kv2_path(name).describe() == api


def test_kv2_version_is_a_query_parameter() -> None:
    path = kv2_path("app?version=2")
    assert path == ApiPath("secret/data/app", 2)
    assert path.url == "/v1/secret/data/app"
    assert path.params == {"version": "2"}
    assert kv2_path("kv/app/db?version=10").describe() == "/v1/kv/data/app/db?version=10"


@pytest.mark.parametrize(
    "name",
    [
        "app?version=",
        "app?version=0",
        "app?version=x",
        "app?version=-1",
        "app?version=01",
        "app?version=²",
    ],
)
def test_kv2_bad_versions(name: str) -> None:
    with pytest.raises(ReferenceSyntaxError, match="positive integer"):
        kv2_path(name)


@pytest.mark.parametrize("name", ["/", "", "kv//app", "kv/../sys/app", "./app"])
def test_bad_paths(name: str) -> None:
    with pytest.raises(ReferenceSyntaxError):
        kv2_path(name)
    with pytest.raises(ReferenceSyntaxError):
        kv1_path(name)


def test_kv1_paths() -> None:
    assert kv1_path("kv1/legacy").describe() == "/v1/kv1/legacy"
    assert kv1_path("/kv1/team/app").describe() == "/v1/kv1/team/app"
    with pytest.raises(ReferenceSyntaxError, match="no versions"):
        kv1_path("kv1/legacy?version=2")


def test_paths_are_percent_encoded() -> None:
    assert kv1_path("kv1/a b#c").url == "/v1/kv1/a%20b%23c"
