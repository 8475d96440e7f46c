"""The ``envsecrets`` command line: one module per command.

Each command module (``run``, ``resolve``, ``check``, ``get``, ``ls``,
``providers``, ``new_provider``) defines its :class:`envsecrets.Command`;
:mod:`~envsecrets.cli.builtin` registers them through the same
``envsecrets_commands`` hook as plugin commands, and :mod:`~envsecrets.cli.main`
builds the parser from those records.

Exit codes: 0 success; 1 a reference failed (nothing was run or written);
2 usage error (bad option, unreadable env file, an env file setting a
provider setting); 126 the command was found but could not be started; 127
the command was not found; 130 interrupted.
"""

from envsecrets.cli.builtin import BUILTIN_COMMANDS
from envsecrets.cli.exits import (
    EXIT_CANNOT_EXECUTE,
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_USAGE,
)
from envsecrets.cli.main import build_parser, main

__all__ = [
    "BUILTIN_COMMANDS",
    "EXIT_CANNOT_EXECUTE",
    "EXIT_FAILURE",
    "EXIT_INTERRUPTED",
    "EXIT_NOT_FOUND",
    "EXIT_OK",
    "EXIT_USAGE",
    "build_parser",
    "main",
]
