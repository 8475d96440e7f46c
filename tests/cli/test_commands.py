"""Commands added by plugins through ``envsecrets_commands`` (issue 11), and
plugin isolation: a broken plugin affects only itself (issue 15)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

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
