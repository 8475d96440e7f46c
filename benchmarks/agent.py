"""The resident agent (issue 22): the role scenario three ways, and a fleet.

Role: the six fields of ``benchmarks.role`` in one ``run -- env``, straight
to the servers (no added delay: what a session costs is its start-up), as
contenders interleaved, each a fresh process:

    in-process, today's way   the command line as it was: ``envsecrets.cli.main``
                              (cyclic garbage collection on), botocore's own
                              loader (listing every service), the SDKs imported
                              concurrently by the fetch workers
    after the wins, but ...   each win undone alone: what it saves
    in-process, after wins    the console script's ``envsecrets.entry`` with
                              ``--no-agent`` (garbage collection off), the
                              loader told the services used, the providers
                              prepared (SDKs imported) one at a time
    through the agent         the same entry, a thin client of a running agent
    python -c pass            the interpreter's floor

Fleet: 50 sequential runs through one agent against OpenBao with AppRole,
logins counted at the server's counting proxy (target 1).

Targets: through the agent <= 0.1x in-process; in-process after the wins
<= 0.85x today's.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.role import REFERENCES, VALUES, _environ, _seed
from benchmarks.servers import Servers
from benchmarks.stats import Target, median, ms, ratio

TODAY = "in-process, today's way"
WINS = "in-process, after the wins"
AGENT = "through the agent"
FLOOR = "`python -c pass`"
#: The least a Python client of the agent's protocol (JSON over a unix socket) imports.
CLIENT_FLOOR = '`python -c "import json, socket"`'
#: After the wins, each but one: what that win saves.
WITHOUT = {
    "gc": "after the wins, but cyclic garbage collection on",
    "loader": "after the wins, but botocore's own loader",
    "sequential": "after the wins, but the SDKs imported concurrently",
}
CONTENDERS = (TODAY, *WITHOUT.values(), WINS, AGENT, CLIENT_FLOOR, FLOOR)
FLEET = 50

#: Each in-process win, undone (before the command line is imported).
_UNDO = {
    "gc": "import gc; gc.disable = lambda: None",
    "loader": "import envsecrets_aws.loader as loader; loader.install = lambda session: None",
    "sequential": (
        "from envsecrets.providers_in_use import ProvidersInUse; "
        "ProvidersInUse.ready = ProvidersInUse.get"  # prepare() never called: fetches import
    ),
}


def _script(*undone: str, main: str = "envsecrets.entry") -> str:
    steps = [_UNDO[win] for win in undone]
    return "; ".join([*steps, f"import sys; from {main} import main; sys.exit(main())"])


#: Today's way: the command line as it was (envsecrets.cli.main, without the
#: console script's garbage collection switch), every win undone.
_TODAY = _script("loader", "sequential", main="envsecrets.cli.main")
_ENTRY = _script()


@dataclass
class AgentResult:
    runs: int
    walls: dict[str, list[float]] = field(default_factory=dict)
    cpus: dict[str, list[float]] = field(default_factory=dict)
    fleet_logins: int = -1
    fleet_wall: float = 0.0

    def wall(self, contender: str) -> float:
        return median(self.walls[contender])

    def cpu(self, contender: str) -> float:
        return median(self.cpus[contender])


def _timed(command: list[str], env: Mapping[str, str], check_values: bool) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        command, env=dict(env), capture_output=True, text=True, timeout=120, check=False
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise AssertionError(f"{command[:3]} failed: {done.stderr[-500:]}")
    if check_values:
        seen = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
        wrong = [name for name, value in VALUES.items() if seen.get(name) != value]
        if wrong:
            raise AssertionError(f"{command[:3]}: {', '.join(wrong)} wrong")
        if "ENVSECRETS_AGENT_SOCK" in seen:
            raise AssertionError("the child received ENVSECRETS_AGENT_SOCK")
    return wall, cpu


class _Agent:
    """``envsecrets agent`` on a private socket, with the role's settings."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="envsecrets-bench-")
        self.socket = str(Path(self._folder.name) / "agent.sock")
        settings = {name: value for name, value in env.items() if name not in REFERENCES}
        self._process = subprocess.Popen(
            [sys.executable, "-m", "envsecrets", "agent", "--socket", self.socket],
            env=settings,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self._process.stderr is not None
        line = self._process.stderr.readline()
        if "listening" not in line:
            raise RuntimeError(f"the agent did not start: {line}")

    def stop(self) -> None:
        self._process.terminate()
        self._process.communicate(timeout=30)
        self._folder.cleanup()


def run(servers: Servers, runs: int) -> AgentResult:
    approle = _seed(servers)
    direct = _environ(servers.moto_url, servers.bao.address, approle)
    result = AgentResult(runs, {name: [] for name in CONTENDERS}, {name: [] for name in CONTENDERS})
    agent = _Agent(direct)
    try:
        via = {**direct, "ENVSECRETS_AGENT_SOCK": agent.socket}
        in_process = ["run", "--no-agent", "--", "env"]
        plan = {
            TODAY: ([sys.executable, "-c", _TODAY, "run", "--", "env"], direct, True),
            **{
                name: ([sys.executable, "-c", _script(win), *in_process], direct, True)
                for win, name in WITHOUT.items()
            },
            WINS: ([sys.executable, "-c", _ENTRY, *in_process], direct, True),
            AGENT: ([sys.executable, "-c", _ENTRY, "run", "--", "env"], via, True),
            CLIENT_FLOOR: ([sys.executable, "-c", "import json, socket"], direct, False),
            FLOOR: ([sys.executable, "-c", "pass"], direct, False),
        }
        for command, env, check in plan.values():  # warm-up: page cache, bytecode, logins
            _timed(command, env, check)
        for _ in range(runs):
            for name, (command, env, check) in plan.items():
                wall, cpu = _timed(command, env, check)
                result.walls[name].append(wall)
                result.cpus[name].append(cpu)
    finally:
        agent.stop()
    result.fleet_logins, result.fleet_wall = _fleet(servers, approle)
    return result


def _fleet(servers: Servers, approle: tuple[str, str]) -> tuple[int, float]:
    """Logins at the server for FLEET runs through one fresh agent, and
    the median wall of a run (every request through the delay proxies)."""
    proxied = _environ(servers.aws_url, servers.vault_url, approle)
    servers.reset("vault")
    agent = _Agent(proxied)
    walls = []
    try:
        via = {**proxied, "ENVSECRETS_AGENT_SOCK": agent.socket}
        command = [sys.executable, "-c", _ENTRY, "run", "--", "env"]
        for _ in range(FLEET):
            walls.append(_timed(command, via, True)[0])
    finally:
        agent.stop()
    logins = sum(
        count for name, count in servers.operations("vault").items() if "approle/login" in name
    )
    return logins, median(walls)


def targets(result: AgentResult) -> list[Target]:
    today, wins, agent = result.wall(TODAY), result.wall(WINS), result.wall(AGENT)
    return [
        Target(
            "Role through the agent",
            agent <= 0.1 * wins,
            f"{ms(agent)} vs in-process {ms(wins)} = {agent / wins:.3f}x",
            "<= 0.1x in-process",
        ),
        Target(
            "Role in-process after the wins",
            wins <= 0.85 * today,
            f"{ms(wins)} vs today's {ms(today)} = {wins / today:.2f}x",
            "<= 0.85x today's",
        ),
        Target(
            "Fleet: AppRole logins for 50 runs through one agent",
            result.fleet_logins == 1,
            f"{result.fleet_logins}",
            "1",
        ),
    ]


def section(result: AgentResult) -> str:
    lines = [
        "### The agent",
        "",
        "The role of the previous section (Vault AppRole, AWS, `_envjson`), `run -- env` "
        "straight to the servers, the contenders interleaved, each a fresh process; median "
        f"of {result.runs} runs. Today's way is the command line as it was "
        "(`envsecrets.cli.main`, garbage collection on, botocore's own loader, the SDKs "
        "imported concurrently by the fetch workers); after the wins is the console "
        "script's entry with `--no-agent` (cyclic garbage collection off for short-lived "
        "commands; botocore's loader told the services used instead of listing ~400; the "
        "providers prepared, that is their SDKs imported, one at a time while the network "
        'stays concurrent); each "but" row undoes one win, and what it saves is its wall '
        "minus the wins' wall. Through the agent is the same entry as a thin client of a "
        "running `envsecrets agent`.",
        "",
        "| contender | median wall | median CPU | vs in-process after the wins | the win saves |",
        "|---|---|---|---|---|",
    ]
    base = result.wall(WINS)
    undone = set(WITHOUT.values())
    for name in CONTENDERS:
        saves = ms(result.wall(name) - base) if name in undone else ""
        lines.append(
            f"| {name} | {ms(result.wall(name))} | {ms(result.cpu(name))} | "
            f"{ratio(result.wall(name) / base)} | {saves} |"
        )
    client_floor = result.wall(CLIENT_FLOOR)
    lines += [
        "",
        "What the thin client costs: a plain `run` through the agent imports, besides the "
        "interpreter's own start-up, `json`, `socket` and a dozen small envsecrets modules: no "
        "argparse (`envsecrets.cli.run_argv` reads the plain forms of `run`'s options and "
        "leaves every other form to argparse), no shutil, no pluggy, no "
        "`importlib.metadata`, no provider, no SDK, neither `typing` nor `dataclasses` "
        "(listed by `tests/agent/test_cli.py`). Any Python client of the agent's protocol "
        f"imports `json` and `socket`: {ms(client_floor)} here, "
        f"{ratio(client_floor / base)} of in-process after the wins, before it sends a "
        f"byte. The other {ms(result.wall(AGENT) - client_floor)} are the agent's answer "
        "(a fresh fetch from moto and OpenBao for each session: nothing is cached without "
        "`--cache-ttl`), the client's own modules, and starting `env`.",
        "",
        f"Fleet: {FLEET} sequential runs through one agent, every request through the "
        f"counting proxies: **{result.fleet_logins} AppRole login** at the server; a run's "
        f"median wall {ms(result.fleet_wall)}.",
    ]
    return "\n".join(lines)
