"""``envsecrets check``: validate references without printing a value."""

from __future__ import annotations

import argparse

from envsecrets.cli import options
from envsecrets.cli.exits import EXIT_FAILURE, EXIT_OK
from envsecrets.cli.session import open_session
from envsecrets.commands import Command
from envsecrets.errors import escaped, quote_reference


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Check every reference (of the env files when -e is given, otherwise "
        "of the environment): syntax and an installed provider; with --fetch, also that "
        "it resolves. Prints OK or the reason for each; never prints a value."
    )
    options.add_env_files(parser)
    options.add_timeout(parser)
    parser.add_argument("--fetch", action="store_true", help="also fetch each secret")


def check(args: argparse.Namespace) -> int:
    """Print OK or FAIL for each reference, then a summary."""
    session = open_session(args)
    if isinstance(session, int):
        return session
    wanted = session.from_files if args.env_file else session.env
    with session.resolver as resolver:
        results = resolver.check(wanted, fetch=args.fetch)
    if not results:
        print("no references found")
        return EXIT_OK
    for result in results:
        reference = quote_reference(result.reference)
        if result.ok:
            print(f"OK    {escaped(result.variable)}={reference}")
        else:
            print(f"FAIL  {escaped(result.variable)}={reference}: {escaped(str(result.error))}")
    failed = sum(1 for result in results if not result.ok)
    checked = "fetched" if args.fetch else "checked"
    print(f"{len(results) - failed} of {len(results)} references {checked} OK")
    return EXIT_FAILURE if failed else EXIT_OK


COMMAND = Command(
    "check", "validate references without printing any value", configure_parser, check
)
