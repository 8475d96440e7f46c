"""The core's own commands, as an internal plugin of the ``envsecrets_commands``
hook: the command line registers it before any installed plugin (as tox
registers its own commands), so a plugin command cannot take a built-in's
name. :data:`BUILTIN_COMMANDS` is the one list of the built-in commands."""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from envsecrets.commands import BUILTIN_PLUGIN, Command, CommandInfo
from envsecrets.hooks import hookimpl

#: The built-in command words, in ``--help`` order. Each is defined by the
#: module of its name (``-`` as ``_``) in this package, as ``COMMAND``.
BUILTIN_COMMANDS = (
    "run",
    "resolve",
    "check",
    "get",
    "ls",
    "providers",
    "new-provider",
    "agent",
)

assert __name__ == BUILTIN_PLUGIN, "CommandInfo.builtin knows this module by name"


def command(name: str) -> Command:
    """The built-in command *name*, importing its module alone."""
    found = importlib.import_module(f"envsecrets.cli.{name.replace('-', '_')}").COMMAND
    assert isinstance(found, Command)
    return found


def table(names: Iterable[str] = BUILTIN_COMMANDS) -> dict[str, CommandInfo]:
    """The built-in commands *names* by name, without a plugin manager."""
    return {name: CommandInfo(command(name), BUILTIN_PLUGIN) for name in names}


@hookimpl
def envsecrets_commands() -> list[Command]:
    """Every built-in command."""
    return [command(name) for name in BUILTIN_COMMANDS]
