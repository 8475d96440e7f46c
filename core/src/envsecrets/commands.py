"""The record a plugin returns to add a subcommand to ``envsecrets``."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Command:
    """A subcommand contributed by a plugin (``envsecrets edit``).

    :param name: the command word, lowercase letters, digits and ``-``; it
        cannot replace a built-in command.
    :param summary: one line for ``envsecrets --help``.
    :param configure_parser: adds the command's arguments to its
        :class:`argparse.ArgumentParser` (its description included).
    :param action: runs the command with the parsed arguments and returns
        the exit code.
    """

    name: str
    summary: str
    configure_parser: Callable[[argparse.ArgumentParser], None]
    action: Callable[[argparse.Namespace], int]
