"""The benchmark runner: every scenario in one run, one Markdown report.

python -m benchmarks [--repeat 5] [--cold-runs 15] [--scale-runs 15] [--role-runs 9]
                     [--delay 0.02] [--only cold|fanout|role|scale|agent]...
                     [--output docs/performance.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

from benchmarks import agent, cold_start, fanout, role, scale
from benchmarks.servers import ROOT, Servers
from benchmarks.stats import Target, ms, operations_text, ratio


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--repeat", type=int, default=5, help="runs per fan-out figure")
    parser.add_argument("--cold-runs", type=int, default=15, help="runs per cold-start figure")
    parser.add_argument(
        "--scale-runs", type=int, default=15, help="runs per scale figure (each under 0.2 s)"
    )
    parser.add_argument("--role-runs", type=int, default=9, help="runs per role figure")
    parser.add_argument("--delay", type=float, default=0.02, help="proxy delay per request, s")
    parser.add_argument("--secrets", type=int, default=100, help="distinct secrets in fan-out")
    parser.add_argument(
        "--only",
        choices=("cold", "fanout", "role", "scale", "agent"),
        action="append",
        help="run only these",
    )
    parser.add_argument(
        "--output", default=str(ROOT / "docs" / "performance.md"), help="'-' for stdout only"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    only = set(args.only or ("cold", "fanout", "role", "scale", "agent"))
    started = time.perf_counter()
    sections: list[str] = []
    found: list[Target] = []

    if "cold" in only:
        _say("cold start ...")
        cold = cold_start.run(args.cold_runs)
        found += cold_start.targets(cold)
        sections.append(_cold_section(cold))
    if "fanout" in only:
        _say("fan-out (servers, seeding) ...")
        with Servers(delay=args.delay) as servers:
            stores = fanout.run(servers, args.secrets, args.repeat)
        found += fanout.targets(stores, args.secrets, args.delay)
        sections.append(_fanout_section(stores, args))
        sections.append(fanout.cpu_section(stores, args.secrets))
    if "role" in only:
        _say("role (servers, seeding) ...")
        with Servers(delay=args.delay) as servers:
            found_role = role.run(servers, args.role_runs)
        found += role.targets(found_role)
        sections.append(role.section(found_role))
    if "agent" in only:
        _say("agent (servers, seeding) ...")
        with Servers(delay=args.delay) as servers:
            found_agent = agent.run(servers, args.role_runs)
        found += agent.targets(found_agent)
        sections.append(agent.section(found_agent))
    if "scale" in only:
        _say("scale ...")
        points, peak = scale.run(args.scale_runs)
        found += scale.targets(points)
        sections.append(_scale_section(points, peak))

    elapsed = time.perf_counter() - started
    report = _report(found, sections, args, elapsed)
    print(report)
    if args.output != "-":
        Path(args.output).write_text(report, encoding="utf-8")
        _say(f"wrote {args.output}")
    return 0 if all(target.passed for target in found) else 1


def _say(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)


def _targets_table(found: list[Target]) -> str:
    lines = ["| target | required | measured | verdict |", "|---|---|---|---|"]
    lines += [f"| {t.name} | {t.required} | {t.measured} | **{t.verdict}** |" for t in found]
    why = [f"- **{t.name}: {t.verdict}.** {note}" for t in found for note in t.notes]
    if why:
        lines += ["", *why]
    return "\n".join(lines)


def _cold_section(cold: cold_start.ColdStart) -> str:
    heavy = [m for m in cold.modules if m.split(".")[0] in cold_start.HEAVY]
    return "\n".join(
        [
            "### Cold start",
            "",
            f"`envsecrets run -- true` with {cold_start.REFERENCES} `_envjson` references and "
            f'every plugin installed, against `python -c "import pluggy, importlib.metadata"`; '
            f"median of {cold.runs} runs each, interleaved.",
            "",
            "| command | median wall | vs floor |",
            "|---|---|---|",
            f"| `envsecrets run -- true` | {ms(cold.envsecrets)} | {ratio(cold.ratio)} |",
            f"| floor: `import pluggy, importlib.metadata` | {ms(cold.floor)} | 1.00x |",
            "",
            f"Modules imported by `envsecrets run`: {len(cold.modules)}; top-level packages "
            f"beyond the floor's: {', '.join(f'`{m}`' for m in cold.extra_modules) or 'none'}. "
            f"boto3, botocore, hvac, requests, urllib3 among them: "
            f"{', '.join(heavy) or '**none**'}.",
        ]
    )


def _fanout_section(stores: list[fanout.Store], args: argparse.Namespace) -> str:
    variables = args.secrets * 10
    lines = [
        "### Fan-out",
        "",
        f"{variables:,} variables over {args.secrets} distinct secrets (10 keys each), one "
        f"fresh session per run; every request crosses a proxy adding "
        f"{args.delay * 1000:.0f} ms. Median of {args.repeat} runs, contenders interleaved; "
        "ratios are against envsecrets in the same run.",
        "",
        "| store | contender | median wall | in delays | envsecrets is faster by | "
        "client CPU | proxy + server CPU | requests by operation |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for store in stores:
        mine = store.results[0]
        for result in store.results:
            faster = (
                "—"
                if result is mine or result.contender == fanout.WARM
                else ratio(result.wall / mine.wall)
            )
            unstable = "" if result.stable else " (varied between runs)"
            lines.append(
                f"| {store.title} | {result.contender} | {ms(result.wall)} | "
                f"{result.wall / args.delay:.1f} | {faster} | {ms(result.cpu)} | "
                f"{ms(result.harness_cpu)} | {operations_text(_short(result.requests))}{unstable} |"
            )
    return "\n".join(lines)


def _short(operations: dict[str, int]) -> dict[str, int]:
    """Fold ``GET /v1/secret/data/s042`` into ``GET /v1/secret/data/*``."""
    folded: dict[str, int] = {}
    for name, count in operations.items():
        key = "GET /v1/secret/data/*" if name.startswith("GET /v1/secret/data/") else name
        folded[key] = folded.get(key, 0) + count
    return folded


def _scale_section(points: list[scale.Point], peak: int) -> str:
    largest = points[-1]
    lines = [
        "### Scale",
        "",
        "In-process `envsecrets.Resolver({}, plugins=[memory_provider], entry_points=False)` "
        "with an in-memory provider (no I/O), 10 references per secret; a new resolver per "
        "run; CPU is `time.process_time()` (all threads).",
        "",
        "| references | secrets | median wall | median CPU | CPU per reference | "
        "marginal CPU per added reference |",
        "|---|---|---|---|---|---|",
    ]
    slopes = ["—", *(f"{s * 1e6:.1f} µs" for s in scale.marginal_costs(points))]
    lines += [
        f"| {p.references:,} | {p.secrets:,} | {ms(p.wall)} | {ms(p.cpu)} | "
        f"{p.cpu_per_reference * 1e6:.1f} µs | {slope} |"
        for p, slope in zip(points, slopes, strict=True)
    ]
    lines += [
        "",
        f"Peak traced memory (tracemalloc) while resolving {largest.references:,} references: "
        f"{peak / 2**20:.1f} MiB ({peak / largest.references:.0f} bytes per reference).",
        "",
        "Linearity is judged on the marginal cost (the slope of CPU against "
        "references): the last step's against the whole range's. A fixed cost "
        "per session, such as starting the worker threads, lowers the average "
        "per reference of larger runs without making growth less linear.",
    ]
    return "\n".join(lines)


def _report(
    found: list[Target], sections: list[str], args: argparse.Namespace, elapsed: float
) -> str:
    header = [
        "# Performance",
        "",
        "Written by `tox -e bench` (`python -m benchmarks`); do not edit by hand.",
        "",
        f"Machine: {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {platform.system()}; proxy delay {args.delay * 1000:.0f} ms; "
        f"whole run {elapsed:.0f} s.",
        "",
        "## Targets",
        "",
        _targets_table(found),
        "",
        "## Results",
        "",
    ]
    return "\n".join([*header, "\n\n".join(sections), "", METHOD])


METHOD = """\
## Method

- **Same run, same servers.** moto's Secrets Manager app (served alone, as
  the real endpoint serves one service: moto's all-services server spends a
  third of its CPU per request working out which service a request is for)
  and an OpenBao dev server
  are started once; each sits behind a latency proxy (`testservers.proxy.Proxy`)
  that sleeps a fixed delay before forwarding every request and counts
  requests by operation (the AWS `X-Amz-Target` operation, or `METHOD /path`
  for Vault). moto and the proxies run in child processes so that server
  threads do not share the measured interpreter's GIL.
- **Medians and ratios.** Every figure is the median of repeated runs with the
  contenders interleaved (one run of each per round), and every comparison is
  a ratio of medians taken in the same run, so that load from other work on
  the machine falls on all contenders alike.
- **Sessions.** Each fan-out run is one session: a new `envsecrets.Resolver`
  (or a new boto3/hvac client, a new `SecretCache`), as at a process start.
  One exception, as in a long-lived agent: envsecrets-aws shares its botocore
  client (and kept-alive connections) between resolvers of one process with
  the same settings, so AWS sessions after the first build no client.
  SDK imports are paid once before the timed runs; their cost is what the
  cold-start scenario measures, through the real console script.
- **Correctness.** Every run of every contender is checked against the
  expected 1,000 values before its time counts.
- **CPU columns.** "client CPU" is `time.process_time()` of the benchmark
  process during the run (every thread; the GIL lets only one run at a
  time); "proxy + server CPU" is what moto or OpenBao and the proxy used
  (from `/proc`). On a 2-core machine a session cannot be shorter than the
  client's CPU, nor than half of the two columns together: where they exceed
  the target's delays, the target is CPU-bound, not latency-bound.
- **Long-lived Resolver** rows resolve the same variables again on one
  `Resolver` (clients, connections and AppRole token kept, no cache). They
  are for reference only (no target is judged on them); the gap to the
  session row is the cost of building clients and logging in.
- **The proxy.** The latency proxy is the tests' own proxy engine
  (`testservers.proxy.Proxy`): a single-threaded asyncio proxy (on uvloop
  when it is installed) with kept-alive client connections, a pool of
  kept-alive upstream connections, `TCP_NODELAY` and a deep listen backlog.
  It costs about 0.25 ms of CPU per request (a thread per connection and a
  new upstream connection per request cost ~0.9 ms), so that the harness
  takes less of the machine's CPUs from the client under test.
- **Role.** Each contender is a new process (`envsecrets run -- env`, or
  the sequential model as a Python process that imports boto3 and hvac),
  its output checked; the undelayed row runs the same command against the
  servers directly, so that "cold start + 3 delays" compares like with like
  (the same imports, clients and TLS-free connections), the delays being the
  login, the wave of reads and the AWS call alongside.
- The runner exits 1 when a target fails, so `tox -e bench` reports FAIL.

### Baselines

1. **Sequential model of the original agent** (`benchmarks/baselines/sequential.py`):
   its published algorithm. Variables one after another; one fetch per
   distinct secret per session (a per-session cache); boto3 `GetSecretValue`
   for `_aws`, hvac for `_vaultkv2` (the `mount/data/path` form it requires),
   and with AppRole one login before every read.
2. **aws-secretsmanager-caching** (`benchmarks/baselines/aws_caching.py`): AWS's
   official caching client, a new `SecretCache` per session (cold), asked for
   each variable's secret in turn. Each distinct secret costs a
   `DescribeSecret` and a `GetSecretValue`.
3. **vault-env-loader** (`benchmarks/baselines/vault_loader.py`, PyPI): a
   Python Vault exec wrapper with a library API. It cannot map a variable to
   one key of a secret; it imports whole secrets, each key becoming a variable,
   which expresses this data set exactly (100 imports with `prefix=SNNN_` give
   the same 1,000 variables and values). It is given `kv=2`, which skips its
   per-import mount probe (the setting most favourable to it). It reads
   sequentially over `urllib`, after a `lookup-self`; with AppRole it logs in
   once and revokes its token at the end.
4. **The interpreter floor**: `python -c "import pluggy, importlib.metadata"`,
   the least any pluggy plugin host with entry points must import.
"""
