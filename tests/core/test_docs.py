"""Meta-tests: the docs name every command, option and hook that exists."""

from __future__ import annotations

import argparse
import inspect
import re
from pathlib import Path

import pytest

from envsecrets.cli import build_parser
from envsecrets.hooks import ProviderSpec

DOCS = Path(__file__).parents[2] / "docs"


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("no subcommands")


def test_every_command_has_a_section_in_the_cli_docs() -> None:
    text = (DOCS / "cli.md").read_text()
    for name in subcommands():
        assert f"## envsecrets {name}" in text, name


@pytest.mark.parametrize("command", sorted(subcommands()))
def test_every_option_appears_in_the_cli_docs(command: str) -> None:
    text = (DOCS / "cli.md").read_text()
    for action in subcommands()[command]._actions:
        for option in action.option_strings:
            if option in {"-h", "--help"}:
                continue
            assert re.search(rf"`[^`]*{re.escape(option)}\b", text), f"{command} {option}"


def test_every_top_level_option_appears_in_the_cli_docs() -> None:
    text = (DOCS / "cli.md").read_text()
    for action in build_parser()._actions:
        for option in action.option_strings:
            if option not in {"-h", "--help"}:
                assert re.search(rf"`[^`]*{re.escape(option)}\b", text), option


def test_every_exit_code_is_documented() -> None:
    from envsecrets import cli

    text = (DOCS / "cli.md").read_text()
    for name in dir(cli):
        if name.startswith("EXIT_"):
            assert f"| {getattr(cli, name)} |" in text, name


def test_every_hook_is_documented_with_its_signature() -> None:
    hooks = {
        name: function
        for name, function in vars(ProviderSpec).items()
        if name.startswith("envsecrets_")
    }
    assert set(hooks) == {
        "envsecrets_providers",
        "envsecrets_commands",
        "envsecrets_resource_templates",
    }
    pages = "".join(p.read_text() for p in DOCS.glob("*.md"))
    for name, function in hooks.items():
        # The documented call takes exactly the spec's arguments (none today).
        parameters = list(inspect.signature(function).parameters)[1:]
        assert f"def {name}({', '.join(parameters)})" in pages, name


def test_every_first_party_provider_has_a_page() -> None:
    for name in ("aws", "vault", "envjson"):
        assert (DOCS / "providers" / f"{name}.md").is_file(), name
