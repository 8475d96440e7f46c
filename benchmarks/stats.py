"""Small helpers: medians, timing, formatting."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds >= 0.1 else f"{seconds * 1000:.1f} ms"


def ratio(value: float) -> str:
    # One decimal from 10x on: 11.8x must not read as a passing "12x".
    return f"{value:.2f}x" if value < 10 else f"{value:.1f}x"


def operations_text(operations: Mapping[str, int]) -> str:
    """``5 BatchGetSecretValue, 1 DescribeSecret``: most frequent first."""
    if not operations:
        return "none"
    items = sorted(operations.items(), key=lambda item: (-item[1], item[0]))
    return ", ".join(f"{count} {name}" for name, count in items)


@dataclass
class Target:
    """One target of the issue, its verdict and the figures behind it."""

    name: str
    passed: bool
    measured: str
    required: str
    notes: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        return "PASS" if self.passed else "FAIL"
