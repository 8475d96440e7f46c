"""Commands added by plugins through ``envsecrets_commands`` (issue 11), and
plugin isolation: a broken plugin affects only itself (issue 15)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pytest

import envsecrets
from envsecrets.cli import BUILTIN_COMMANDS, build_parser, builtin
from envsecrets.cli.main import command_word
from envsecrets.plugins import load_registry
from tests.cli.conftest import Runner
from tests.support.plugins import REVERSE_PLUGIN, install_fake_distribution

HELLO_PLUGIN = """
import envsecrets

def configure(parser):
    parser.description = "Say hello to WHO."
    parser.add_argument("who", nargs="?", default="world")

def hello(args):
    print(f"hello, {args.who}")
    return 3

def shadow(args):
    print("shadowed")
    return 0

@envsecrets.hookimpl
def envsecrets_commands():
    return [
        envsecrets.Command("hello", "say hello", configure, hello),
        envsecrets.Command("run", "tries to replace run", configure, shadow),
    ]
"""

BROKEN_COMMANDS = """
import envsecrets

@envsecrets.hookimpl
def envsecrets_commands():
    raise RuntimeError("boom")
"""

MISSPELT_HOOK = """
import envsecrets

@envsecrets.hookimpl
def envsecrets_provider():
    return []
"""


@pytest.fixture
def site(tmp_path: Path) -> Path:
    folder = tmp_path / "site"
    folder.mkdir()
    install_fake_distribution(folder, "envsecrets-hello", "envsecrets_hello", HELLO_PLUGIN)
    install_fake_distribution(folder, "envsecrets-rev", "envsecrets_rev", REVERSE_PLUGIN)
    return folder


def test_a_plugin_command_runs_and_is_listed_in_help(cli: Runner, site: Path) -> None:
    env = {"PYTHONPATH": str(site)}
    result = cli("hello", "you", env=env)
    assert (result.returncode, result.stdout) == (3, "hello, you\n")
    listed = cli("--help", env=env)
    assert "say hello [envsecrets-hello]" in listed.stdout
    assert "Say hello to WHO." in cli("hello", "--help", env=env).stdout


def test_a_plugin_command_cannot_replace_a_builtin(cli: Runner, site: Path) -> None:
    result = cli(
        "run", "--", sys.executable, "-c", "print('real run')", env={"PYTHONPATH": str(site)}
    )
    assert result.stdout == "real run\n"


def test_a_broken_command_plugin_breaks_neither_run_nor_others(cli: Runner, site: Path) -> None:
    install_fake_distribution(site, "envsecrets-broken", "envsecrets_broken", BROKEN_COMMANDS)
    env = {"PYTHONPATH": str(site), "R": "_rev:olleh:value"}
    run = cli("run", "--", sys.executable, "-c", "import os; print(os.environ['R'])", env=env)
    assert (run.returncode, run.stdout) == (0, "hello\n")
    assert cli("hello", env=env).stdout == "hello, world\n"
    providers = cli("providers", env=env)
    assert providers.returncode == 0  # providers are fine; the command hook is not loaded


def test_a_misspelt_hook_is_reported_and_only_its_plugin_fails(cli: Runner, site: Path) -> None:
    install_fake_distribution(site, "envsecrets-typo", "envsecrets_typo", MISSPELT_HOOK)
    env = {"PYTHONPATH": str(site), "R": "_rev:olleh:value"}
    providers = cli("providers", env=env)
    assert providers.returncode == 1
    assert "failed: plugin 'envsecrets_typo'" in providers.stdout
    assert "unknown hook 'envsecrets_provider'" in providers.stdout
    assert "Traceback" not in providers.stdout + providers.stderr
    run = cli("run", "--", sys.executable, "-c", "import os; print(os.environ['R'])", env=env)
    assert (run.returncode, run.stdout) == (0, "hello\n")


def test_the_allowlist_loads_only_the_named_plugins(cli: Runner, site: Path) -> None:
    env = {"PYTHONPATH": str(site), "ENVSECRETS_PLUGINS": "envsecrets_hello"}
    providers = cli("providers", env=env)
    assert "_rev" not in providers.stdout.split("not loaded")[0]
    assert "not loaded: plugin 'envsecrets_rev' (not in ENVSECRETS_PLUGINS)" in providers.stdout
    result = cli("get", "_rev:abc:value", env=env)
    assert result.returncode == 1
    assert "plugin 'envsecrets_rev' is not in ENVSECRETS_PLUGINS" in result.stderr


# The built-in commands are an internal plugin of the same hook (issue 18).


def test_the_built_in_commands_come_through_the_hook() -> None:
    assert BUILTIN_COMMANDS == (
        "run",
        "resolve",
        "check",
        "get",
        "ls",
        "providers",
        "new-provider",
        "agent",
    )
    registry = load_registry(environ={}, plugins=[builtin], entry_points=False, commands=True)
    assert not registry.failures
    assert tuple(registry.commands) == BUILTIN_COMMANDS
    for name, info in registry.commands.items():
        assert (info.command.name, info.plugin, info.builtin) == (name, builtin.__name__, True)
    # The parser is built from those records: one subcommand each, in order.
    (subcommands,) = [
        a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)
    ]
    assert tuple(subcommands.choices) == BUILTIN_COMMANDS


@pytest.mark.parametrize(("tryfirst", "trylast"), [(False, False), (True, False), (False, True)])
def test_a_plugin_command_named_like_a_built_in_is_refused(tryfirst: bool, trylast: bool) -> None:
    def action(args: argparse.Namespace) -> int:
        return 0

    class Shadowing:
        @envsecrets.hookimpl(tryfirst=tryfirst, trylast=trylast)
        def envsecrets_commands(self) -> list[envsecrets.Command]:
            return [
                envsecrets.Command("run", "tries to replace run", lambda parser: None, action),
                envsecrets.Command("hello", "say hello", lambda parser: None, action),
            ]

    plugins = [builtin, Shadowing()]
    registry = load_registry(environ={}, plugins=plugins, entry_points=False, commands=True)
    assert registry.commands["run"].builtin
    assert registry.commands["run"].command.summary != "tries to replace run"
    assert not registry.commands["hello"].builtin
    (failure,) = registry.failures
    assert failure.plugin.startswith("Shadowing")
    assert failure.reason == "PluginError: the command 'run' is a built-in command"


def test_the_refusal_names_the_distribution_and_help_keeps_the_built_in(
    cli: Runner, site: Path
) -> None:
    listed = cli("--help", env={"PYTHONPATH": str(site)})
    assert listed.returncode == 0
    assert "tries to replace run" not in listed.stdout
    assert "resolve the environment, then replace this process with" in listed.stdout
    assert (
        "plugin 'envsecrets_hello' (envsecrets-hello 1.2.3) gave a command left out: "
        "PluginError: the command 'run' is a built-in command"
    ) in listed.stderr
    # With no command at all, the help on stderr lists the plugins' commands too.
    bare = cli(env={"PYTHONPATH": str(site)})
    assert bare.returncode == 2
    assert "say hello [envsecrets-hello]" in bare.stderr


@pytest.mark.parametrize(
    ("argv", "word"),
    [
        ([], None),
        (["--help"], None),
        (["-h", "run"], None),
        (["run", "--help"], "run"),
        (["-v", "run", "--", "hello", "run"], "run"),
        (["-vv", "ls", "_aws:"], "ls"),
        (["hello", "run"], "hello"),
        (["--verbose", "new-provider", "x"], "new-provider"),
        (["--verbose=x", "run"], None),
    ],
)
def test_the_command_word_is_read_as_the_parser_reads_it(argv: list[str], word: str | None) -> None:
    assert command_word(argv) == word


def test_a_built_in_word_asks_no_plugin_for_commands(
    cli: Runner, site: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "asked"
    counting = f"""
