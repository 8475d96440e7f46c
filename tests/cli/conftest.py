from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

Runner = Callable[..., subprocess.CompletedProcess[str]]

#: What starts a line envsecrets writes to stderr itself (argparse's usage included).
OWN_LINE = ("envsecrets:", "usage: envsecrets")


def foreign_lines(stderr: str, *, child: str = "") -> list[str]:
    """The lines of *stderr* that envsecrets did not write: a library's warning, a traceback.

    A line is envsecrets' own when it starts with :data:`OWN_LINE`, is indented under such a line
    (the failures of an aggregate error), or follows argparse's ``usage:`` (its help text).
    *child* is what the command that ``envsecrets run`` started wrote to stderr itself: its lines
    are its own, not foreign.
    """
    expected = child.splitlines()
    foreign: list[str] = []
    own = usage = False
    for line in stderr.splitlines():
        if expected and line == expected[0]:
            expected.pop(0)
            own = False
            continue
        if line.startswith(OWN_LINE):
            own, usage = True, line.startswith("usage: ")
        elif usage:
            continue  # the rest of argparse's help, up to envsecrets' next line
        elif not (own and line[:1].isspace()):
            foreign.append(line)
            own = False
    return foreign


def assert_own_stderr(stderr: str, *, child: str = "") -> None:
    """Fail when *stderr* holds text envsecrets did not write (see :func:`foreign_lines`)."""
    foreign = foreign_lines(stderr, child=child)
    assert not foreign, f"foreign text on stderr: {foreign!r}\n--- stderr:\n{stderr}"


@pytest.fixture
def cli(tmp_path: Path) -> Runner:
    """Run ``python -m envsecrets ARGS`` with a small, explicit environment; without ``-v``,
    check that its stderr holds envsecrets' own words only (*child_stderr*: what the command it
    runs writes to stderr itself)."""

    def run(
        *args: str,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        timeout: float = 60,
        child_stderr: str = "",
    ) -> subprocess.CompletedProcess[str]:
        environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **(env or {})}
        done = subprocess.run(
            [sys.executable, "-m", "envsecrets", *args],
            capture_output=True,
            text=True,
            env=environment,
            cwd=cwd or tmp_path,
            timeout=timeout,
        )
        # Every CLI test: without -v, stderr holds envsecrets' own words only (issue 23).
        if not any(arg.startswith("-v") or arg == "--verbose" for arg in args):
            assert_own_stderr(done.stderr, child=child_stderr)
        return done

    return run
