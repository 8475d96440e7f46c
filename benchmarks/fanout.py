"""Fan-out: 1,000 variables over 100 secrets (10 keys each), for AWS and for
Vault (token and AppRole), envsecrets and each baseline, against the same
servers behind the same latency proxy.

Contenders run interleaved (one of each per round), each in a fresh session:
a new client, a new cache. SDK imports are paid once up front; their cost is
what the cold-start scenario measures.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import envsecrets
from benchmarks.baselines import aws_caching, sequential, vault_loader
from benchmarks.fixtures import FanOut, secret_name
from benchmarks.servers import Servers
from benchmarks.stats import Target, median, ms, ratio
from testservers.moto import moto_environ


@dataclass
class Result:
    contender: str
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)  # this process
    harness: list[float] = field(default_factory=list)  # proxies + servers
    operations: list[dict[str, int]] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return median(self.walls)

    @property
    def cpu(self) -> float:
        return median(self.cpus)

    @property
    def harness_cpu(self) -> float:
        return median(self.harness)

    @property
    def requests(self) -> dict[str, int]:
        """The operations of the median run (they are the same in every run when stable)."""
        order = sorted(range(len(self.walls)), key=self.walls.__getitem__)
        return self.operations[order[len(order) // 2]]

    @property
    def stable(self) -> bool:
        return all(ops == self.operations[0] for ops in self.operations)


@dataclass
class Store:
    """One store's contenders and their results."""

    title: str
    proxy: str  # "aws" or "vault"
    results: list[Result]


def envsecrets_session(env: Mapping[str, str], environ: Mapping[str, str]) -> dict[str, str]:
    with envsecrets.Resolver(environ) as resolver:
        return resolver.resolve(env)


def _measure(
    servers: Servers,
    proxy: str,
    contenders: dict[str, Callable[[], Mapping[str, str]]],
    expected: Mapping[str, str],
    repeat: int,
) -> list[Result]:
    results = {name: Result(name) for name in contenders}
    for _ in range(repeat):
        for name, run in contenders.items():
            servers.reset(proxy)
            harness = servers.cpu()
            cpu = time.process_time()
            started = time.perf_counter()
            values = run()
            elapsed = time.perf_counter() - started
            cpu = time.process_time() - cpu
            harness = servers.cpu() - harness
            operations = servers.operations(proxy)
            wrong = [v for v, value in expected.items() if values.get(v) != value]
            if wrong:
                raise AssertionError(f"{name}: {len(wrong)} variables wrong, e.g. {wrong[0]}")
            results[name].walls.append(elapsed)
            results[name].cpus.append(cpu)
            results[name].harness.append(harness)
            results[name].operations.append(operations)
    return list(results.values())


class WarmResolver:
    """A long-lived Resolver (clients, connections and tokens kept; no
    cache): what fan-out costs once a session's clients exist."""

    def __init__(self, environ: Mapping[str, str], env: Mapping[str, str]) -> None:
        self.resolver = envsecrets.Resolver(environ)
        self.env = env
        self.resolver.resolve(env)  # builds the clients (and logs in)

    def __call__(self) -> dict[str, str]:
        return self.resolver.resolve(self.env)

    def close(self) -> None:
        self.resolver.close()


WARM = "envsecrets, long-lived Resolver (for reference)"
#: How much faster than the sequential model a Vault fan-out must be.
SPEEDUP = 12
#: The Vault target this one replaced (issue 12): an absolute wall time,
#: which on a 2-core machine measured the harness's CPU as much as the client.
RETIRED = "<= 8 delays"

#: Client CPU per read (ms) of earlier versions of envsecrets-vault, from
#: earlier runs of this benchmark on this machine (the session's CPU over
#: its 100 reads, as in the fan-out table): label -> (token, AppRole).
#: ``None``: not measured then.
EARLIER_CPU_PER_READ: dict[str, tuple[float | None, float | None]] = {
    "hand-written HTTP/1.1 client (before issue 12)": (0.58, 0.61),
    "hvac + requests, first version (before profiling; 9.2x to 14x)": (1.37, None),
}


def warm_up() -> None:
    """Import every SDK once so that no contender pays for an import."""
    import aws_secretsmanager_caching  # noqa: F401
    import boto3  # noqa: F401
    import hvac  # noqa: F401
    import vault_env_loader  # noqa: F401

    import envsecrets_aws.provider  # noqa: F401
    import envsecrets_vault.client  # noqa: F401


