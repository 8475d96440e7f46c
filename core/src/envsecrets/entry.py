"""The ``envsecrets`` console script: decides, before the command line and
its plugin machinery are imported, whether this is a short session that the
agent can serve.

With an agent to ask (``ENVSECRETS_AGENT_SOCK``, or the default socket),
``run``, ``resolve``, ``check`` and ``get`` are parsed here with their own
command module alone, and that module asks the agent: no pluggy, no
``importlib.metadata``, no provider. Anything this short parse does not
accept (``--help``, a usage error, another command) goes to
:func:`envsecrets.cli.main.main`, which parses and reports it as always.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from envsecrets.cli import run_argv

#: typing.TYPE_CHECKING without importing typing (a thin client never does).
TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any

#: The commands a thin client can serve through the agent.
THIN_COMMANDS = ("run", "resolve", "check", "get")
#: Commands that live for one session: no cyclic garbage collection (it
#: scanned the import-time objects about 130 times per ``run``, ~14% of it;
#: what a session allocates is freed at exit or exec).
SHORT_LIVED = (*THIN_COMMANDS, "ls", "providers")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    word = _command_word(argv)
    if word in SHORT_LIVED:
        import gc

        gc.disable()
    if word in THIN_COMMANDS and _agent_wanted(word, argv):
        code = _thin(word, argv)
        if code is not None:
            return code
    from envsecrets.cli.main import main as full

    return full(argv)


def _command_word(argv: Sequence[str]) -> str | None:
    for argument in argv:
        if argument in ("-v", "--verbose") or (
            argument.startswith("-v") and set(argument[1:]) == {"v"}
        ):
            continue
        return None if argument.startswith("-") else argument
    return None


def _agent_wanted(word: str, argv: Sequence[str]) -> bool:
    import os

    from envsecrets.agent import paths

    if "--no-agent" in argv or "--allow-provider-settings" in argv:
        return False
    if word == "check" and "--fetch" not in argv:  # checked in the process: nothing to ask
        return False
    return (
        paths.client_socket(os.environ) is not None
        or os.environ.get(paths.MODE_VARIABLE) == "required"
    )


class _Defer(Exception):
    """Something for the full command line to parse and report."""


def thin_parser(word: str) -> argparse.ArgumentParser:
    """The parser of *word* alone, as a thin client builds it; its
    ``parse_args`` raises instead of printing a usage error."""
    import argparse

    from envsecrets.cli import options

    class ThinParser(argparse.ArgumentParser):
        def error(self, message: str) -> None:  # type: ignore[override]
            raise _Defer(message)

    parser = ThinParser(prog="envsecrets", add_help=False)
    options.add_verbose(parser)
    subparsers = parser.add_subparsers(dest="command", parser_class=ThinParser)
    sub = subparsers.add_parser(word, add_help=False)
    options.add_verbose(sub)
    _module(word).configure_parser(sub)
    return parser


def _module(word: str) -> Any:
    name = f"envsecrets.cli.{word}"
    __import__(name)  # importlib.import_module, without importing importlib
    return sys.modules[name]


def _thin(word: str, argv: Sequence[str]) -> int | None:
    """Run *word* parsed with its own module alone; ``None`` when the full
    command line must parse *argv* (help, a usage error)."""
    if "-h" in argv or "--help" in argv:
        return None
    from envsecrets.cli.exits import EXIT_INTERRUPTED

    args = run_argv.parse(argv) if word == "run" else None  # the plain forms, argparse unloaded
    if args is None:
        try:
            args = thin_parser(word).parse_args(argv)
        except _Defer:
            return None
    if getattr(args, "verbose", 0):  # else logging waits for an in-process fallback
        from envsecrets import logs

        logs.configure(args.verbose)
    # The module's function, not its COMMAND record: each thin command's
    # module names its action after the command (run.run, get.get...).
    action = getattr(_module(word), word)
    try:
        return int(action(args) or 0)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
