"""``envsecrets new-provider``: write a provider distribution to start from."""

from __future__ import annotations

import argparse

from envsecrets.cli.exits import EXIT_OK, EXIT_USAGE, error
from envsecrets.commands import Command
from envsecrets.errors import EnvsecretsError


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Write the distribution envsecrets-NAME (serving _NAME:...) with its "
        "pyproject.toml, module and contract tests, into DIR/envsecrets-NAME."
    )
    parser.add_argument("name", metavar="NAME", help="the prefix, [a-z][a-z0-9]*")
    parser.add_argument(
        "-d", "--directory", default=".", metavar="DIR", help="parent folder (default: .)"
    )


def new_provider(args: argparse.Namespace) -> int:
    """Write ``DIR/envsecrets-NAME`` and say what to do next."""
    from pathlib import Path

    from envsecrets.scaffold import write_provider  # its templates, only now

    try:
        where = write_provider(args.name, Path(args.directory))
    except (EnvsecretsError, ValueError, FileExistsError) as problem:
        error(str(problem))
        return EXIT_USAGE
    print(f"wrote {where}")
    print(f"next: pip install -e {where} && pytest {where}/tests")
    return EXIT_OK


COMMAND = Command(
    "new-provider",
    "write a new provider distribution, ready to install and test",
    configure_parser,
    new_provider,
)
