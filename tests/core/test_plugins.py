from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import pytest

import envsecrets
from envsecrets.plugins import load_registry
from tests.support.plugins import (
    REVERSE_PLUGIN,
    DictPlugin,
    install_fake_distribution,
    make_dict_provider,
)
from tests.support.stderr import checked


def run_cli(
    site: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(site), **(env or {})}
    done = subprocess.run(
        [sys.executable, "-m", "envsecrets", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
    )
    return checked(done, args)  # without -v: envsecrets' own words only


def test_a_third_party_provider_works_once_installed(tmp_path: Path) -> None:
    install_fake_distribution(tmp_path, "envsecrets-rev", "envsecrets_rev", REVERSE_PLUGIN, "rev")
    result = run_cli(tmp_path, "get", "_rev:olleh:value")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hello\n"
    listing = run_cli(tmp_path, "providers")
    assert "_rev" in listing.stdout
    assert "envsecrets-rev" in listing.stdout
    assert "1.2.3" in listing.stdout
    assert "Reverses its name" in listing.stdout


def test_a_plugin_that_fails_to_import_is_reported_and_only_its_prefix_fails(
    tmp_path: Path,
) -> None:
    install_fake_distribution(tmp_path, "envsecrets-rev", "envsecrets_rev", REVERSE_PLUGIN, "rev")
    install_fake_distribution(
        tmp_path,
        "envsecrets-broken",
        "envsecrets_broken",
        "raise ImportError('no sdk')\n",
        "broken",
    )
    listing = run_cli(tmp_path, "providers")
    assert listing.returncode == 1
    assert (
        "failed: plugin 'broken' (envsecrets-broken 1.2.3): ImportError: no sdk" in listing.stdout
    )
    assert "_rev" in listing.stdout
    assert run_cli(tmp_path, "get", "_rev:ba:value").stdout == "ab\n"
    failed = run_cli(tmp_path, "get", "_broken:x:y")
    assert failed.returncode == 1
    assert "no installed provider serves the prefix _broken" in failed.stderr
    assert "plugin 'broken' failed to load: ImportError: no sdk" in failed.stderr


def test_duplicate_prefixes_name_both_distributions(tmp_path: Path) -> None:
    install_fake_distribution(tmp_path, "envsecrets-rev", "envsecrets_rev", REVERSE_PLUGIN, "rev")
    install_fake_distribution(
        tmp_path, "envsecrets-rev2", "envsecrets_rev2", REVERSE_PLUGIN, "rev2"
    )
    failed = run_cli(tmp_path, "get", "_rev:x:value")
    assert failed.returncode == 1
    assert "envsecrets-rev 1.2.3" in failed.stderr
    assert "envsecrets-rev2 1.2.3" in failed.stderr
    assert "claimed by both" in failed.stderr


def test_disabled_plugins_are_not_loaded(tmp_path: Path) -> None:
    install_fake_distribution(tmp_path, "envsecrets-rev", "envsecrets_rev", REVERSE_PLUGIN, "rev")
    env = {"ENVSECRETS_DISABLE_PLUGINS": "other, rev"}
    failed = run_cli(tmp_path, "get", "_rev:x:value", env=env)
    assert failed.returncode == 1
    assert "plugin 'rev' is disabled by ENVSECRETS_DISABLE_PLUGINS" in failed.stderr
    assert "disabled: plugin 'rev'" in run_cli(tmp_path, "providers", env=env).stdout


def test_plugins_are_not_loaded_at_import_time(tmp_path: Path) -> None:
    install_fake_distribution(
        tmp_path, "envsecrets-rev", "envsecrets_rev", "raise SystemExit('imported!')\n", "rev"
    )
    code = "import envsecrets, sys; print('envsecrets_rev' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(tmp_path)},
    )
    assert result.stdout.strip() == "False", result.stderr


def test_unknown_first_party_prefixes_name_their_distribution() -> None:
    registry = load_registry(environ={}, entry_points=False)
    for prefix, dist in [
        ("vaultkv2", "envsecrets-vault"),
        ("vaultkv1", "envsecrets-vault"),
        ("aws", "envsecrets-aws"),
        ("envjson", "envsecrets-envjson"),
    ]:
        with pytest.raises(envsecrets.ProviderNotInstalled, match=f"pip install {dist}"):
            registry.get(prefix)
    with pytest.raises(envsecrets.ProviderNotInstalled) as info:
        registry.get("custom")
    assert "pip install" not in str(info.value)


@pytest.mark.parametrize(
    ("provided", "reason"),
    [
        ([object], "not a subclass of envsecrets.Provider"),
        ([type("Bad", (envsecrets.Provider,), {"prefix": "Bad"})], "must match"),
        ([type("NoPrefix", (envsecrets.Provider,), {})], "must match"),
    ],
)
def test_bad_provider_classes_are_reported_as_plugin_failures(
    provided: list[type], reason: str
) -> None:
    class Plugin:
        @envsecrets.hookimpl
        def envsecrets_providers(self) -> list[type]:
            return provided

    registry = load_registry(environ={}, plugins=[Plugin()], entry_points=False)
    assert not registry.providers
    assert len(registry.failures) == 1
    assert reason in registry.failures[0].reason


def test_a_plugin_may_register_several_prefixes() -> None:
    first, second = make_dict_provider({}, "one"), make_dict_provider({}, "two")
    registry = load_registry(environ={}, plugins=[DictPlugin(first, second)], entry_points=False)
    assert registry.get("one").provider_class is first
    assert registry.get("two").provider_class is second


def test_providers_are_built_lazily_once_per_resolver() -> None:
    built: list[str] = []

    class Counting(envsecrets.Provider):
        prefix = "count"

        def __init__(self, environ: object) -> None:
            super().__init__(environ)  # type: ignore[arg-type]
            built.append("x")

        def fetch(self, name: str) -> str:
            return name

    resolver = envsecrets.Resolver({}, plugins=[DictPlugin(Counting)], entry_points=False)
    assert built == []
    assert resolver.resolve({"A": "plain"}) == {"A": "plain"}
    assert built == []
    resolver.resolve({"A": "_count:a", "B": "_count:b"})
    resolver.resolve({"A": "_count:c"})
    assert built == ["x"]


def test_providers_of_one_plugin_share_state_within_one_resolver() -> None:
    made = itertools.count()

    class First(envsecrets.Provider):
        prefix = "first"

        def fetch(self, name: str) -> str:
            # A serial number per created client (ids could be reused).
            return str(self.shared.get_or_create("client", lambda: next(made)))

    class Second(First):
        prefix = "second"

    class Other(First):
        prefix = "other"

    env = {"A": "_first:x", "B": "_second:x", "C": "_other:x"}
    plugins = [DictPlugin(First, Second), DictPlugin(Other)]
    one = envsecrets.Resolver({}, plugins=plugins, entry_points=False).resolve(env)
    two = envsecrets.Resolver({}, plugins=plugins, entry_points=False).resolve(env)
    assert one["A"] == one["B"]  # same plugin, same resolver: one client
    assert one["C"] != one["A"]  # another plugin: its own
    assert two["A"] != one["A"]  # another resolver: its own
