"""The provider tutorials quote the example provider's real code."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TUTORIALS = ["docs/writing-a-provider.md", "docs/testing-a-provider.md"]

# A code block preceded by <!-- from PATH --> must appear verbatim in PATH.
QUOTE = re.compile(r"<!-- from (\S+) -->\n```\w*\n(.*?)```", re.DOTALL)


def quotes() -> list[tuple[str, str, str]]:
    found = []
    for tutorial in TUTORIALS:
        text = (ROOT / tutorial).read_text(encoding="utf-8")
        found.extend((tutorial, source, block) for source, block in QUOTE.findall(text))
    return found


def test_the_tutorials_quote_code() -> None:
    assert len(quotes()) >= 8


@pytest.mark.parametrize(("tutorial", "source", "block"), quotes())
def test_a_quoted_block_matches_its_source(tutorial: str, source: str, block: str) -> None:
    code = (ROOT / source).read_text(encoding="utf-8")
    assert block in code, f"{tutorial} quotes code that {source} no longer holds"


# A code block preceded by <!-- runs as written --> is a complete program.
RUNS = re.compile(r"<!-- runs as written -->\n```python\n(.*?)```", re.DOTALL)


def programs() -> list[str]:
    return [
        block
        for tutorial in TUTORIALS
        for block in RUNS.findall((ROOT / tutorial).read_text(encoding="utf-8"))
    ]


def test_the_guides_hold_programs() -> None:
    assert programs()


@pytest.mark.parametrize("program", programs())
def test_a_guide_program_runs_without_a_warning(program: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exec(compile(program, "<guide>", "exec"), {"__name__": "guide"})


def test_the_contract_tables_list_every_contract_test() -> None:
    from envsecrets.testing import CommandsContract, ProviderContract

    text = (ROOT / "docs/testing-a-provider.md").read_text(encoding="utf-8")
    tests = {
        name
        for contract in (ProviderContract, CommandsContract)
        for name in dir(contract)
        if name.startswith("test_")
    }
    listed = set(re.findall(r"^\| `(test_\w+)` \|", text, re.MULTILINE))
    assert listed == tests


def test_the_contract_fixtures_are_documented() -> None:
    from envsecrets.testing import ProviderContract

    text = (ROOT / "docs/testing-a-provider.md").read_text(encoding="utf-8")
    fixtures = {
        name
        for name in dir(ProviderContract)
        if name.startswith(("contract_", "missing_"))
        and name not in {"contract_provider", "contract_resolver"}  # built, not provided
    }
    listed = set(re.findall(r"^\| `(\w+)` \| fixture \|", text, re.MULTILINE))
    assert listed == fixtures


def test_the_api_page_says_how_its_reference_is_built() -> None:
    text = (ROOT / "docs/api.md").read_text(encoding="utf-8")
    assert "`tox -e docs`" in "\n".join(text.splitlines()[:12])


def test_the_api_page_names_objects_that_exist() -> None:
    import importlib

    text = (ROOT / "docs/api.md").read_text(encoding="utf-8")
    for dotted in re.findall(r"^::: ([\w.]+)$", text, re.MULTILINE):
        module, _, name = dotted.rpartition(".")
        try:
            found = importlib.import_module(dotted)
        except ImportError:
            found = getattr(importlib.import_module(module), name, None)
        assert found is not None, dotted