def run(servers: Servers, secrets: int, repeat: int) -> list[Store]:
    data = FanOut(secrets)
    data.seed_aws(servers.moto_url)
    role_id, secret_id = data.seed_vault(servers.bao)
    names = [secret_name(i) for i in range(secrets)]
    expected = data.expected()
    warm_up()

    aws_env = data.env("aws")
    aws_environ = moto_environ(servers.aws_url)
    vault_env = data.env("vaultkv2")
    token_environ = {"VAULT_ADDR": servers.vault_url, "VAULT_TOKEN": servers.bao.root_token}
    approle_environ = {
        "VAULT_ADDR": servers.vault_url,
        "VAULT_APP_ROLE_ID": role_id,
        "VAULT_APP_ROLE_SECRET_ID": secret_id,
    }
    # One untimed session each, so that first-use costs (botocore's model
    # files, hvac's adapters) are not billed to the first contender.
    envsecrets_session(dict(list(aws_env.items())[:1]), aws_environ)
    envsecrets_session(dict(list(vault_env.items())[:1]), token_environ)
    sequential.resolve(dict(list(aws_env.items())[:1]), aws_environ)

    stores = []
    warm = [WarmResolver(aws_environ, aws_env)]
    aws = {
        "envsecrets": lambda: envsecrets_session(aws_env, aws_environ),
        "sequential model (boto3 GetSecretValue)": lambda: sequential.resolve(aws_env, aws_environ),
        "aws-secretsmanager-caching": lambda: aws_caching.resolve(aws_env, aws_environ),
        WARM: warm[-1],
    }
    stores.append(
        Store("AWS Secrets Manager", "aws", _measure(servers, "aws", aws, expected, repeat))
    )
    for title, environ in (("Vault, token", token_environ), ("Vault, AppRole", approle_environ)):
        warm.append(WarmResolver(environ, vault_env))
        contenders = {
            "envsecrets": lambda environ=environ: envsecrets_session(vault_env, environ),
            "sequential model (hvac)": lambda environ=environ: sequential.resolve(
                vault_env, environ
            ),
            "vault-env-loader": lambda environ=environ: vault_loader.resolve(names, environ),
            WARM: warm[-1],
        }
        stores.append(
            Store(title, "vault", _measure(servers, "vault", contenders, expected, repeat))
        )
    for resolver in warm:
        resolver.close()
    return stores


def targets(stores: list[Store], secrets: int, delay: float) -> list[Target]:
    found = []
    by_title = {store.title: store for store in stores}
    aws = by_title["AWS Secrets Manager"]
    mine, model = aws.results[0], aws.results[1]
    calls = math.ceil(secrets / 20)
    total = sum(mine.requests.values())
    speedup = model.wall / mine.wall
    wall_ok = mine.wall <= 3 * delay
    found.append(
        Target(
            "AWS fan-out",
            total == calls
            and mine.requests.get("BatchGetSecretValue") == calls
            and wall_ok
            and speedup >= 20,
            f"{total} requests; {ms(mine.wall)} = {mine.wall / delay:.1f} delays; "
            f"{ratio(speedup)} faster than the sequential model",
            f"{calls} requests (ceil(K/20)); <= 3 delays; >= 20x",
        )
    )
    for title in ("Vault, token", "Vault, AppRole"):
        store = by_title[title]
        mine, model = store.results[0], store.results[1]
        ops = mine.requests
        reads = sum(n for op, n in ops.items() if op.startswith("GET /v1/secret/data/"))
        logins = ops.get("POST /v1/auth/approle/login", 0)
        lookups = mount_lookups(ops)
        other = sum(ops.values()) - reads - logins - lookups
        speedup = model.wall / mine.wall
        # The former absolute "<= 8 delays" target is retired: on a 2-core
        # machine it measured the harness's CPU as much as the client.
        ok = reads == secrets and logins <= 1 and lookups <= 1 and other == 0 and speedup >= SPEEDUP
        required = (
            f"{secrets} reads + <= 1 login + <= 1 mount lookup; >= {SPEEDUP}x the sequential model"
        )
        measured = (
            f"{reads} reads + {logins} login + {lookups} mount lookup; "
            f"{ms(mine.wall)} = {mine.wall / delay:.1f} delays; "
            f"{ratio(speedup)} faster than the sequential model; client CPU "
            f"{cpu_per_read(mine, secrets):.2f} ms per read"
        )
        target = Target(f"{title} fan-out", ok, measured, required)
        if not ok:
            target.notes.append(_why_vault_failed(mine, model, secrets, delay, ops))
        found.append(target)
    return found


