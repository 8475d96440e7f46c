"""Redaction audit: sentinel secrets in every backend (envjson, moto,
OpenBao), every CLI command and every error path at -vv. A sentinel appears
only where the user asked for values: the child of ``run``, the output of
``resolve`` and ``get``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import SENTINEL, assert_no_sentinel
from tests.faults.conftest import (
    AWS_SECRETS,
    ENVJSON_CONFIG,
    VAULT_SECRETS,
    Servers,
    aws_environ,
    marker_command,
    run_cli,
)

REFERENCES = {
    **{
        variable: reference for variable, (reference, _) in {**AWS_SECRETS, **VAULT_SECRETS}.items()
    },
    "JSON_PASS": "_envjson:CONFIG:password",
}
VALUES = {
    **{variable: value for variable, (_, value) in {**AWS_SECRETS, **VAULT_SECRETS}.items()},
    "JSON_PASS": SENTINEL + "-envjson",
}


@pytest.fixture
def environ(servers: Servers, tmp_path: Path) -> dict[str, str]:
    # A token that may read nothing: "permission denied" paths.
    denied = servers.bao.create_token(policies=["default"])
    return {
        **aws_environ(servers.moto_url, tmp_path),
        "VAULT_ADDR": servers.bao.address,
        "VAULT_TOKEN": "root",
        "CONFIG": ENVJSON_CONFIG,
        "DENIED_TOKEN": denied,
    }


def test_value_commands_show_values_only_on_stdout(environ: dict[str, str], tmp_path: Path) -> None:
    env = {**environ, **REFERENCES}
    for fmt in ("dotenv", "json", "shell"):
        result = run_cli("-vv", "resolve", "-f", fmt, env=env, cwd=tmp_path)
        assert result.returncode == 0, result.stderr[-2000:]
        assert "DEBUG" in result.stderr
        assert_no_sentinel(result.stderr)
        for value in VALUES.values():
            assert value in result.stdout
    output = tmp_path / "out.env"
    result = run_cli("-vv", "resolve", "-o", str(output), env=env, cwd=tmp_path)
    assert result.returncode == 0
    assert_no_sentinel(result.stdout, result.stderr)
    assert all(value in output.read_text() for value in VALUES.values())
    for variable, reference in REFERENCES.items():
        result = run_cli("-vv", "get", reference, env=environ, cwd=tmp_path)
        assert result.returncode == 0, result.stderr[-2000:]
        assert result.stdout == VALUES[variable] + "\n"
        assert_no_sentinel(result.stderr)
    marker = tmp_path / "started"
    result = run_cli("-vv", "run", "--", *marker_command(marker), env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert_no_sentinel(result.stderr)
    child = json.loads(result.stdout)
    assert {variable: child["env"][variable] for variable in VALUES} == VALUES


def test_commands_that_show_no_values(environ: dict[str, str], tmp_path: Path) -> None:
    env = {**environ, **REFERENCES}
    for args in (("check",), ("check", "--fetch"), ("providers",)):
        result = run_cli("-vv", *args, env=env, cwd=tmp_path)
        assert result.returncode == 0, result.stderr[-2000:]
        # CONFIG itself holds a sentinel but is no reference: never printed.
        assert_no_sentinel(result.stdout, result.stderr)
    result = run_cli("-vv", "check", "--fetch", env=env, cwd=tmp_path)
    assert f"{len(REFERENCES)} of {len(REFERENCES)} references fetched OK" in result.stdout


ERRORS = {
    # variable: a failing reference to a secret that exists and holds a sentinel
    "AWS_NO_KEY": "_aws:faults/app:nokey",
    "AWS_WHOLE_AS_KEYED": "_aws:faults/app:password:extra",
    "AWS_MISSING": "_aws:faults/missing:password",
    "VAULT_NO_KEY": "_vaultkv2:secret/faults/app:nokey",
    "VAULT_KV1_AS_KV2": "_vaultkv2:kv1/faults/db:password",
    "VAULT_MISSING": "_vaultkv2:secret/faults/missing:password",
    "JSON_NO_KEY": "_envjson:CONFIG:nokey",
    "JSON_POINTER": "_envjson:CONFIG:/password/0",
    "JSON_NOT_OBJECT": "_envjson:JSON_PASS_TEXT:k",
    "UNKNOWN": "_nosuch:faults/app:password",
    "BAD_SYNTAX": "_aws::password",
}


@pytest.mark.parametrize("command", ["run", "resolve", "check --fetch", "get"])
def test_every_error_path_is_silent_about_values(
    environ: dict[str, str], tmp_path: Path, command: str
) -> None:
    env = {**environ, **ERRORS, "JSON_PASS_TEXT": SENTINEL + " not json"}
    marker = tmp_path / "started"
    if command == "get":
        results = [
            run_cli(
                "-vv",
                "get",
                reference,
                env=environ | {"JSON_PASS_TEXT": env["JSON_PASS_TEXT"]},
                cwd=tmp_path,
            )
            for reference in ERRORS.values()
        ]
        for result in results:
            assert result.returncode in {1, 2}
    else:
        args = command.split()
        if command == "run":
            args += ["--", *marker_command(marker)]
        results = [run_cli("-vv", *args, env=env, cwd=tmp_path)]
        assert results[0].returncode == 1
        for variable in ERRORS:
            assert variable in results[0].stdout + results[0].stderr
    assert not marker.exists()
    for result in results:
        assert "Traceback" not in result.stderr
        assert_no_sentinel(result.stdout, result.stderr)


def test_denied_and_unreachable_paths_are_silent(environ: dict[str, str], tmp_path: Path) -> None:
    denied = {**environ, "VAULT_TOKEN": environ["DENIED_TOKEN"], **REFERENCES}
    result = run_cli("-vv", "resolve", env=denied, cwd=tmp_path)
    assert result.returncode == 1
    assert "permission denied (HTTP 403)" in result.stderr
    # resolve prints nothing on failure, not even plain values.
    assert result.stdout == ""
    assert_no_sentinel(result.stderr)
    assert environ["DENIED_TOKEN"] not in result.stderr
