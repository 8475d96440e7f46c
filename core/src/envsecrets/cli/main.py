"""``main()``: the parser, built from command records, and the dispatch.

A built-in command word needs its own module alone: no plugin is loaded,
so ``run`` never imports a command plugin and a broken one cannot break it.
``--help``, no word and any other word need every command: the core's and
the plugins', through the ``envsecrets_commands`` hook.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Mapping, Sequence

from envsecrets import __version__, logs
from envsecrets.cli import builtin, options
from envsecrets.cli.exits import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_USAGE, error
from envsecrets.commands import CommandInfo

log = logging.getLogger("envsecrets")

EPILOG = """\
references:
  A value _PREFIX:NAME[:KEY] is replaced by a secret, e.g.
    PG_PASS=_vaultkv2:database/pg:password
    PG_HOST=_aws:pgprod:PG_HOST
    PG_PORT=_envjson:ENV_CONFIG:PG_PORT
  Other values pass through unchanged. See `envsecrets providers`.

credentials:
  Provider settings (VAULT_ADDR, AWS_ENDPOINT_URL...) come from the process
  environment only; an env file setting one is refused. `run` keeps the
  providers' credentials (VAULT_TOKEN, AWS keys...) from COMMAND.

exit codes:
  0 success, 1 a reference failed (nothing run or written), 2 usage error,
  126 command cannot be started, 127 command not found, 130 interrupted.
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    logs.configure(0)  # a plugin's warning while the commands are gathered: prefixed too
    word = command_word(argv)
    commands = command_table(word)
    if word is not None and word not in commands:
        from envsecrets.commands import why_unavailable

        reason = why_unavailable(word)  # a disabled plugin's command: say so
        if reason:
            error(reason)
            return EXIT_USAGE
    parser = build_parser(commands)
    args = parser.parse_args(argv)
    logs.configure(getattr(args, "verbose", 0))
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return _dispatch(commands[args.command], args)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`envsecrets providers | head`): no traceback,
        # and none at exit when Python flushes stdout again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILURE


def build_parser(commands: Mapping[str, CommandInfo] | None = None) -> argparse.ArgumentParser:
    """The parser of *commands* (by default, every built-in command)."""
    parser = _Parser(
        prog="envsecrets",
        description="Expand secret references in environment variables, then run a command.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_top_level_options(parser)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, info in (builtin.table() if commands is None else commands).items():
        summary = info.command.summary
        sub = subparsers.add_parser(
            name, help=summary if info.builtin else f"{summary} [{info.origin}]"
        )
        options.add_verbose(sub)
        info.command.setup_parser(sub)  # its -e options too, when it takes env files
    return parser


def command_word(argv: Sequence[str]) -> str | None:
    """The command word of *argv* as :func:`build_parser`'s parser reads it
    (the top-level options take no value); ``None`` for none, or when the
    top-level help is asked for (``envsecrets --help run``)."""
    parser = _WordParser(prog="envsecrets", add_help=False)
    parser.add_argument("-h", "--help", action="store_true")
    _add_top_level_options(parser)
    parser.add_argument("command", nargs="?")
    parser.add_argument("arguments", nargs=argparse.REMAINDER)
    try:
        known = parser.parse_known_args(argv)[0]
    except _NoWord:
        return None
    word: str | None = None if known.help else known.command
    return word


def command_table(word: str | None) -> dict[str, CommandInfo]:
    """The commands the parser needs to read a command line naming *word*.

    A built-in word needs its own record alone, read from the internal
    plugin's table without a plugin manager; any other word (or none) needs
    every command through the hook, the core's registered first.
    """
    if word in builtin.BUILTIN_COMMANDS:
        return builtin.table([word])
    from envsecrets.plugins import load_registry

    try:
        return dict(load_registry(plugins=[builtin], commands=True).commands)
    except Exception as problem:  # the built-in commands must keep working
        log.warning("plugin commands could not be loaded: %s", type(problem).__name__)
        return builtin.table()


def _dispatch(info: CommandInfo, args: argparse.Namespace) -> int:
    if info.builtin:
        return info.command.action(args)
    from envsecrets.commands import run_command

    return run_command(info, args)  # with its context, envsecrets' errors and exit codes


def _add_top_level_options(parser: argparse.ArgumentParser) -> None:
    options.add_verbose(parser)
    parser.add_argument("--version", action="version", version=f"envsecrets {__version__}")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"envsecrets: error: {message}\n")


class _NoWord(Exception):
    pass


class _WordParser(argparse.ArgumentParser):
    """Finds the command word; what it cannot read, the full parser reports."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise _NoWord(message)
