"""Test plugins: small in-process providers and a fake installed distribution.

These are providers written for the tests (backends), not stand-ins for the
code under test: the core is exercised for real against them.
"""

from __future__ import annotations

import textwrap
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import envsecrets


class DictProvider(envsecrets.Provider):
    """Serves ``_dict:NAME:KEY`` from the class attribute ``documents``; counts fetches."""

    prefix = "dict"
    description = "In-memory documents (tests)."
    documents: Mapping[str, envsecrets.Document] = {}
    delay = 0.0
    calls: list[str] = []
    lock = threading.Lock()
    active = 0
    peak = 0

    def fetch(self, name: str) -> envsecrets.Document:
        cls = type(self)
        with cls.lock:
            cls.calls.append(name)
            cls.active += 1
            cls.peak = max(cls.peak, cls.active)
        try:
            if cls.delay:
                time.sleep(cls.delay)
            if name not in cls.documents:
                raise envsecrets.SecretNotFound(f"no document {name!r}")
            return cls.documents[name]
        finally:
            with cls.lock:
                cls.active -= 1


class DictPlugin:
    """A plugin object registering provider classes."""

    def __init__(self, *classes: type[envsecrets.Provider]) -> None:
        self.classes = classes

    @envsecrets.hookimpl
    def envsecrets_providers(self) -> Sequence[type[envsecrets.Provider]]:
        return list(self.classes)


def make_dict_provider(
    documents: Mapping[str, envsecrets.Document], prefix: str = "dict", delay: float = 0.0
) -> type[DictProvider]:
    """A fresh DictProvider subclass with its own documents and counters."""
    return type(
        f"DictProvider_{prefix}",
        (DictProvider,),
        {
            "prefix": prefix,
            "documents": dict(documents),
            "delay": delay,
            "calls": [],
            "lock": threading.Lock(),
            "active": 0,
            "peak": 0,
        },
    )


REVERSE_PLUGIN = """
import envsecrets

class ReverseProvider(envsecrets.Provider):
    prefix = "rev"
    description = "Reverses its name (an example)."

    def fetch(self, name):
        return {"value": name[::-1]}

@envsecrets.hookimpl
def envsecrets_providers():
    return [ReverseProvider]
"""


def install_fake_distribution(
    site: Path, distribution: str, module: str, source: str, entry_name: str | None = None
) -> None:
    """Install *module* (with *source*) and a dist-info declaring it in the
    ``envsecrets`` entry-point group into folder *site*, as pip would."""
    (site / f"{module}.py").write_text(textwrap.dedent(source))
    info = site / f"{distribution.replace('-', '_')}-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 1.2.3\n")
    (info / "entry_points.txt").write_text(f"[envsecrets]\n{entry_name or module} = {module}\n")
