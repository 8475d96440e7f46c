"""A run that uses only _envjson references pays for no cloud SDK, even with
every plugin installed (the integration env installs them all)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata

import pytest

HEAVY = (
    *("boto3", "botocore", "hvac", "requests", "urllib3", "attr", "attrs", "dotenv"),
    # the TTL cache of long-lived resolvers and the editor's web stack
    *("cachetools", "starlette", "uvicorn", "jinja2", "truststore"),
)

# Runs the CLI in-process and reports sys.modules at exit (run's exec would
# replace the process, so `run` is observed through -X importtime instead).
REPORTER = """
import atexit, json, runpy, sys
atexit.register(lambda: print(json.dumps(sorted(sys.modules)), file=sys.stderr))
sys.argv = ["envsecrets", *sys.argv[1:]]
runpy.run_module("envsecrets", run_name="__main__")
"""

ENV = {"CFG": json.dumps({f"K{i}": i for i in range(20)})} | {
    f"V{i}": f"_envjson:CFG:K{i}" for i in range(20)
}


def heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY)


@pytest.fixture(autouse=True)
def every_plugin_installed() -> None:
    names = {ep.name for ep in metadata.entry_points(group="envsecrets")}
    if not {"aws", "vault", "envjson"} <= names:
        pytest.skip(f"needs every first-party plugin installed, found {sorted(names)}")


@pytest.mark.parametrize("command", [("check", "--fetch"), ("resolve", "-f", "json")])
def test_envjson_resolutions_import_no_sdk(command: tuple[str, ...]) -> None:
    result = subprocess.run(
        [sys.executable, "-c", REPORTER, *command],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"], **ENV},
        check=True,
    )
    modules = set(json.loads(result.stderr.strip().splitlines()[-1]))
    # Positive control: every plugin's entry module was loaded...
    assert {"envsecrets_envjson", "envsecrets_aws", "envsecrets_vault"} <= modules
    # ...yet no SDK came with them.
    assert heavy(modules) == []


def test_run_imports_no_sdk() -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "envsecrets", "run", "--", "true"],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"], **ENV},
        check=True,
    )
    modules = {
        line.rsplit("|", 1)[1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert "envsecrets.resolver" in modules
    assert heavy(modules) == []
