"""The ``envsecrets`` command line: one module per command.

Each command module (``run``, ``resolve``, ``check``, ``get``, ``ls``,
``providers``, ``new_provider``, ``agent``) defines its :class:`envsecrets.Command`;
:mod:`~envsecrets.cli.builtin` registers them through the same
``envsecrets_commands`` hook as plugin commands, and :mod:`~envsecrets.cli.main`
builds the parser from those records.

Exit codes: 0 success; 1 a reference failed (nothing was run or written);
2 usage error (bad option, unreadable env file, an env file setting a
provider setting); 126 the command was found but could not be started; 127
the command was not found; 130 interrupted.

``main``, ``build_parser`` and ``BUILTIN_COMMANDS`` are imported on first
use (PEP 562): the agent's thin client (:mod:`envsecrets.entry`) imports
command modules of this package without the plugin machinery behind them.
"""

from envsecrets.cli.exits import (
    EXIT_CANNOT_EXECUTE,
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_USAGE,
)

#: typing.TYPE_CHECKING without importing typing (a thin client of the agent never does).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from envsecrets.cli.builtin import BUILTIN_COMMANDS
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


def __getattr__(name: str) -> object:
    if name not in ("BUILTIN_COMMANDS", "build_parser", "main"):
        # Also asked by `from envsecrets.cli import run_argv` before it imports
        # the submodule: answer without importing anything.
        raise AttributeError(f"module 'envsecrets.cli' has no attribute {name!r}")
    import importlib

    if name == "BUILTIN_COMMANDS":
        value: object = importlib.import_module("envsecrets.cli.builtin").BUILTIN_COMMANDS
    else:
        # Importing the submodule `main` binds this package's attribute
        # `main` to it: bind both names to the functions again.
        module = importlib.import_module("envsecrets.cli.main")
        globals().update(build_parser=module.build_parser, main=module.main)
        value = getattr(module, name)
    globals()[name] = value
    return value
