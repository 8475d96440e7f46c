"""The agent and its thin clients with `_envjson` (no server needed): the
same child environments, outputs, errors and exit codes as in-process; the
socket's life; fallback and `ENVSECRETS_AGENT=required`."""

from __future__ import annotations

import json
import os
import re
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from envsecrets.agent import client
from tests.agent.conftest import PRINT_ENV, Agent, envsecrets

pytest.importorskip("envsecrets_envjson", reason="needs envsecrets-envjson")

CONFIG = json.dumps({"port": 5432, "host": "db.internal", "nested": {"a": [1, 2]}})
ROLE = {
    "CONFIG": CONFIG,
    "PG_PORT": "_envjson:CONFIG:port",
    "PG_HOST": "_envjson:CONFIG:host",
    "PLAIN": "just text",
}


def _both(
    agent: Agent, *args: str, env: dict[str, str], cwd: Path | None = None
) -> tuple[subprocess.CompletedProcess[str], subprocess.CompletedProcess[str]]:
    """The command through the agent, then in-process (--no-agent)."""
    through = envsecrets(*args, env={**env, "ENVSECRETS_AGENT_SOCK": str(agent.socket)}, cwd=cwd)
    word, rest = args[0], args[1:]
    alone = envsecrets(word, "--no-agent", *rest, env=env, cwd=cwd)
    return through, alone


def _served(agent: Agent) -> int:
    """How many requests the agent (started with -v) answered; stops it."""
    assert agent.stop() == 0
    return agent.stderr.count("answered ")


@pytest.fixture
def verbose_agent(socket_path: Path) -> Agent:
    with Agent(socket_path, {}, "-v") as running:
        yield running  # type: ignore[misc]


CASES = {
    "role": (["run", "--", *PRINT_ENV], ROLE),
    "pristine": (["run", "--pristine", "--", *PRINT_ENV], ROLE),
    "keep": (["run", "--keep-credentials", "--", *PRINT_ENV], ROLE),
    "missing key": (["run", "--", *PRINT_ENV], {**ROLE, "BAD": "_envjson:CONFIG:nope"}),
    "not json": (["run", "--", *PRINT_ENV], {"DOC": "{x", "BAD": "_envjson:DOC:k"}),
    "unset": (["run", "--", *PRINT_ENV], {"BAD": "_envjson:NOWHERE:k", "B2": "_nope:x"}),
    "syntax": (["run", "--", *PRINT_ENV], {"BAD": "_envjson:CONFIG"}),
    "not found": (["run", "--", "no-such-command-here"], ROLE),
    "a directory": (["run", "--", "/"], ROLE),
    "resolve": (["resolve"], ROLE),
    "resolve json": (["resolve", "-f", "json"], ROLE),
    "resolve shell": (["resolve", "-f", "shell"], {**ROLE, "NOT-SHELL": "x"}),
    "resolve fails": (["resolve"], {**ROLE, "BAD": "_envjson:CONFIG:nope"}),
    "check": (["check", "--fetch"], {**ROLE, "BAD": "_envjson:CONFIG:nope", "E": "\x1b[31m"}),
    "check, no fetch": (["check"], {**ROLE, "BAD": "_envjson:CONFIG"}),
    "get": (["get", "_envjson:CONFIG:nested"], ROLE),
    "get -n": (["get", "-n", "_envjson:CONFIG:port"], ROLE),
    "get fails": (["get", "_envjson:CONFIG:nope"], ROLE),
    "get syntax": (["get", "_envjson:"], ROLE),
    "get a name": (["get", "PG_PORT"], ROLE),
}


@pytest.mark.parametrize("case", CASES)
def test_the_agent_answers_as_in_process(verbose_agent: Agent, case: str) -> None:
    args, env = CASES[case]
    through, alone = _both(verbose_agent, *args, env=env)
    assert (through.returncode, through.stdout, through.stderr) == (
        alone.returncode,
        alone.stdout,
        alone.stderr,
    )
    assert through.returncode != 0 or through.stdout  # something was compared
    # `get NAME` is refused before any request, `check` without --fetch is
    # checked in the process; every other case was served.
    assert _served(verbose_agent) == (0 if case in ("get a name", "check, no fetch") else 1)


def test_env_files_through_the_agent(verbose_agent: Agent, tmp_path: Path) -> None:
    role = tmp_path / "role.env"
    role.write_text(f"CONFIG='{CONFIG}'\nPG_PORT=_envjson:CONFIG:port\nOWN_TOKEN=mine\n")
    more = tmp_path / "more.env"
    more.write_text("PG_HOST=_envjson:CONFIG:host\n")
    for args in (
        ["run", "-e", str(role), "-e", str(more), "--", *PRINT_ENV],
        ["run", "--pristine", "-e", str(role), "--", *PRINT_ENV],
        ["resolve", "-e", str(role), "-e", str(more)],
        ["check", "--fetch", "-e", str(role)],
        ["run", "-e", str(tmp_path / "missing.env"), "--", *PRINT_ENV],
    ):
        through, alone = _both(verbose_agent, *args, env={"HOME": str(tmp_path)}, cwd=tmp_path)
        assert (through.returncode, through.stdout, through.stderr) == (
            alone.returncode,
            alone.stdout,
            alone.stderr,
        ), args
    assert _served(verbose_agent) == 4  # the unreadable file is reported before asking


