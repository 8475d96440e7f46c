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
    parser.add_argument(
        "--sdk",
        action="store_true",
        help="a provider built on an SDK client: built on first fetch, released by close(), "
        "its logs redacted with envsecrets.redact_logs (the SDK is a stand-in to replace)",
    )


def new_provider(args: argparse.Namespace) -> int:
    """Write ``DIR/envsecrets-NAME`` and say what to do next."""
    import shlex
    from pathlib import Path

    from envsecrets.scaffold import write_provider  # its templates, only now

    try:
        where = write_provider(args.name, Path(args.directory), sdk=args.sdk)
    except (EnvsecretsError, ValueError, FileExistsError) as problem:
        error(str(problem))
        return EXIT_USAGE
    print(f"wrote {where}")
    # The [test] extra brings pytest: quoted, since a shell globs the brackets.
    install, tests = shlex.quote(f"{where}[test]"), shlex.quote(f"{where}/tests")
    print(f"next: pip install -e {install} && pytest {tests}")
    return EXIT_OK


COMMAND = Command(
    "new-provider",
    "write a new provider distribution, ready to install and test",
    configure_parser,
    new_provider,
)
