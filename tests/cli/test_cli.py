from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from dotenv import dotenv_values

from tests.cli.conftest import Runner
from tests.conftest import SENTINEL, assert_no_sentinel

CONFIG = json.dumps({"PG_PORT": 5432, "PG_PASS": SENTINEL, "RATIO": 1.5, "FLAG": True})
PRINT_ENV = (
    "import os, json; print(json.dumps({k: os.environ.get(k) for k in ('PORT', 'PASS', 'PLAIN')}))"
)
TRICKY = "a'b\"c $HOME ${HOME} `x` \\n back\\slash\nnew line\ttab é ☺ #hash"


def child(*code: str) -> list[str]:
    return [sys.executable, "-c", *code]


def test_run_expands_references_and_execs_the_command(cli: Runner) -> None:
    env = {
        "CFG": CONFIG,
        "PORT": "_envjson:CFG:PG_PORT",
        "PASS": "_envjson:CFG:PG_PASS",
        "PLAIN": "x",
    }
    result = cli("run", "--", *child(PRINT_ENV), env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"PORT": "5432", "PASS": SENTINEL, "PLAIN": "x"}
    assert result.stderr == ""


def test_run_passes_arguments_and_exit_status_through(cli: Runner) -> None:
    result = cli(
        "run", "--", *child("import sys; print(sys.argv[1:]); sys.exit(7)", "--flag", "two words")
    )
    assert result.returncode == 7
    assert result.stdout.strip() == "['--flag', 'two words']"


def test_run_reads_env_files_and_their_plain_values(cli: Runner, tmp_path: Path) -> None:
    first = tmp_path / "first.env"
    first.write_text(f"CFG='{CONFIG}'\nPORT=_envjson:CFG:PG_PORT\nPLAIN=from-first\n")
    second = tmp_path / "second.env"
    second.write_text('PLAIN=from-second\n# comment\nPASS="_envjson:CFG:PG_PASS"\n')
    result = cli(
        "run",
        "-e",
        str(first),
        "--env-file",
        str(second),
        "--",
        *child(PRINT_ENV),
        env={"PLAIN": "from-env"},
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"PORT": "5432", "PASS": SENTINEL, "PLAIN": "from-second"}


def test_run_never_starts_the_command_when_a_reference_fails(cli: Runner, tmp_path: Path) -> None:
    marker = tmp_path / "started"
    env = {
        "CFG": CONFIG,
        "PASS": "_envjson:CFG:PG_PASS",
        "BAD": "_envjson:CFG:nope",
        "GONE": "_nosuch:app:pw",
    }
    result = cli("-vv", "run", "--", *child(f"open({str(marker)!r}, 'w')"), env=env)
    assert result.returncode == 1
    assert not marker.exists()
    assert "2 references could not be resolved" in result.stderr
    assert "BAD=_envjson:CFG:nope: the secret has no key 'nope'" in result.stderr
    assert "GONE=_nosuch:app:pw: no installed provider serves the prefix _nosuch" in result.stderr
    assert_no_sentinel(result.stdout, result.stderr)


def test_run_exit_codes_for_commands_that_cannot_start(cli: Runner, tmp_path: Path) -> None:
    missing = cli("run", "--", "no-such-command-xyz", env={"PASS": "_envjson:CFG:x"})
    assert missing.returncode == 127
    assert "command not found: no-such-command-xyz" in missing.stderr
    script = tmp_path / "script"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o600)
    denied = cli("run", "--", str(script))
    assert denied.returncode in {126, 127}
    script.chmod(0o700)
    bad_interpreter = tmp_path / "bad"
    bad_interpreter.write_text("#!/nonexistent/interpreter\n")
    bad_interpreter.chmod(0o700)
    cannot = cli("run", "--", str(bad_interpreter))
    assert cannot.returncode == 126
    assert "cannot start" in cannot.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("run",), "run needs a command"),
        (("run", "--"), "run needs a command"),
        (("run", "--timeout", "0", "--", "true"), "must be a positive number"),
        (("run", "--timeout", "abc", "--", "true"), "not a number of seconds"),
        (
            ("run", "-e", "/nonexistent/file.env", "--", "true"),
            "cannot read env file '/nonexistent/file.env'",
        ),
        (("resolve", "--format", "xml"), "invalid choice"),
        (("bogus",), "invalid choice"),
        ((), "usage:"),
    ],
)
def test_usage_errors_exit_2(cli: Runner, args: tuple[str, ...], message: str) -> None:
    result = cli(*args)
    assert result.returncode == 2
    assert message in result.stderr