def test_the_child_never_receives_the_socket(agent: Agent) -> None:
    env = {**ROLE, "ENVSECRETS_AGENT_SOCK": str(agent.socket)}
    done = envsecrets("run", "--", *PRINT_ENV, env=env)
    assert done.returncode == 0, done.stderr
    child = json.loads(done.stdout)
    assert "ENVSECRETS_AGENT_SOCK" not in child
    assert child["PG_PORT"] == "5432"
    pristine = envsecrets("run", "--pristine", "--", *PRINT_ENV, env=env)
    assert "ENVSECRETS_AGENT_SOCK" not in json.loads(pristine.stdout)


def test_the_agents_own_environment_is_never_data(socket_path: Path, sentinel: str) -> None:
    agent_env = {"AGENT_DOC": json.dumps({"k": sentinel})}
    with Agent(socket_path, agent_env) as running:
        env = {"X": "_envjson:AGENT_DOC:k", "ENVSECRETS_AGENT_SOCK": str(running.socket)}
        done = envsecrets("run", "--", *PRINT_ENV, env=env)
        assert done.returncode == 1
        assert "environment variable AGENT_DOC is not set" in done.stderr
        assert sentinel not in done.stdout + done.stderr
        own = envsecrets("get", "_envjson:AGENT_DOC:k", env={**env, "AGENT_DOC": '{"k": "mine"}'})
        assert own.stdout == "mine\n"


