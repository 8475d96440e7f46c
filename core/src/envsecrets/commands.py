"""The records of ``envsecrets`` subcommands: the core's and the plugins'."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from dataclasses import dataclass

from envsecrets.errors import PluginError

#: The plugin name of the core's own commands (:mod:`envsecrets.cli.builtin`).
BUILTIN_PLUGIN = "envsecrets.cli.builtin"

_COMMAND_NAME = re.compile(r"[a-z][a-z0-9-]*")


@dataclass(frozen=True, slots=True)
class Command:
    """A subcommand of ``envsecrets`` (a plugin's ``envsecrets edit``).

    :param name: the command word, lowercase letters, digits and ``-``; it
        cannot replace a built-in command.
    :param summary: one line for ``envsecrets --help``.
    :param configure_parser: adds the command's arguments to its
        :class:`argparse.ArgumentParser` (its description included).
    :param action: runs the command with the parsed arguments and returns
        the exit code.
    :raise PluginError: when the name or the callables are unusable.
    """

    name: str
    summary: str
    configure_parser: Callable[[argparse.ArgumentParser], None]
    action: Callable[[argparse.Namespace], int]

    def __post_init__(self) -> None:
        if not (isinstance(self.name, str) and _COMMAND_NAME.fullmatch(self.name)):
            raise PluginError(f"a command name must match [a-z][a-z0-9-]*, not {self.name!r}")
        if not (callable(self.configure_parser) and callable(self.action)):
            raise PluginError(
                f"the command {self.name!r} needs callable configure_parser and action"
            )


@dataclass(frozen=True, slots=True)
class CommandInfo:
    """A command and the plugin it came from."""

    command: Command
    plugin: str
    distribution: str | None = None
    version: str | None = None

    @property
    def builtin(self) -> bool:
        """Whether the core itself adds the command."""
        return self.plugin == BUILTIN_PLUGIN

    @property
    def origin(self) -> str:
        """Who adds the command, as ``envsecrets --help`` names it."""
        if self.builtin:
            return "envsecrets"
        return self.distribution or f"plugin {self.plugin}"
