"""``envsecrets resolve``: print the resolved variables."""

from __future__ import annotations

import argparse
import os
import sys

from envsecrets.cli import lazy, options
from envsecrets.cli.exits import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, error
from envsecrets.cli.session import (
    AGENT_VARIABLES,
    ask_agent,
    open_session,
    read_files,
    request_files,
)
from envsecrets.errors import EnvsecretsError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without typing
if TYPE_CHECKING:
    from envsecrets import isolation


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Resolve and print variables: those of the env files when -e is "
        "given, otherwise the whole environment without the providers' credentials. "
        "dotenv output is for dotenv readers: to load it into a shell, use -f shell."
    )
    options.add_env_files(parser)
    options.add_timeout(parser)
    options.add_no_agent(parser)
    parser.add_argument(
        "--keep-credentials",
        action="store_true",
        help="print the providers' credentials (VAULT_TOKEN, AWS keys...) of this "
        "process too; by default they are left out",
    )
    parser.add_argument(
        "-f",
        "--format",
        choices=("dotenv", "json", "shell"),
        default="dotenv",
        help="output format (default dotenv; shell prints export lines and skips "
        "names a shell cannot assign, with a note on stderr)",
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write to FILE instead of stdout: atomically, mode 0600",
    )


def resolve(args: argparse.Namespace) -> int:
    """Print (or write) the resolved variables; nothing when one fails."""
    from envsecrets.formats import FORMATS, not_shell_names, write_private

    files = read_files(args)
    if isinstance(files, int):
        return files
    resolved = _through_agent(args, files)
    if resolved is None:
        resolved = _in_process(args, files)
    if isinstance(resolved, int):
        return resolved
    for name in AGENT_VARIABLES:  # the way to the agent stays with envsecrets
        resolved.pop(name, None)
    if args.format == "shell":
        skipped = not_shell_names(resolved)
        if skipped:
            names = ", ".join(map(ascii, skipped))
            print(f"envsecrets: note: not shell variable names, left out: {names}", file=sys.stderr)
            resolved = {name: value for name, value in resolved.items() if name not in skipped}
    # Plain values come from the environment as is, and os.environ holds
    # bytes that are not UTF-8 as lone surrogates: no format can write them.
    unwritable = [name for name, value in resolved.items() if not _is_text(name + value)]
    if unwritable:
        error(f"not valid UTF-8, cannot be written: {', '.join(map(ascii, unwritable))}")
        return EXIT_FAILURE
    try:
        text = FORMATS[args.format](resolved)
        if args.output:
            write_private(args.output, text)
        else:
            sys.stdout.write(text)
    except EnvsecretsError as problem:
        error(str(problem))
        return EXIT_FAILURE
    return EXIT_OK


def _through_agent(
    args: argparse.Namespace, files: list[isolation.EnvFile]
) -> dict[str, str] | int | None:
    """The agent's resolution; ``None`` to resolve in this process."""
    request = {
        "op": "resolve",
        "process": dict(os.environ),
        "files": request_files(files),
        "files_only": bool(args.env_file),
        "keep_credentials": args.keep_credentials,
    }
    answer = ask_agent(args, request)
    if answer is None or isinstance(answer, int):
        return answer
    resolved: dict[str, str] = answer["values"]  # without the credentials, unless kept
    return resolved


def _in_process(args: argparse.Namespace, files: list[isolation.EnvFile]) -> dict[str, str] | int:
    session = open_session(args, files)
    if isinstance(session, int):
        return session
    wanted = session.from_files if args.env_file else session.env
    # With -e only the files' variables are printed: the user's own.
    unknown = None if args.env_file or args.keep_credentials else session.unknown_credentials()
    if unknown is not None:
        session.resolver.close()
        error(unknown)
        return EXIT_USAGE
    with session.resolver:
        resolved = session.resolve(wanted)
        if resolved is not None and not args.keep_credentials:
            resolved = session.credential_free(resolved)
    return EXIT_FAILURE if resolved is None else resolved


def _is_text(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


__getattr__ = lazy.command_on_first_use(
    __name__,
    "resolve",
    "print the resolved variables (dotenv, json or shell)",
    configure_parser,
    resolve,
)
