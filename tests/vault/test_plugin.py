"""Packaging: the entry point, and no hvac/requests import before a fetch."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata

import envsecrets
import envsecrets_vault


def test_entry_point_declared() -> None:
    points = {ep.name: ep.value for ep in metadata.entry_points(group="envsecrets")}
    assert points.get("vault") == "envsecrets_vault"


def test_registers_both_prefixes() -> None:
    classes = envsecrets_vault.envsecrets_providers()
    assert sorted(cls.prefix for cls in classes) == ["vaultkv1", "vaultkv2"]
    assert all(issubclass(cls, envsecrets.Provider) for cls in classes)


def test_import_does_not_load_hvac() -> None:
    code = (
        "import sys, envsecrets, envsecrets_vault\n"
        "from envsecrets_vault import provider, config, paths\n"
        "r = envsecrets.Resolver({'VAULT_ADDR': 'http://127.0.0.1:9', 'VAULT_TOKEN': 't'},"
        " plugins=[envsecrets_vault], entry_points=False)\n"
        "r.check({'A': '_vaultkv2:app:k'})\n"  # parsing builds the provider, no fetch
        "print(sorted(m for m in ('hvac', 'requests', 'urllib3') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