import envsecrets, pathlib

@envsecrets.hookimpl
def envsecrets_commands():
    with pathlib.Path({str(marker)!r}).open("a") as file:
        file.write("asked\\n")
    return []
"""
    install_fake_distribution(site, "envsecrets-counting", "envsecrets_counting", counting)
    env = {"PYTHONPATH": str(site), "R": "_rev:olleh:value"}
    run = cli("run", "--", sys.executable, "-c", "import os; print(os.environ['R'])", env=env)
    assert (run.returncode, run.stdout) == (0, "hello\n")
    assert cli("-v", "check", env=env).returncode == 0
    assert cli("get", "_rev:ba:value", env=env).stdout == "ab\n"
    assert cli("run", "--help", env=env).returncode == 0
    assert not marker.exists()
    assert cli("--help", env=env).returncode == 0
    assert cli("hello", env=env).returncode == 3
    assert marker.read_text() == "asked\n" * 2


def test_command_records_are_checked_when_made() -> None:
    def action(args: argparse.Namespace) -> int:
        return 0

    with pytest.raises(envsecrets.PluginError, match=r"\[a-z\]\[a-z0-9-\]\*"):
        envsecrets.Command("Hello", "say hello", lambda parser: None, action)
    with pytest.raises(envsecrets.PluginError, match="callable"):
        envsecrets.Command("hello", "say hello", None, action)  # type: ignore[arg-type]
