"""The peer check: a process of another uid is refused (and logged) even
when it can reach the socket; ``--allow-uid`` lets one in."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.agent.conftest import Agent

pytest.importorskip("envsecrets_envjson", reason="needs envsecrets-envjson")

#: A raw client in the standard library alone (another user cannot run this
#: checkout's interpreter, under /root): one request, the answer printed.
RAW_CLIENT = """
import json, socket, struct, sys
body = json.dumps({"v": 1, "op": "get", "process": {"C": '{"k": "v"}'},
                   "reference": "_envjson:C:k", "timeout": 10}).encode()
with socket.socket(socket.AF_UNIX) as sock:
    sock.connect(sys.argv[1])
    sock.sendall(struct.pack(">I", len(body)) + body)
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
print(json.loads(data[4:]))
"""


def _as_nobody(socket_path: Path) -> subprocess.CompletedProcess[str]:
    setpriv = shutil.which("setpriv")
    python = shutil.which("python3", path="/usr/bin:/bin")
    if os.geteuid() != 0 or setpriv is None or python is None:
        pytest.skip("needs root, setpriv and /usr/bin/python3 to run a client as nobody")
    command = [setpriv, "--reuid", "nobody", "--regid", "nogroup", "--clear-groups"]
    return subprocess.run(
        [*command, python, "-I", "-c", RAW_CLIENT, str(socket_path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
        cwd="/",
    )


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A directory nobody can traverse (pytest's own are private): the
    refusal must be the peer check's, not the file system's."""
    shared = Path(tempfile.mkdtemp(prefix="envsecrets-peer-", dir="/tmp"))
    try:
        shared.chmod(0o755)
        yield shared
    finally:
        shutil.rmtree(shared, ignore_errors=True)


def test_another_uid_is_refused_and_logged(open_dir: Path) -> None:
    path = open_dir / "a.sock"
    with Agent(path, {}) as agent:
        path.chmod(0o666)  # only here: let nobody connect, so that the peer check decides
        done = _as_nobody(path)
        stopped = agent.stop()
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "{'refused': 'this agent does not serve uid 65534', 'v': 1}"
    assert stopped == 0
    assert f"refused a connection from uid 65534: this agent serves uid {os.getuid()} only" in (
        agent.stderr
    )


def test_allow_uid_serves_that_uid(open_dir: Path) -> None:
    path = open_dir / "a.sock"
    with Agent(path, {}, "--allow-uid", "65534") as agent:
        path.chmod(0o666)
        done = _as_nobody(path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "{'exit': 0, 'value': 'v', 'v': 1}"
    assert "refused" not in agent.stderr
