"""The role: the six fields of a postgres role from three providers, in one
``envsecrets run``, as the seed's own example resolves them.

    PG_PASS, PG_DB   _vaultkv2 (one KV v2 secret, AppRole login)
    PG_HOST, PG_PORT _aws (one Secrets Manager secret)
    PG_USER          _envjson
    PG_SSLMODE       plain

Three contenders, each a fresh process running ``env`` as its command,
interleaved: ``envsecrets run`` through the 20 ms proxies; the same command
straight to the servers (no added delay: what the run costs without network
latency, the "cold start" of this scenario); and the original agent's
sequential model (``benchmarks.baselines.sequential``) through the proxies,
as a process that imports boto3 and hvac as the agent would.

Target: the proxied run within cold start + 3 delays (the login, one wave of
reads, the AWS call alongside).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from benchmarks.cold_start import envsecrets_command
from benchmarks.servers import ROOT, Servers
from benchmarks.stats import Target, median, ms, operations_text, ratio
from testservers.moto import moto_environ, secretsmanager

#: How many delays the proxied run may add to the undelayed one.
DELAYS = 3

VALUES = {
    "PG_PASS": "role-pass-4e1f",
    "PG_DB": "orders",
    "PG_HOST": "db.internal",
    "PG_PORT": "5432",
    "PG_USER": "app_user",
    "PG_SSLMODE": "require",
}
REFERENCES = {
    # The KV v2 form the original agent requires (mount/data/path).
    "PG_PASS": "_vaultkv2:secret/data/database/pg:password",
    "PG_DB": "_vaultkv2:secret/data/database/pg:dbname",
    "PG_HOST": "_aws:pgprod:PG_HOST",
    "PG_PORT": "_aws:pgprod:PG_PORT",
    "PG_USER": "_envjson:ENV_CONFIG:user",
    "PG_SSLMODE": "require",
}
POLICY = 'path "secret/data/database/*" { capabilities = ["read"] }\n'

#: The sequential model as a process: resolve, then exec the command.
_MODEL = """\
import os, sys
sys.path.insert(0, {root!r})
from benchmarks.baselines.sequential import SequentialAgent
names = {names!r}
agent = SequentialAgent(os.environ)
resolved = agent.resolve({{name: os.environ[name] for name in names}})
os.execvpe("env", ["env"], {{**os.environ, **resolved}})
"""

CONTENDERS = ("envsecrets run", "envsecrets run, no added delay", "sequential model")


@dataclass
class RoleResult:
    runs: int
    delay: float
    walls: dict[str, list[float]] = field(default_factory=dict)
    operations: dict[str, dict[str, int]] = field(default_factory=dict)

    def wall(self, contender: str) -> float:
        return median(self.walls[contender])

    @property
    def budget(self) -> float:
        return self.wall(CONTENDERS[1]) + DELAYS * self.delay


def _seed(servers: Servers) -> tuple[str, str]:
    client = secretsmanager(servers.moto_url)
    secret = {"PG_HOST": VALUES["PG_HOST"], "PG_PORT": VALUES["PG_PORT"]}
    client.create_secret(Name="pgprod", SecretString=json.dumps(secret))
    bao = servers.bao
    bao.kv_put("secret", "database/pg", {"password": VALUES["PG_PASS"], "dbname": VALUES["PG_DB"]})
    bao.put_policy("role-bench", POLICY)
    return bao.approle(
        "role-bench", token_policies=["role-bench"], token_ttl="1h", secret_id_num_uses=0
    )


def _environ(aws_url: str, vault_url: str, approle: tuple[str, str]) -> dict[str, str]:
    base = {
        key: value
        for key, value in os.environ.items()
        if key in {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV"}
    }
    return {
        **base,
        **moto_environ(aws_url),
        "AWS_EC2_METADATA_DISABLED": "true",
        "VAULT_ADDR": vault_url,
        "VAULT_APP_ROLE_ID": approle[0],
        "VAULT_APP_ROLE_SECRET_ID": approle[1],
        "ENV_CONFIG": json.dumps({"user": VALUES["PG_USER"]}),
        **REFERENCES,
    }


def _run(command: list[str], env: Mapping[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        command, env=dict(env), check=True, capture_output=True, text=True, timeout=120
    )
    elapsed = time.perf_counter() - started
    seen = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    wrong = [name for name, value in VALUES.items() if seen.get(name) != value]
    if wrong:
        raise AssertionError(f"{command[0]}: {', '.join(wrong)} wrong")
    return elapsed


def run(servers: Servers, runs: int) -> RoleResult:
    approle = _seed(servers)
    proxied = _environ(servers.aws_url, servers.vault_url, approle)
    direct = _environ(servers.moto_url, servers.bao.address, approle)
    mine = [*envsecrets_command(), "run", "--", "env"]
    model = [
        sys.executable,
        "-c",
        _MODEL.format(root=str(ROOT), names=[n for n in REFERENCES if n != "PG_SSLMODE"]),
    ]
    plan = {
        CONTENDERS[0]: (mine, proxied),
        CONTENDERS[1]: (mine, direct),
        CONTENDERS[2]: (model, proxied),
    }
    result = RoleResult(runs, servers.delay, {name: [] for name in plan})
    for command, env in plan.values():  # warm-up: page cache, bytecode
        _run(command, env)
    for _ in range(runs):
        for name, (command, env) in plan.items():
            servers.reset("aws")
            servers.reset("vault")
            result.walls[name].append(_run(command, env))
            result.operations[name] = {**servers.operations("aws"), **servers.operations("vault")}
    return result


def targets(result: RoleResult) -> list[Target]:
    mine = result.wall(CONTENDERS[0])
    model = result.wall(CONTENDERS[2])
    return [
        Target(
            "Role (three providers, one run)",
            mine <= result.budget,
            f"{ms(mine)} vs cold start {ms(result.wall(CONTENDERS[1]))} + "
            f"{DELAYS} delays = {ms(result.budget)}; {ratio(model / mine)} faster than the "
            "sequential model",
            f"<= cold start + {DELAYS} delays",
        )
    ]


def section(result: RoleResult) -> str:
    lines = [
        "### Role",
        "",
        "The six fields of a postgres role from three providers in one `envsecrets run -- "
        "env`: PG_PASS and PG_DB from one Vault KV v2 secret (AppRole), PG_HOST and PG_PORT "
        "from one AWS secret, PG_USER from `_envjson`, PG_SSLMODE plain. Each run is a new "
        f'process; median of {result.runs} runs, contenders interleaved. "No added delay" '
        "is the same command straight to the servers: the cold start of this scenario.",
        "",
        "| contender | median wall | requests at the servers |",
        "|---|---|---|",
    ]
    for name in CONTENDERS:
        operations = operations_text(result.operations.get(name, {}))
        if name == CONTENDERS[1]:
            operations = "(not through the counting proxies)"
        lines.append(f"| {name} | {ms(result.wall(name))} | {operations} |")
    mine, model = result.wall(CONTENDERS[0]), result.wall(CONTENDERS[2])
    lines += [
        "",
        f"`envsecrets run` is {ratio(model / mine)} faster than the sequential model "
        f"({ms(mine)} against {ms(model)}); its budget, cold start + {DELAYS} delays, is "
        f"{ms(result.budget)}.",
    ]
    return "\n".join(lines)
