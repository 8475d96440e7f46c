"""What a new user's trial found (issues 14 and 23): each case failed before its fix."""

from __future__ import annotations

import json
import os
from pathlib import Path

import envsecrets
from tests.cli.conftest import Runner
from tests.conftest import SENTINEL, assert_no_sentinel


def test_shell_format_leaves_out_exported_bash_functions(cli: Runner) -> None:
    env = {"BASH_FUNC_f%%": "() {  echo hi\n}", "CFG": '{"a": 1}', "A": "_envjson:CFG:a"}
    result = cli("resolve", "-f", "shell", env=env)
    assert result.returncode == 0, result.stderr
    assert "export A='1'\n" in result.stdout
    assert "BASH_FUNC" not in result.stdout
    assert "'BASH_FUNC_f%%'" in result.stderr
    assert "left out" in result.stderr


def test_a_file_that_is_not_executable_exits_126(cli: Runner, tmp_path: Path) -> None:
    data = tmp_path / "file.json"
    data.write_text("{}")
    result = cli("run", "--", "./file.json", cwd=tmp_path)
    assert result.returncode == 126, result.stderr
    assert "not executable" in result.stderr


def test_a_directory_exits_126(cli: Runner, tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    result = cli("run", "--", "./folder", cwd=tmp_path)
    assert result.returncode == 126
    assert "is a directory" in result.stderr


def test_a_directory_on_path_exits_126_and_nothing_exits_127(cli: Runner, tmp_path: Path) -> None:
    (tmp_path / "bin" / "tool").mkdir(parents=True)
    path = f"{tmp_path / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
    found = cli("run", "--", "tool", env={"PATH": path})
    assert found.returncode == 126
    missing = cli("run", "--", "no-such-tool-here", env={"PATH": path})
    assert missing.returncode == 127
    assert "command not found: no-such-tool-here" in missing.stderr


def test_references_with_control_characters_are_escaped_in_errors(cli: Runner) -> None:
    env = {"CFG": json.dumps({"a": SENTINEL}), "A": "_envjson:CFG:missing\n"}
    result = cli("resolve", env=env)
    assert result.returncode == 1
    assert "A=_envjson:CFG:missing\\n: " in result.stderr
    # One error line per failing variable: the newline did not break it.
    assert len(result.stderr.splitlines()) == 2
    assert_no_sentinel(result.stderr, result.stdout)


def test_get_of_a_variable_name_says_how_to_resolve_it(cli: Runner) -> None:
    result = cli("get", "PG_PASS", env={"PG_PASS": "_envjson:CFG:a"})
    assert result.returncode == 2
    assert "PG_PASS is not a reference" in result.stderr
    assert 'envsecrets get "$PG_PASS"' in result.stderr


def test_invalid_json_gives_the_position_never_the_text(cli: Runner) -> None:
    env = {"CFG": '{"a": "' + SENTINEL + '",\n x}', "A": "_envjson:CFG:a"}
    result = cli("resolve", env=env)
    assert result.returncode == 1
    assert "line 2 column 2" in result.stderr
    assert_no_sentinel(result.stderr)


def test_get_of_a_word_that_is_no_variable_gives_no_hint(cli: Runner) -> None:
    result = cli("get", "hello")
    assert result.returncode == 2
    assert result.stderr == "envsecrets: error: hello is not a reference (_PREFIX:NAME[:KEY])\n"


def test_providers_labels_the_core_version(cli: Runner) -> None:
    result = cli("providers")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == f"core: envsecrets {envsecrets.__version__}"


def test_ls_keys_of_a_literal_secret_says_it_has_none(cli: Runner) -> None:
    result = cli("ls", "_envjson:CFG:", env={"CFG": f"not json {SENTINEL}"})
    assert result.returncode == 1
    assert "the secret is a literal secret (not JSON), it has no keys" in result.stderr
    assert_no_sentinel(result.stdout, result.stderr)
