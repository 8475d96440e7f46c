"""Issue 19 through the real CLI: errors never depend on a secret's value,
and every string from outside is escaped for the terminal. Each case failed
on the code before the fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import Runner

#: Thirty candidates for a four-digit secret, in a key and in a name.
CANDIDATES = "|".join(str(number) for number in range(4800, 4830))
#: Clear the screen, set the window title, an 8-bit CSI, a DEL.
ESC = "\x1b[2J\x1b]0;owned\x07\x9b1m\x7f"
#: What a terminal could act on: none of it may reach the output raw.
RAW = set("\x1b\x07\x9b\x7f")


def role(tmp_path: Path, secret: str) -> Path:
    path = tmp_path / f"role-{secret}.env"
    lines = [
        f"J='{json.dumps({'pin': secret})}'",
        "S=_envjson:J:pin",
        f"G=_envjson:J:{CANDIDATES}",  # a missing key, quoted by the core
        f"N=_envjson:{CANDIDATES}:pin",  # a missing variable, quoted by the provider
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    "command",
    [("check", "--fetch"), ("run",), ("resolve",)],
    ids=["check", "run", "resolve"],
)
def test_errors_are_identical_whatever_the_secret(
    cli: Runner, tmp_path: Path, command: tuple[str, ...]
) -> None:
    outputs = set()
    for secret in ("4800", "4817", "4829", "7777"):
        tail = ("--", "true") if command == ("run",) else ()
        result = cli(command[0], *command[1:], "-e", str(role(tmp_path, secret)), *tail)
        assert result.returncode == 1, result.stderr
        outputs.add((result.stdout, result.stderr))
    assert len(outputs) == 1, outputs
    ((stdout, stderr),) = outputs
    assert "***" not in stdout + stderr
    assert f"the secret has no key '{CANDIDATES}'" in stdout + stderr
    assert f"environment variable {CANDIDATES} is not set" in stdout + stderr


def test_get_error_is_identical_whatever_the_secret(cli: Runner) -> None:
    # The key is the whole document of one of the two runs.
    key = json.dumps({"a": "4817"})
    texts = set()
    for secret in ("4817", "4818"):
        result = cli("get", f"_envjson:J:{key}", env={"J": json.dumps({"a": secret})})
        assert result.returncode == 1
        texts.add(result.stderr)
    assert len(texts) == 1, texts
    assert "***" not in texts.pop()


def test_check_and_run_escape_variable_names_and_provider_text(cli: Runner, tmp_path: Path) -> None:
    path = tmp_path / "escapes.env"
    path.write_text(f"'V{ESC}'=_envjson:X{ESC}:k\n'OK{ESC}'=_envjson:J:a\nJ='{{\"a\": 1}}'\n")
    for args in (("check", "--fetch"), ("check",), ("run",)):
        tail = ("--", "true") if args == ("run",) else ()
        result = cli(*args, "-e", str(path), *tail)
        assert not RAW & set(result.stdout + result.stderr), (args, result)
        assert "\\x1b[2J\\x1b]0;owned\\x07\\x9b1m\\x7f" in result.stdout + result.stderr, args


def test_get_and_ls_escape_names_from_outside(cli: Runner) -> None:
    for args in (("get", f"_envjson:X{ESC}:k"), ("ls", f"_envjson:X{ESC}:")):
        result = cli(*args, env={"J": "{}"})
        assert result.returncode != 0
        assert not RAW & set(result.stderr), (args, result.stderr)
        assert f"environment variable X{ESC.encode('unicode_escape').decode()}" in result.stderr


def test_ls_escapes_keys_in_both_formats(cli: Runner) -> None:
    document = json.dumps({f"k{ESC}": 1, "plain": "x"})
    for fmt in ("text", "json"):
        result = cli("ls", "-f", fmt, "_envjson:J:", env={"J": document})
        assert result.returncode == 0, result.stderr
        assert not RAW & set(result.stdout), (fmt, result.stdout)
        if fmt == "json":  # still JSON, and still the same keys
            keys = [row["key"] for row in json.loads(result.stdout)["keys"]]
            assert keys == [f"k{ESC}", "plain"]
