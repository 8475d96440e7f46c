"""The provider tutorials quote the example provider's real code."""

from __future__ import annotations

import re
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


def test_the_contract_table_lists_every_contract_test() -> None:
    from envsecrets.testing import ProviderContract

    text = (ROOT / "docs/testing-a-provider.md").read_text(encoding="utf-8")
    tests = {name for name in dir(ProviderContract) if name.startswith("test_")}
    listed = set(re.findall(r"^\| `(test_\w+)` \|", text, re.MULTILINE))
    assert listed == tests
