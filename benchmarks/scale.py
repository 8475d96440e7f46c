"""Scale: up to 10,000 variables over 1,000 secrets, in-process, with an
in-memory provider: wall time, CPU per reference, peak memory, linearity."""

from __future__ import annotations

import gc
import time
import tracemalloc
from dataclasses import dataclass

import envsecrets
from benchmarks import memory_provider
from benchmarks.stats import Target, median

SIZES = (1_000, 2_000, 5_000, 10_000)
#: Linear: CPU per reference at any size within this factor of the smallest.
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


def targets(points: list[Point]) -> list[Target]:
    per_ref = [point.cpu_per_reference for point in points]
    spread = max(per_ref) / min(per_ref)
    largest = points[-1]
    return [
        Target(
            "Scale: linear",
            spread <= LINEARITY_FACTOR,
            f"CPU per reference {', '.join(f'{p * 1e6:.1f}' for p in per_ref)} µs "
            f"at {'/'.join(f'{pt.references // 1000}k' for pt in points)}: spread {spread:.2f}x",
            f"spread <= {LINEARITY_FACTOR}x",
        ),
        Target(
            "Scale: CPU per reference",
            largest.cpu_per_reference < CPU_BUDGET,
            f"{largest.cpu_per_reference * 1e6:.1f} µs at {largest.references:,} references",
            f"< {CPU_BUDGET * 1e6:.0f} µs",
        ),
    ]
