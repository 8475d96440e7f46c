"""``envsecrets file-audit``: a plugin command using its context."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import ClassVar

import pytest
from envsecrets.testing import CommandsContract

import envsecrets_file


class TestFileCommands(CommandsContract):
    commands_plugin = envsecrets_file
    command_arguments: ClassVar[Mapping[str, Sequence[Sequence[str]]]] = {
        "file-audit": [[], ["app/"]]
    }


def cli(*argv: str, **environ: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **environ}
    for variable in ("ENVSECRETS_PLUGINS", "ENVSECRETS_DISABLE_PLUGINS"):
        if variable not in environ:
            env.pop(variable, None)
    return subprocess.run(
        [sys.executable, "-m", "envsecrets", *argv],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


@pytest.fixture
def secrets_dir(tmp_path: Path) -> Path:
    (tmp_path / "app").mkdir()
    for name, mode in (("app/db.json", 0o600), ("app/key", 0o640), ("token", 0o604)):
        (tmp_path / name).write_text("audit-sentinel-5e1f")
        (tmp_path / name).chmod(mode)
    return tmp_path


def test_lists_the_files_others_may_read(secrets_dir: Path) -> None:
    done = cli("file-audit", ENVSECRETS_FILE_DIR=str(secrets_dir))
    assert done.returncode == 1
    assert done.stdout.splitlines() == ["app/key", "token"]
    assert done.stderr == (
        "envsecrets: error: 2 secret file(s) readable by group or others: chmod 600\n"
    )
    assert "audit-sentinel" not in done.stdout + done.stderr


def test_names_reach_the_terminal_escaped(secrets_dir: Path) -> None:
    (secrets_dir / "red\x1b[31m").write_text("audit-sentinel-5e1f")
    (secrets_dir / "red\x1b[31m").chmod(0o644)
    done = cli("file-audit", ENVSECRETS_FILE_DIR=str(secrets_dir))
    assert "red\\x1b[31m" in done.stdout.splitlines()
    assert "\x1b" not in done.stdout + done.stderr


def test_a_prefix_narrows_the_audit(secrets_dir: Path) -> None:
    (secrets_dir / "app" / "key").chmod(0o600)
    done = cli("file-audit", "app/", ENVSECRETS_FILE_DIR=str(secrets_dir))
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_the_provider_errors_come_with_the_standard_words_and_codes(tmp_path: Path) -> None:
    unset = cli("file-audit")
    assert unset.returncode == 1
    assert unset.stderr == "envsecrets: error: ENVSECRETS_FILE_DIR is not set\n"
    outside = cli("file-audit", "../", ENVSECRETS_FILE_DIR=str(tmp_path))
    assert outside.returncode == 2  # a bad name is a usage error
    assert outside.stderr.startswith("envsecrets: error: secret name '..")


def test_a_refused_allowlist_is_a_usage_error(secrets_dir: Path) -> None:
    done = cli(
        "file-audit", ENVSECRETS_FILE_DIR=str(secrets_dir), ENVSECRETS_PLUGINS="envsecrets-nope"
    )
    assert done.returncode == 2
    assert "ENVSECRETS_PLUGINS names 'envsecrets-nope'" in done.stderr
    assert "invalid choice" not in done.stderr


def test_a_disabled_plugin_says_so(secrets_dir: Path) -> None:
    done = cli(
        "file-audit", ENVSECRETS_FILE_DIR=str(secrets_dir), ENVSECRETS_DISABLE_PLUGINS="file"
    )
    assert done.returncode == 2
    assert done.stderr == (
        "envsecrets: error: the command 'file-audit' is unavailable: plugin 'file' is "
        "disabled by ENVSECRETS_DISABLE_PLUGINS\n"
    )