def test_resolve_dotenv_round_trips_through_python_dotenv(cli: Runner, tmp_path: Path) -> None:
    document = json.dumps({"tricky": TRICKY, "empty": ""})[:-1] + ', "n": 1.50}'
    env_file = tmp_path / "in.env"
    env_file.write_text("T=_envjson:DOC:tricky\nE=_envjson:DOC:empty\nN=_envjson:DOC:n\n")
    result = cli("resolve", "-e", str(env_file), env={"DOC": document})
    assert result.returncode == 0, result.stderr
    read_back = dotenv_values(stream=io.StringIO(result.stdout), interpolate=False)
    assert read_back["T"] == TRICKY
    assert read_back["E"] == ""
    assert read_back["N"] == "1.50"
    assert set(read_back) == {"T", "E", "N"}


def test_resolve_shell_output_evaluates_to_the_same_values(cli: Runner, tmp_path: Path) -> None:
    env = {"DOC": json.dumps({"tricky": TRICKY}), "T": "_envjson:DOC:tricky"}
    env_file = tmp_path / "in.env"
    env_file.write_text("T=_envjson:DOC:tricky\n")
    result = cli("resolve", "-e", str(env_file), "--format", "shell", env=env)
    assert result.returncode == 0, result.stderr
    shell = subprocess.run(
        ["sh", "-c", result.stdout + 'printf %s "$T"'], capture_output=True, text=True, check=True
    )
    assert shell.stdout == TRICKY


def test_resolve_json_and_atomic_private_output_file(cli: Runner, tmp_path: Path) -> None:
    env_file = tmp_path / "in.env"
    env_file.write_text(f"CFG='{CONFIG}'\nPASS=_envjson:CFG:PG_PASS\n")
    target = tmp_path / "out.json"
    target.write_text("old")
    target.chmod(0o644)
    result = cli("resolve", "-e", str(env_file), "-f", "json", "-o", str(target))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert json.loads(target.read_text())["PASS"] == SENTINEL
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.env", "out.json"]


def test_resolve_writes_nothing_when_a_reference_fails(cli: Runner, tmp_path: Path) -> None:
    env_file = tmp_path / "in.env"
    env_file.write_text(f"CFG='{CONFIG}'\nPASS=_envjson:CFG:PG_PASS\nBAD=_envjson:CFG:missing\n")
    target = tmp_path / "out.env"
    result = cli("resolve", "-e", str(env_file), "-o", str(target))
    assert result.returncode == 1
    assert not target.exists()
    assert "BAD=_envjson:CFG:missing" in result.stderr
    assert_no_sentinel(result.stdout, result.stderr)


def test_resolve_without_files_prints_the_whole_environment(cli: Runner) -> None:
    result = cli("resolve", "-f", "json", env={"CFG": CONFIG, "PORT": "_envjson:CFG:PG_PORT"})
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["PORT"] == "5432"
    assert "PATH" in output


def test_resolve_shell_leaves_out_names_a_shell_cannot_hold(cli: Runner, tmp_path: Path) -> None:
    env_file = tmp_path / "in.env"
    env_file.write_text("BAD-NAME=x\nGOOD=y\n")
    result = cli("resolve", "-e", str(env_file), "-f", "shell")
    assert result.returncode == 0
    assert result.stdout == "export GOOD='y'\n"
    assert "not shell variable names, left out: 'BAD-NAME'" in result.stderr


def test_check_reports_each_reference_without_values(cli: Runner, tmp_path: Path) -> None:
    env_file = tmp_path / "in.env"
    env_file.write_text(
        f"CFG='{CONFIG}'\nPASS=_envjson:CFG:PG_PASS\nBAD=_envjson:CFG:missing\nGONE=_nosuch:app:key\nPLAIN={SENTINEL}\n"
    )
    quick = cli("check", "-e", str(env_file))
    assert quick.returncode == 1
    assert "OK    PASS=_envjson:CFG:PG_PASS" in quick.stdout
    assert "OK    BAD=_envjson:CFG:missing" in quick.stdout
    assert (
        "FAIL  GONE=_nosuch:app:key: no installed provider serves the prefix _nosuch"
        in quick.stdout
    )
    assert "2 of 3 references checked OK" in quick.stdout
    fetched = cli("-vv", "check", "--fetch", "-e", str(env_file))
    assert fetched.returncode == 1
    assert "FAIL  BAD=_envjson:CFG:missing: the secret has no key 'missing'" in fetched.stdout
    assert "1 of 3 references fetched OK" in fetched.stdout
    assert_no_sentinel(quick.stdout, quick.stderr, fetched.stdout, fetched.stderr)


