"""Options that several commands share, each added the same way everywhere."""

from __future__ import annotations

import argparse

from envsecrets.cli import run_argv
from envsecrets.cli.run_argv import DEFAULT_TIMEOUT


def positive_seconds(text: str) -> float:
    """An argparse type: a positive, finite number of seconds."""
    value = run_argv.positive_seconds(text)
    if value is not None:
        return value
    try:
        float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    raise argparse.ArgumentTypeError(f"must be a positive number of seconds: {text!r}")


def positive_count(text: str) -> int:
    """An argparse type: a whole number, at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def add_verbose(parser: argparse.ArgumentParser) -> None:
    """``-v``: on the top-level parser and on every command's."""
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=argparse.SUPPRESS,
        help="log progress to stderr (-v info, -vv debug); never logs secret values",
    )


def add_env_files(parser: argparse.ArgumentParser) -> None:
    """``-e FILE`` and ``--allow-provider-settings`` (read by :mod:`.session`)."""
    parser.add_argument(
        "-e",
        "--env-file",
        action="append",
        default=[],
        metavar="FILE",
        help="read variables from a dotenv FILE (repeatable; later files win over "
        "earlier ones and over the environment; ${VAR} is not expanded)",
    )
    parser.add_argument(
        "--allow-provider-settings",
        action="store_true",
        help="let env files set provider settings (VAULT_ADDR, AWS_*...), which then "
        "configure the providers: only for files you trust, since a file could send "
        "your credentials elsewhere",
    )


def add_timeout(parser: argparse.ArgumentParser) -> None:
    """``--timeout S``: the deadline of the whole resolution."""
    parser.add_argument(
        "--timeout",
        type=positive_seconds,
        default=DEFAULT_TIMEOUT,
        metavar="S",
        help=f"deadline for the whole resolution, in seconds (default {DEFAULT_TIMEOUT:g})",
    )


def add_no_agent(parser: argparse.ArgumentParser) -> None:
    """``--no-agent``: resolve in this process even when an agent runs."""
    parser.add_argument(
        "--no-agent",
        action="store_true",
        help="resolve in this process, not through `envsecrets agent` (used by default when "
        "ENVSECRETS_AGENT_SOCK is set or the default socket exists)",
    )
