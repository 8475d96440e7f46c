from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.stderr import assert_own_stderr

Runner = Callable[..., subprocess.CompletedProcess[str]]


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
