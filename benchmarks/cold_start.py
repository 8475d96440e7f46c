"""Cold start: ``envsecrets run -- true`` with 20 ``_envjson`` references and
every plugin installed, against the interpreter floor
``python -c "import pluggy, importlib.metadata"``; runs interleaved.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.stats import Target, median, ms, ratio

REFERENCES = 20
FLOOR = [sys.executable, "-c", "import pluggy, importlib.metadata"]
#: Modules a plain ``envsecrets run`` must not import.
HEAVY = ("boto3", "botocore", "hvac", "requests", "urllib3")
BUDGET = 1.5


def envsecrets_command() -> list[str]:
    """The console script installed next to this interpreter."""
    script = Path(sys.executable).with_name("envsecrets")
    if script.exists():
        return [str(script)]
    found = shutil.which("envsecrets")
    if found:
        return [found]
    return [sys.executable, "-m", "envsecrets"]


def environment() -> dict[str, str]:
    document = {f"k{i}": f"value-{i}" for i in range(REFERENCES)}
    env = {
        key: value
        for key, value in os.environ.items()
        if key in {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV"}
    }
    env["ENV_CONFIG"] = json.dumps(document)
    env.update({f"VAR_{i}": f"_envjson:ENV_CONFIG:k{i}" for i in range(REFERENCES)})
    return env


@dataclass
class ColdStart:
    envsecrets: float
    floor: float
    runs: int
    modules: list[str]
    extra_modules: list[str]

    @property
    def ratio(self) -> float:
        return self.envsecrets / self.floor


def _time(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdin=subprocess.DEVNULL)
    return time.perf_counter() - started


#: Runs the CLI as its console script does, but prints ``sys.modules`` where
#: ``run`` would replace itself with the command (at ``os.execvpe``).
_LIST_MODULES = """\
import os, sys
def _report(*args):
    sys.stdout.write("\\n".join(sorted(sys.modules)))
    sys.stdout.flush()
    os._exit(0)
os.execvpe = _report
from envsecrets.cli import main
sys.argv = ["envsecrets", "run", "--", "true"]
sys.exit(main())
"""


def imported(env: dict[str, str]) -> list[str]:
    """Every module ``envsecrets run`` has imported when it hands over to the command."""
    answer = subprocess.run(
        [sys.executable, "-c", _LIST_MODULES], env=env, check=True, capture_output=True, text=True
    )
    return answer.stdout.split()


def floor_modules(env: dict[str, str]) -> set[str]:
    code = FLOOR[-1] + "; import sys; print(*sorted(sys.modules))"
    answer = subprocess.run(
        [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
    )
    return set(answer.stdout.split())


def run(runs: int) -> ColdStart:
    env = environment()
    command = [*envsecrets_command(), "run", "--", "true"]
    for _ in range(3):  # warm-up: page cache and bytecode caches
        _time(command, env)
        _time(FLOOR, env)
    mine, base = [], []
    for _ in range(runs):
        mine.append(_time(command, env))
        base.append(_time(FLOOR, env))
    modules = imported(env)
    floor = floor_modules(env)
    extra = sorted({m.split(".")[0] for m in modules if m not in floor and not m.startswith("_")})
    return ColdStart(median(mine), median(base), runs, modules, extra)


def targets(result: ColdStart) -> list[Target]:
    heavy = sorted({m for m in result.modules if m.split(".")[0] in HEAVY})
    return [
        Target(
            "Cold start",
            result.ratio <= BUDGET and not heavy,
            f"{ms(result.envsecrets)} vs floor {ms(result.floor)} = {ratio(result.ratio)}; "
            f"heavy SDK modules imported: {', '.join(heavy) or 'none'}",
            f"<= {BUDGET}x the floor; no boto3/hvac",
        )
    ]
