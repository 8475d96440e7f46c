"""An in-memory provider for the scale scenario: no I/O, so what is measured
is the core's own work (parsing, deduplication, scheduling, extraction)."""

from __future__ import annotations

from collections.abc import Sequence

import envsecrets

KEYS = 10


class MemoryProvider(envsecrets.Provider):
    """``_mem:NAME:KEY``: secret NAME holds keys k0..k9, value ``NAME-kJ``."""

    prefix = "mem"
    description = "In-memory secrets for benchmarks."

    def fetch(self, name: str) -> envsecrets.Document:
        return {f"k{key}": f"{name}-k{key}" for key in range(KEYS)}


@envsecrets.hookimpl
def envsecrets_providers() -> Sequence[type[envsecrets.Provider]]:
    return [MemoryProvider]
