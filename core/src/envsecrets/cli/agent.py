"""``envsecrets agent``: the resident resolver that ``run``, ``resolve``,
``check --fetch`` and ``get`` ask over a private unix socket."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from envsecrets.agent.paths import SOCKET_VARIABLE, default_socket
from envsecrets.cli import options
from envsecrets.cli.exits import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, error, refused_allowlist
from envsecrets.commands import Command

log = logging.getLogger("envsecrets")


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Serve resolutions over a private unix socket until SIGTERM, holding one resolver "
        "built from this process's environment (its settings and credentials: clients' "
        "never count), so that sessions skip the start-up and the logins. Clients (run, "
        f"resolve, check --fetch, get) use it when {SOCKET_VARIABLE} names its socket or the "
        "default socket exists. Only this user's processes (and --allow-uid) are served."
    )
    parser.add_argument(
        "--socket",
        metavar="PATH",
        help=f"listen on PATH (default: {default_socket(os.environ)}; its directory is "
        "created mode 0700, the socket is 0600)",
    )
    parser.add_argument(
        "--cache-ttl",
        type=options.positive_seconds,
        metavar="S",
        help="reuse a fetched secret for S seconds across sessions (default: every session "
        "fetches afresh; logins and clients are always reused)",
    )
    parser.add_argument(
        "--allow-uid",
        type=_uid,
        action="append",
        default=[],
        metavar="UID",
        help="also serve the processes of UID (repeatable); others are refused and logged",
    )


def agent(args: argparse.Namespace) -> int:
    """Serve until SIGTERM or SIGINT; the socket is removed on the way out."""
    from envsecrets.agent.server import AgentError, listen, serve
    from envsecrets.agent.service import Service
    from envsecrets.resolver import Resolver

    path = args.socket or default_socket(os.environ)
    resolver = Resolver(os.environ, cache_ttl=args.cache_ttl)
    with resolver:
        if refused_allowlist(resolver.registry):  # the plugins load now, not at the first request
            return EXIT_USAGE
        try:
            server = listen(
                path, Service(resolver), {os.getuid(), *args.allow_uid}, default=not args.socket
            )
        except AgentError as problem:
            error(str(problem))
            return EXIT_FAILURE
        serve(
            server,
            lambda: print(f"envsecrets: agent listening on {path}", file=sys.stderr, flush=True),
        )
    log.info("agent stopped")
    return EXIT_OK


def _uid(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a uid: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"not a uid: {text!r}")
    return value


COMMAND = Command(
    "agent",
    "serve resolutions to this user's sessions over a private unix socket",
    configure_parser,
    agent,
)