@pytest.mark.parametrize("cache", [(), ("--cache-ttl", "300")])
def test_a_hundred_concurrent_clients_get_their_own_values(
    socket_path: Path, cache: tuple[str, ...]
) -> None:
    clients = 100
    start = threading.Barrier(clients)
    answers: dict[int, object] = {}

    def one(index: int) -> None:
        process = {"DOC": json.dumps({"v": f"value-{index}"}), "X": "_envjson:DOC:v"}
        request = {
            "op": "run",
            "process": process,
            "files": [],
            "pristine": False,
            "keep_credentials": False,
        }
        start.wait()
        try:
            answers[index] = client.exchange(str(socket_path), {**request, "timeout": 60}, 90)
        except Exception as problem:  # reported by the assertion below
            answers[index] = problem

    with Agent(socket_path, {}, *cache):
        threads = [threading.Thread(target=one, args=(index,)) for index in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    for index in range(clients):
        answer = answers[index]
        assert isinstance(answer, dict), answer
        assert answer["exit"] == 0, answer
        assert answer["values"]["X"] == f"value-{index}"


def test_no_agent_answering_falls_back_with_one_notice(tmp_path: Path) -> None:
    gone = tmp_path / "gone.sock"
    env = {**ROLE, "ENVSECRETS_AGENT_SOCK": str(gone)}
    done = envsecrets("get", "_envjson:CONFIG:port", env=env)
    assert done.returncode == 0
    assert done.stdout == "5432\n"
    assert done.stderr == (
        f"envsecrets: note: the agent at {gone} did not answer (no such socket); "
        "resolving in this process\n"
    )
    # A stale socket (nothing listening): the same, with its reason.
    with socket.socket(socket.AF_UNIX) as stale:
        stale.bind(str(gone))
    done = envsecrets("run", "--", *PRINT_ENV, env=env)
    assert done.returncode == 0
    assert done.stderr.count("envsecrets: note:") == 1
    assert "nothing is listening" in done.stderr
    quiet = envsecrets("get", "--no-agent", "_envjson:CONFIG:port", env=env)
    assert (quiet.returncode, quiet.stderr) == (0, "")
    off = envsecrets("get", "_envjson:CONFIG:port", env={**env, "ENVSECRETS_AGENT": "off"})
    assert (off.returncode, off.stderr) == (0, "")


def test_required_makes_a_missing_agent_an_error(tmp_path: Path) -> None:
    gone = tmp_path / "gone.sock"
    env = {**ROLE, "ENVSECRETS_AGENT": "required", "ENVSECRETS_AGENT_SOCK": str(gone)}
    done = envsecrets("run", "--", *PRINT_ENV, env=env)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == (
        f"envsecrets: error: the agent at {gone} did not answer (no such socket); "
        "ENVSECRETS_AGENT=required\n"
    )
    env = {**ROLE, "ENVSECRETS_AGENT": "required", "XDG_RUNTIME_DIR": str(tmp_path)}
    done = envsecrets("resolve", env=env)
    assert done.returncode == 1
    assert "ENVSECRETS_AGENT=required and ENVSECRETS_AGENT_SOCK is not set" in done.stderr


def test_sigterm_removes_the_socket(socket_path: Path) -> None:
    running = Agent(socket_path, {}).start()
    assert stat.S_IMODE(socket_path.stat().st_mode) == 0o600
    assert running.stop() == 0
    assert not socket_path.exists()
    assert running.stderr == f"envsecrets: agent listening on {socket_path}\n"


def test_a_stale_socket_is_replaced(socket_path: Path) -> None:
    with socket.socket(socket.AF_UNIX) as stale:
        stale.bind(str(socket_path))  # bound, never listening: what a killed agent leaves
    with Agent(socket_path, {}) as running:
        done = envsecrets("get", "_envjson:C:k", env={"C": '{"k": "v"}', **_via(running)})
        assert (done.returncode, done.stdout, done.stderr) == (0, "v\n", "")


def test_a_live_socket_is_refused(agent: Agent) -> None:
    second = envsecrets("agent", "--socket", str(agent.socket), env={})
    assert second.returncode == 1
    assert second.stderr == (
        f"envsecrets: error: an agent is already listening on {agent.socket}\n"
    )
    assert agent.socket.exists()  # the first one still serves
    done = envsecrets("get", "_envjson:C:k", env={"C": '{"k": "v"}', **_via(agent)})
    assert done.stdout == "v\n"


def test_something_else_at_the_path_is_never_removed(tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_text("keep me")
    done = envsecrets("agent", "--socket", str(path), env={})
    assert done.returncode == 1
    assert "exists and is not a socket" in done.stderr
    assert path.read_text() == "keep me"


def test_the_default_socket_is_private_and_found(tmp_path: Path) -> None:
    runtime = tmp_path / "run"
    runtime.mkdir()
    env = {"XDG_RUNTIME_DIR": str(runtime)}
    agent = subprocess.Popen(
        [sys.executable, "-m", "envsecrets", "agent", "-v"],
        env={"PATH": os.environ["PATH"], **env},
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        path = runtime / "envsecrets" / "agent.sock"
        assert agent.stderr is not None
        assert agent.stderr.readline() == f"envsecrets: agent listening on {path}\n"
        assert stat.S_IMODE((runtime / "envsecrets").stat().st_mode) == 0o700
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        done = envsecrets("get", "_envjson:C:k", env={**env, "C": '{"k": "v"}'})
        assert (done.returncode, done.stdout, done.stderr) == (0, "v\n", "")
    finally:
        agent.terminate()
        _, log = agent.communicate(timeout=30)
    assert re.search(rf"answered 'get' for uid {os.getuid()} in \d+\.\d ms: exit 0", log)
    assert not path.exists()


def test_a_default_directory_open_to_others_is_refused(tmp_path: Path) -> None:
    (tmp_path / "envsecrets").mkdir(mode=0o755)
    (tmp_path / "envsecrets").chmod(0o755)
    done = envsecrets("agent", env={"XDG_RUNTIME_DIR": str(tmp_path)})
    assert done.returncode == 1
    assert "is open to other users (mode 755)" in done.stderr


def test_the_thin_run_imports_no_plugin_machinery(agent: Agent) -> None:
    env = {**ROLE, **_via(agent), "PYTHONPROFILEIMPORTTIME": "1", "PATH": os.environ["PATH"]}
    # As the console script starts (python -m would add runpy and contextlib).
    script = "import sys; from envsecrets.entry import main; sys.exit(main())"
    child = [sys.executable, "-I", "-S", "-c", "pass"]
    done = subprocess.run(
        [sys.executable, "-c", script, "run", "--", *child],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0
    # -X importtime lists every module the envsecrets process imported
    # (the child, started by exec with PYTHONPROFILEIMPORTTIME too, adds its own few).
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    assert "envsecrets.agent.client" in imported
    forbidden = {"pluggy", "importlib.metadata", "botocore", "hvac", "boto3", "requests"}
    assert not forbidden & imported
    # Nor what only the in-process path needs (about a third of the thin run's CPU).
    assert not {"typing", "dataclasses", "inspect", "logging", "threading"} & imported
    # Nor standard modules a few lines replace: shutil (with bz2 and lzma),
    # struct, contextlib, and argparse (with gettext) for a plain run's options.
    assert not {"shutil", "struct", "contextlib", "bz2", "lzma", "argparse", "gettext"} & imported
    assert not {name for name in imported if name.startswith("envsecrets_")}
    assert not {"envsecrets.plugins", "envsecrets.resolver", "envsecrets.hooks"} & imported


def _via(agent: Agent) -> dict[str, str]:
    return {"ENVSECRETS_AGENT_SOCK": str(agent.socket)}


def test_no_value_in_the_agents_logs_or_a_failed_answer(socket_path: Path, sentinel: str) -> None:
    doc = json.dumps({"a": sentinel, "n": {"deep": sentinel}})
    env = {"DOC": doc, "GOOD": "_envjson:DOC:a", "BAD": "_envjson:DOC:missing"}
    with Agent(socket_path, {}, "-vv") as running:
        done = envsecrets("run", "--", *PRINT_ENV, env={**env, **_via(running)})
        got = envsecrets("get", "_envjson:DOC:n/deep", env={**env, **_via(running)})
        assert running.stop() == 0
    assert done.returncode == 1
    assert "BAD=_envjson:DOC:missing" in done.stderr
    assert got.returncode == 1
    for text in (done.stdout, done.stderr, got.stdout, got.stderr, running.stderr):
        assert sentinel not in text
    assert "answered 'run'" in running.stderr
