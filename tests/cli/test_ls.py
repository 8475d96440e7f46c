"""`envsecrets ls`: names and keys, never values (issue 13), with _envjson."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Runner
from tests.conftest import SENTINEL, assert_no_sentinel
from tests.support.plugins import REVERSE_PLUGIN, install_fake_distribution

DOC = json.dumps(
    {"PASS": SENTINEL, "PORT": 5432, "TLS": True, "NONE": None, "NESTED": {"a": 1}, "LIST": [1]}
)


def test_ls_lists_the_variables_that_hold_json_objects(cli: Runner) -> None:
    env = {"APP_CFG": DOC, "APP_OTHER": '{"x": 1}', "APP_TEXT": "plain", "ZZ": "{}"}
    result = cli("ls", "_envjson:APP_", "-vv", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["APP_CFG", "APP_OTHER"]
    assert_no_sentinel(result.stdout, result.stderr)


def test_ls_with_a_trailing_colon_lists_keys_and_types(cli: Runner) -> None:
    result = cli("ls", "envjson:APP_CFG:", "-vv", env={"APP_CFG": DOC})
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()]
    assert rows == [
        ["LIST", "array"],
        ["NESTED", "object"],
        ["NONE", "null"],
        ["PASS", "string"],
        ["PORT", "number"],
        ["TLS", "boolean"],
    ]
    assert_no_sentinel(result.stdout, result.stderr)


def test_ls_json_format_and_limit(cli: Runner) -> None:
    env = {f"CFG_{index}": "{}" for index in range(5)}
    result = cli("ls", "_envjson:CFG_", "--format", "json", "--limit", "3", env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "names": ["CFG_0", "CFG_1", "CFG_2"],
        "truncated": True,
    }
    assert "only the first 3 shown" in result.stderr
    keys = cli("ls", "_envjson:CFG_0:", "-f", "json", env={"CFG_0": DOC})
    assert {"key": "PASS", "type": "string"} in json.loads(keys.stdout)["keys"]
    assert_no_sentinel(keys.stdout)


def test_ls_of_a_missing_secret_fails_with_1(cli: Runner) -> None:
    result = cli("ls", "_envjson:NOPE:")
    assert result.returncode == 1
    assert "NOPE is not set" in result.stderr


def test_ls_usage_errors_exit_2(cli: Runner, tmp_path: Path) -> None:
    assert cli("ls", "not a target").returncode == 2
    unknown = cli("ls", "_nosuch:")
    assert unknown.returncode == 2
    assert "no installed provider serves the prefix _nosuch" in unknown.stderr
    site = tmp_path / "site"
    site.mkdir()
    install_fake_distribution(site, "envsecrets-rev", "envsecrets_rev", REVERSE_PLUGIN)
    cannot = cli("ls", "_rev:", env={"PYTHONPATH": str(site)})
    assert cannot.returncode == 2
    assert "cannot list" in cannot.stderr
