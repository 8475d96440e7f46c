"""A run that uses only _envjson references pays for no cloud SDK, even with
every plugin installed (the integration env installs them all)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata

import pytest

HEAVY = ("boto3", "botocore", "hvac", "requests", "urllib3", "attr", "dotenv")


def imported_modules(*args: str, env: dict[str, str]) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "envsecrets", *args],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"], **env},
        check=True,
    )
    names = set()
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    return names


def test_every_plugin_is_installed_here() -> None:
    names = {ep.name for ep in metadata.entry_points(group="envsecrets")}
    if not {"aws", "vault", "envjson"} <= names:
        pytest.skip(f"needs every first-party plugin installed, found {sorted(names)}")


@pytest.mark.parametrize("command", [("run", "--", "true"), ("check", "--fetch")])
def test_envjson_runs_import_no_sdk(command: tuple[str, ...]) -> None:
    env = {"CFG": json.dumps({f"K{i}": i for i in range(20)})}
    env.update({f"V{i}": f"_envjson:CFG:K{i}" for i in range(20)})
    modules = imported_modules(*command, env=env)
    assert "envsecrets_envjson" in modules
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    assert heavy == []
