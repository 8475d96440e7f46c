"""An agent process on a socket of the test's own, and clients of it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

#: A child that prints its whole environment as JSON.
PRINT_ENV = (
    sys.executable,
    "-c",
    "import json, os, sys; sys.stdout.write(json.dumps(dict(os.environ), sort_keys=True))",
)


class Agent:
    """``envsecrets agent`` started with *env* on *socket*; a context manager
    that stops it with SIGTERM and checks it went cleanly."""

    def __init__(self, socket: Path, env: dict[str, str], *options: str) -> None:
        self.socket = socket
        self.env = {"PATH": os.environ["PATH"], **env}
        self.options = options
        self.process: subprocess.Popen[str] | None = None
        self.stderr = ""

    def __enter__(self) -> Agent:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> Agent:
        command = [sys.executable, "-m", "envsecrets", "agent", "--socket", str(self.socket)]
        self.process = subprocess.Popen(
            [*command, *self.options],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stderr is not None
        self.stderr = ""
        while "agent listening on" not in self.stderr:  # it listens once it said so
            line = self.process.stderr.readline()
            if not line:
                raise RuntimeError(f"the agent exited: {self.stderr}")
            self.stderr += line
        return self

    def stop(self) -> int:
        """SIGTERM; return the exit code (the socket must be gone)."""
        process, self.process = self.process, None
        if process is None:
            return 0
        process.send_signal(signal.SIGTERM)
        try:
            _, rest = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise
        self.stderr += rest
        return process.returncode


def envsecrets(
    *args: str, env: dict[str, str], cwd: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``python -m envsecrets ARGS`` with exactly *env* (and PATH)."""
    return subprocess.run(
        [sys.executable, "-m", "envsecrets", *args],
        env={"PATH": os.environ["PATH"], **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def socket_path(tmp_path: Path) -> Path:
    # A short path: a unix socket's path is limited to about 100 bytes.
    return tmp_path / "agent.sock"


@pytest.fixture
def agent(socket_path: Path) -> Iterator[Agent]:
    """An agent with an empty environment of its own (envjson needs none)."""
    with Agent(socket_path, {}) as running:
        yield running
