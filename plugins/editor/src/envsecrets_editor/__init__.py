"""envsecrets-editor: the ``envsecrets edit`` command.

This entry module stays light: every envsecrets command line loads it, so
Starlette, uvicorn and Jinja2 are imported only when ``edit`` runs.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import envsecrets

__all__ = ["DEFAULT_HOST", "configure_parser", "edit", "envsecrets_commands"]

__version__ = "0.1.0"

#: Loopback only unless ``--host`` says otherwise.
DEFAULT_HOST = "127.0.0.1"


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0 to 65535, not {port}")
    return port


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``envsecrets edit``."""
    parser.description = (
        "Serve a local page that composes roles: the dotenv files DIR/NAME.env that "
        "`envsecrets run -e` reads. Each field's value is typed by hand or comes from an "
        "installed provider (NAME and KEY). The first line printed is the page's URL with "
        "its access token. Ctrl-C stops the server."
    )
    parser.add_argument(
        "directory", nargs="?", default=".", metavar="DIR", help="folder of the roles (default: .)"
    )
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to bind (default {DEFAULT_HOST}; anything else prints a warning)",
    )
    parser.add_argument(
        "--port", type=_port, default=0, help="port to bind (default 0: a free port)"
    )
    parser.add_argument(
        "--no-browser", action="store_true", help="print the URL but do not open a browser"
    )


def edit(args: argparse.Namespace) -> int:
    """Run ``envsecrets edit``; return the exit code."""
    from envsecrets_editor.server import serve  # the web stack, only now

    return serve(args.directory, host=args.host, port=args.port, browser=not args.no_browser)


@envsecrets.hookimpl
def envsecrets_commands() -> Sequence[envsecrets.Command]:
    """Add ``envsecrets edit``."""
    return [
        envsecrets.Command(
            name="edit",
            summary="serve a local page that composes roles (env files) field by field",
            configure_parser=configure_parser,
            action=edit,
        )
    ]