def test_check_passes_when_every_reference_resolves(cli: Runner) -> None:
    result = cli("check", "--fetch", env={"CFG": CONFIG, "P": "_envjson:CFG:PG_PASS"})
    assert result.returncode == 0
    assert "1 of 1 references fetched OK" in result.stdout
    assert_no_sentinel(result.stdout)
    assert cli("check").stdout.strip() == "no references found"


def test_get_prints_one_value(cli: Runner) -> None:
    env = {"CFG": CONFIG}
    assert cli("get", "_envjson:CFG:PG_PORT", env=env).stdout == "5432\n"
    assert cli("get", "-n", "_envjson:CFG:FLAG", env=env).stdout == "true"


@pytest.mark.parametrize(
    ("reference", "code", "message"),
    [
        ("_envjson:CFG:missing", 1, "the secret has no key 'missing'"),
        ("_envjson:NOPE:k", 1, "environment variable NOPE is not set"),
        ("_nosuch:x:y", 1, "no installed provider serves the prefix _nosuch"),
        ("plain-" + SENTINEL, 2, "not a reference"),
    ],
)
def test_get_errors(cli: Runner, reference: str, code: int, message: str) -> None:
    result = cli("-vv", "get", reference, env={"CFG": CONFIG})
    assert result.returncode == code
    assert message in result.stderr
    assert result.stdout == ""
    assert_no_sentinel(result.stderr.replace(reference, ""))


def test_providers_lists_envjson(cli: Runner) -> None:
    result = cli("providers")
    assert result.returncode == 0, result.stdout
    assert "_envjson" in result.stdout
    assert "envsecrets-envjson" in result.stdout
    assert "JSON object held in an environment variable" in result.stdout


def test_version_and_help(cli: Runner) -> None:
    import envsecrets

    assert cli("--version").stdout.strip() == f"envsecrets {envsecrets.__version__}"
    for command in ("run", "resolve", "check", "get", "providers", "new-provider"):
        result = cli(command, "--help")
        assert result.returncode == 0
        assert f"usage: envsecrets {command}" in result.stdout


def test_debug_logging_never_shows_values(cli: Runner) -> None:
    env = {"CFG": CONFIG, "PASS": "_envjson:CFG:PG_PASS"}
    result = cli("-vv", "run", "--", *child("pass"), env=env)
    assert result.returncode == 0
    assert "DEBUG" in result.stderr
    assert_no_sentinel(result.stderr, result.stdout)


def test_python_dash_m_and_console_script_agree(cli: Runner) -> None:
    script = Path(sys.executable).parent / "envsecrets"
    if not script.exists():
        pytest.skip("console script not installed next to this interpreter")
    result = subprocess.run(
        [str(script), "--version"], capture_output=True, text=True, env={"PATH": os.environ["PATH"]}
    )
    assert result.stdout == cli("--version").stdout


def test_providers_table_has_aligned_columns(cli: Runner) -> None:
    header, *rows = cli("providers").stdout.splitlines()
    assert header.split() == ["PREFIX", "DISTRIBUTION", "VERSION", "STATUS", "DESCRIPTION"]
    envjson = next(row for row in rows if row.startswith("_envjson "))
    assert envjson.index("envsecrets-envjson") == header.index("DISTRIBUTION")
    assert envjson.index("JSON object") == header.index("DESCRIPTION")


def test_new_provider_writes_a_distribution(cli: Runner, tmp_path: Path) -> None:
    result = cli("new-provider", "kvdemo", "-d", str(tmp_path))
    assert result.returncode == 0, result.stderr
    root = tmp_path / "envsecrets-kvdemo"
    assert (root / "pyproject.toml").is_file()
    assert "kvdemo" in (root / "pyproject.toml").read_text()
    again = cli("new-provider", "kvdemo", "-d", str(tmp_path))
    assert again.returncode == 2
    bad = cli("new-provider", "Bad-Name", "-d", str(tmp_path))
    assert bad.returncode == 2
    assert "Bad-Name" in bad.stderr