def mount_lookups(ops: Mapping[str, int]) -> int:
    """The confinement lookups of a session: before its first read of a
    mount, the Vault plugin asks which mount serves the path (one here:
    every secret is in ``secret/``), and refuses anything but KV."""
    return sum(n for op, n in ops.items() if op.startswith("GET /v1/sys/internal/ui/mounts/"))


def cpu_per_read(result: Result, secrets: int) -> float:
    """Client CPU of a session per read, in ms (the whole session's CPU,
    resolving its 1,000 variables included, over its *secrets* reads)."""
    return result.cpu / secrets * 1000


def _why_vault_failed(
    mine: Result, model: Result, secrets: int, delay: float, ops: dict[str, int]
) -> str:
    reads = sum(n for op, n in ops.items() if op.startswith("GET /v1/secret/data/"))
    if reads != secrets or sum(ops.values()) - reads - mount_lookups(ops) > 1:
        return (
            f"the session sent {operations_of(ops)}, not {secrets} reads, <= 1 login "
            "and <= 1 mount lookup"
        )
    # On 2 cores shared by the client, the proxy and OpenBao, a session
    # cannot end sooner than its CPU allows; say how much of the wall that is.
    floor = max(mine.cpu, (mine.cpu + mine.harness_cpu) / 2)
    return (
        f"CPU-bound, not latency-bound: the session took {ms(mine.wall)} for "
        f"{ms(model.wall)} of the sequential model (needs <= {ms(model.wall / SPEEDUP)}); "
        f"its client CPU was {ms(mine.cpu)} ({cpu_per_read(mine, secrets):.2f} ms per read) "
        f"and the proxy and OpenBao used {ms(mine.harness_cpu)}, so the 2 cores alone "
        f"need >= {ms(floor)} before the {delay * 1000:.0f} ms delays; profiled, most "
        "of the client's CPU per read is spent inside requests, urllib3 and http.client"
    )


def operations_of(ops: dict[str, int]) -> str:
    return ", ".join(f"{n} {op}" for op, n in sorted(ops.items())) or "nothing"


def cpu_section(stores: list[Store], secrets: int) -> str:
    """The Vault client's CPU per read across versions, and the retired target."""
    now = {
        store.title: cpu_per_read(store.results[0], secrets)
        for store in stores
        if store.proxy == "vault"
    }

    def cell(value: float | None) -> str:
        return "—" if value is None else f"{value:.2f} ms"

    lines = [
        "### Vault: client CPU per read",
        "",
        "The client CPU of one fan-out session (a fresh `Resolver` resolving the "
        f"1,000 variables) over its {secrets} reads; the session is the `envsecrets` row "
        "of the fan-out table. On this 2-core machine, shared by the client, the proxy "
        "and OpenBao, this figure decides the Vault fan-out ratio.",
        "",
        "| envsecrets-vault | token | AppRole |",
        "|---|---|---|",
    ]
    lines += [
        f"| {label} | {cell(token)} | {cell(approle)} |"
        for label, (token, approle) in EARLIER_CPU_PER_READ.items()
    ]
    lines += [
        f"| hvac + requests, now (this run) | {cell(now.get('Vault, token'))} | "
        f"{cell(now.get('Vault, AppRole'))} |",
        "",
        "The Vault fan-out targets are: K distinct paths cost exactly K reads, <= 1 "
        "login and <= 1 mount lookup (counted at the proxy; the lookup confines reads to KV "
        "mounts, once per mount per session), and the session is >= "
        f"{SPEEDUP}x faster than the "
        f'sequential model in the same run. They replace the absolute "{RETIRED}" target '
        "(retired with issue 12): on a 2-core machine it measured the harness's CPU as much "
        "as the client's, and it pushed the code toward a hand-made HTTP client.",
    ]
    return "\n".join(lines)
