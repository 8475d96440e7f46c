"""The resident agent (issue 22): the role scenario three ways, and a fleet.

Role: the six fields of ``benchmarks.role`` in one ``run -- env``, straight
to the servers (no added delay: what a session costs is its start-up), as
four contenders interleaved, each a fresh process:

    in-process, today's way   the command line as it was: ``envsecrets.cli.main``
                              (cyclic garbage collection on), botocore's own
                              loader (listing every service)
    in-process, after wins    the console script's ``envsecrets.entry`` with
                              ``--no-agent`` (garbage collection off), the
                              loader told the services used
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
CONTENDERS = (TODAY, WINS, AGENT, FLOOR)
FLEET = 50

#: Today's way: the command line as it was, with botocore's own loader (the
#: envsecrets-aws loader that lists only the services used, undone here).
_TODAY = (
    "import sys; import envsecrets_aws.loader as loader; loader.install = lambda session: None; "
    "from envsecrets.cli.main import main; sys.exit(main())"
)
_ENTRY = "import sys; from envsecrets.entry import main; sys.exit(main())"


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
        plan = {
            TODAY: ([sys.executable, "-c", _TODAY, "run", "--", "env"], direct, True),
            WINS: ([sys.executable, "-c", _ENTRY, "run", "--no-agent", "--", "env"], direct, True),
            AGENT: ([sys.executable, "-c", _ENTRY, "run", "--", "env"], via, True),
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
        "straight to the servers, four contenders interleaved, each a fresh process; median "
        f"of {result.runs} runs. Today's way is the command line as it was "
        "(`envsecrets.cli.main`, garbage collection on, botocore's own loader); after the "
        "wins is the console script's entry with `--no-agent` (cyclic garbage collection "
        "off for short-lived commands; botocore's loader told the services used instead of "
        "listing ~400); through the agent is the same entry as a thin client of a running "
        "`envsecrets agent`.",
        "",
        "| contender | median wall | median CPU | vs in-process after the wins |",
        "|---|---|---|---|",
    ]
    base = result.wall(WINS)
    for name in CONTENDERS:
        lines.append(
            f"| {name} | {ms(result.wall(name))} | {ms(result.cpu(name))} | "
            f"{ratio(result.wall(name) / base)} |"
        )
    lines += [
        "",
        f"Fleet: {FLEET} sequential runs through one agent, every request through the "
        f"counting proxies: **{result.fleet_logins} AppRole login** at the server; a run's "
        f"median wall {ms(result.fleet_wall)}.",
    ]
    return "\n".join(lines)
