"""``envsecrets check``: validate references without printing a value."""

from __future__ import annotations

import argparse
import os

from envsecrets.cli import lazy, options
from envsecrets.cli.exits import EXIT_FAILURE, EXIT_OK
from envsecrets.cli.session import ask_agent, open_session, read_files, request_files
from envsecrets.errors import escaped, quote_reference

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without typing
if TYPE_CHECKING:
    from envsecrets import isolation


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Check every reference (of the env files when -e is given, otherwise "
        "of the environment): syntax and an installed provider; with --fetch, also that "
        "it resolves. Prints OK or the reason for each; never prints a value."
    )
    options.add_env_files(parser)
    options.add_timeout(parser)
    options.add_no_agent(parser)
    parser.add_argument("--fetch", action="store_true", help="also fetch each secret")


def check(args: argparse.Namespace) -> int:
    """Print OK or FAIL for each reference, then a summary."""
    files = read_files(args)
    if isinstance(files, int):
        return files
    results: list[tuple[str, str, str | None]] | int | None = None
    if args.fetch:  # without --fetch, nothing to gain from the agent
        results = _through_agent(args, files)
    if results is None:
        session = open_session(args, files)
        if isinstance(session, int):
            return session
        wanted = session.from_files if args.env_file else session.env
        with session.resolver as resolver:
            found = resolver.check(wanted, fetch=args.fetch)
        results = [
            (result.variable, result.reference, None if result.ok else str(result.error))
            for result in found
        ]
    if isinstance(results, int):
        return results
    if not results:
        print("no references found")
        return EXIT_OK
    for variable, text, problem in results:
        reference = quote_reference(text)
        if problem is None:
            print(f"OK    {escaped(variable)}={reference}")
        else:
            print(f"FAIL  {escaped(variable)}={reference}: {escaped(problem)}")
    failed = sum(1 for _, _, problem in results if problem is not None)
    checked = "fetched" if args.fetch else "checked"
    print(f"{len(results) - failed} of {len(results)} references {checked} OK")
    return EXIT_FAILURE if failed else EXIT_OK


def _through_agent(
    args: argparse.Namespace, files: list[isolation.EnvFile]
) -> list[tuple[str, str, str | None]] | int | None:
    """The agent's results; ``None`` to check in this process."""
    request = {
        "op": "check",
        "process": dict(os.environ),
        "files": request_files(files),
        "files_only": bool(args.env_file),
    }
    answer = ask_agent(args, request)
    if answer is None or isinstance(answer, int):
        return answer
    return [(variable, text, problem) for variable, text, problem in answer["results"]]


__getattr__ = lazy.command_on_first_use(
    __name__, "check", "validate references without printing any value", configure_parser, check
)
