"""Scale: up to 10,000 variables over 1,000 secrets, in-process, with an
in-memory provider: wall time, CPU per reference, peak memory, linearity."""

from __future__ import annotations

import gc
import itertools
import time
import tracemalloc
from dataclasses import dataclass

import envsecrets
from benchmarks import memory_provider
from benchmarks.stats import Target, median

SIZES = (1_000, 2_000, 5_000, 10_000)
#: Linear: the references added in the last step cost at most this factor
#: of the average added reference over the whole range.
LINEARITY_FACTOR = 1.5
CPU_BUDGET = 50e-6  # seconds of CPU per reference


@dataclass
class Point:
    references: int
    secrets: int
    wall: float
    cpu: float

    @property
    def cpu_per_reference(self) -> float:
        return self.cpu / self.references


def environment(references: int) -> dict[str, str]:
    keys = memory_provider.KEYS
    return {f"V{i}": f"_mem:secret{i // keys}:k{i % keys}" for i in range(references)}


def _session(env: dict[str, str]) -> dict[str, str]:
    with envsecrets.Resolver({}, plugins=[memory_provider], entry_points=False) as resolver:
        return resolver.resolve(env)


def run(repeat: int) -> tuple[list[Point], int]:
    """Return the points (median of *repeat* runs, sizes interleaved) and the
    peak traced memory, in bytes, of one 10,000-reference resolution."""
    envs = {size: environment(size) for size in SIZES}
    _session(envs[SIZES[0]])  # warm-up
    # The SDKs the fan-out scenario loaded (~10^6 objects) are no part of a
    # resolution, but every full collection during one would walk them.
    gc.collect()
    gc.freeze()
    try:
        return _measure(envs, repeat)
    finally:
        gc.unfreeze()


def _measure(envs: dict[int, dict[str, str]], repeat: int) -> tuple[list[Point], int]:
    walls: dict[int, list[float]] = {size: [] for size in SIZES}
    cpus: dict[int, list[float]] = {size: [] for size in SIZES}
    for _ in range(repeat):
        for size in SIZES:
            gc.collect()
            wall, cpu = time.perf_counter(), time.process_time()
            values = _session(envs[size])
            cpus[size].append(time.process_time() - cpu)
            walls[size].append(time.perf_counter() - wall)
            assert values["V1"] == "secret0-k1"
            assert len(values) == size
    points = [
        Point(size, size // memory_provider.KEYS, median(walls[size]), median(cpus[size]))
        for size in SIZES
    ]
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    _session(envs[SIZES[-1]])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return points, peak


def marginal_costs(points: list[Point]) -> list[float]:
    """CPU per added reference between consecutive sizes: the slope of CPU
    against references, which a fixed per-session cost (starting worker
    threads, loading plugins) does not bend, as it bends the average."""
    return [
        (later.cpu - earlier.cpu) / (later.references - earlier.references)
        for earlier, later in itertools.pairwise(points)
    ]


def targets(points: list[Point]) -> list[Target]:
    slopes = marginal_costs(points)
    first, before_last, largest = points[0], points[-2], points[-1]
    # Super-linear growth makes the last references dearer than the average
    # added one. Judged on the widest spans: differences of the small sizes'
    # ~10 ms figures are mostly noise.
    overall = (largest.cpu - first.cpu) / (largest.references - first.references)
    last = slopes[-1]
    growth = last / overall if overall > 0 else float("inf")
    return [
        Target(
            "Scale: linear",
            growth <= LINEARITY_FACTOR,
            f"CPU per added reference {last * 1e6:.1f} µs from "
            f"{before_last.references:,} to {largest.references:,}, "
            f"{overall * 1e6:.1f} µs from {first.references:,} to {largest.references:,}: "
            f"{growth:.2f}x",
            f"last step <= {LINEARITY_FACTOR}x the average added reference",
        ),
        Target(
            "Scale: CPU per reference",
            largest.cpu_per_reference < CPU_BUDGET,
            f"{largest.cpu_per_reference * 1e6:.1f} µs at {largest.references:,} references",
            f"< {CPU_BUDGET * 1e6:.0f} µs",
        ),
    ]
