"""``envsecrets ls``: list secret names, or the keys of one secret."""

from __future__ import annotations

import argparse
import json
import os
import sys

from envsecrets.cli import options
from envsecrets.cli.exits import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, error, refused_allowlist
from envsecrets.commands import Command
from envsecrets.errors import (
    EnvsecretsError,
    ListingNotSupported,
    ProviderNotInstalled,
    ResolutionError,
    quote_reference,
)
from envsecrets.provider import PREFIX_PATTERN
from envsecrets.resolver import DEFAULT_LIST_LIMIT, Resolver


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "List the secret names a provider holds under a name prefix "
        "(`envsecrets ls _vaultkv2:database/`), or, with a trailing colon, the keys of "
        "one secret and the JSON type of each value (`envsecrets ls _aws:pgprod:`). "
        "Never prints a value. Sorted; at most --limit entries."
    )
    options.add_timeout(parser)
    parser.add_argument("target", metavar="PREFIX:[NAME_PREFIX] | PREFIX:NAME:")
    parser.add_argument(
        "-f",
        "--format",
        choices=("text", "json"),
        default="text",
        help="output format (default text)",
    )
    parser.add_argument(
        "--limit",
        type=options.positive_count,
        default=DEFAULT_LIST_LIMIT,
        metavar="N",
        help=f"print at most N entries (default {DEFAULT_LIST_LIMIT}), with a notice when cut",
    )


def ls(args: argparse.Namespace) -> int:
    """Print the names (or keys and their JSON types) ``args.target`` names."""
    target = args.target if args.target.startswith("_") else "_" + args.target
    prefix, colon, rest = target[1:].partition(":")
    if not (colon and PREFIX_PATTERN.fullmatch(prefix)):
        error(f"{quote_reference(args.target)}: expected PREFIX:[NAME_PREFIX] or PREFIX:NAME:")
        return EXIT_USAGE
    with Resolver(os.environ, timeout=args.timeout) as resolver:
        if refused_allowlist(resolver.registry):
            return EXIT_USAGE
        try:
            if rest.endswith(":"):
                lines, truncated = _list_keys(resolver, prefix, rest[:-1], args)
            else:
                lines, truncated = _list_names(resolver, prefix, rest, args)
        except (ListingNotSupported, ProviderNotInstalled) as problem:
            error(str(problem))
            return EXIT_USAGE
        except ResolutionError as failure:
            error(str(failure.failures[0].error))
            return EXIT_FAILURE
        except EnvsecretsError as problem:
            error(f"{quote_reference(target)}: {problem}")
            return EXIT_FAILURE
    for line in lines:
        print(line)
    if truncated:
        print(f"envsecrets: note: only the first {args.limit} shown (--limit)", file=sys.stderr)
    return EXIT_OK


def _list_names(
    resolver: Resolver, prefix: str, name_prefix: str, args: argparse.Namespace
) -> tuple[list[str], bool]:
    listing = resolver.list_names(prefix, name_prefix, limit=args.limit)
    if args.format == "json":
        document = {"names": listing.names, "truncated": listing.truncated}
        return [_json_line(document)], listing.truncated
    return [quote_reference(name) for name in listing.names], listing.truncated


def _list_keys(
    resolver: Resolver, prefix: str, name: str, args: argparse.Namespace
) -> tuple[list[str], bool]:
    keys = resolver.list_keys(prefix, name)
    truncated = len(keys) > args.limit
    keys = keys[: args.limit]
    if args.format == "json":
        rows = [{"key": info.key, "type": info.json_type} for info in keys]
        return [_json_line({"keys": rows, "truncated": truncated})], truncated
    width = max((len(info.key) for info in keys), default=0)
    return [
        f"{quote_reference(info.key).ljust(width)}  {info.json_type}" for info in keys
    ], truncated


def _json_line(document: object) -> str:
    """*document* as one line of JSON, Unicode kept but every character a
    terminal could act on (DEL, C1, format characters, which JSON allows
    raw) written as a ``\\u`` escape: names come from outside."""
    text = json.dumps(document, ensure_ascii=False)
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else json.dumps(char)[1:-1] for char in text)


COMMAND = Command(
    "ls",
    "list secret names (PREFIX:[NAME_PREFIX]) or a secret's keys (PREFIX:NAME:)",
    configure_parser,
    ls,
)
