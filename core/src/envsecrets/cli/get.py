"""``envsecrets get``: print the value of one reference."""

from __future__ import annotations

import argparse
import os
import sys

from envsecrets import grammar
from envsecrets.cli import lazy, options
from envsecrets.cli.exits import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, error, refused_allowlist
from envsecrets.cli.session import ask_agent


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Resolve one reference, such as _aws:app/db:password, and print "
        "its value. Configuration (VAULT_ADDR...) comes from the environment."
    )
    options.add_timeout(parser)
    options.add_no_agent(parser)
    parser.add_argument("reference", metavar="REFERENCE", help="_PREFIX:NAME[:KEY], quoted")
    parser.add_argument(
        "-n", "--no-newline", action="store_true", help="do not print a newline after the value"
    )


def get(args: argparse.Namespace) -> int:
    """Print the value of ``args.reference``."""
    from envsecrets.errors import EnvsecretsError, ResolutionError, quote_reference
    from envsecrets.formats import is_shell_name

    text = args.reference
    if grammar.parse(text) is None and is_shell_name(text):
        hint = ""
        if text in os.environ:  # `envsecrets get PG_PASS`: a variable's name, not its reference
            hint = f'; to resolve that variable, give its value: envsecrets get "${text}"'
        error(f"{quote_reference(text)} is not a reference (_PREFIX:NAME[:KEY]){hint}")
        return EXIT_USAGE
    code = _through_agent(args)
    if code is not None:
        return code
    from envsecrets.resolver import Resolver

    with Resolver(os.environ, timeout=args.timeout) as resolver:
        if refused_allowlist(resolver.registry):
            return EXIT_USAGE
        try:
            value = resolver.get(args.reference)
        except ResolutionError as failure:
            error(str(failure.failures[0].error) if len(failure.failures) == 1 else str(failure))
            return EXIT_FAILURE
        except EnvsecretsError as problem:
            error(f"{quote_reference(args.reference)}: {problem}")
            return EXIT_USAGE
    sys.stdout.write(value if args.no_newline else value + "\n")
    return EXIT_OK


def _through_agent(args: argparse.Namespace) -> int | None:
    """Print the agent's answer and return the exit code; ``None`` to
    resolve in this process."""
    request = {"op": "get", "process": dict(os.environ), "reference": args.reference}
    answer = ask_agent(args, request)
    if answer is None or isinstance(answer, int):
        return answer
    value: str = answer["value"]
    sys.stdout.write(value if args.no_newline else value + "\n")
    return EXIT_OK


__getattr__ = lazy.command_on_first_use(
    __name__, "get", "print the value of one reference", configure_parser, get
)
