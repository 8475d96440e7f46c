"""Running the editor: bind the socket, print the URL, open the browser on a
private redirect file, serve until Ctrl-C or SIGTERM."""

from __future__ import annotations

import html
import os
import secrets
import shutil
import signal
import socket
import sys
import tempfile
import threading
import webbrowser
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from envsecrets_editor.hosts import allowed_hosts, is_loopback, is_wildcard

if TYPE_CHECKING:
    from envsecrets_editor.app import Editor
    from envsecrets_editor.security import Guard

EXIT_OK = 0
EXIT_USAGE = 2


class Stopped(Exception):
    """SIGTERM: stop as Ctrl-C does."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise Stopped


def redirect_file(url: str) -> Path:
    """A page that sends the browser to *url*, in a private folder (0700,
    the file 0600), as Jupyter's ``use_redirect_file``: the browser's
    command line, which every local user sees in ``ps``, names this file,
    never the token."""
    folder = Path(tempfile.mkdtemp(prefix="envsecrets-edit-"))  # mode 0700
    path = folder / "open.html"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    target = html.escape(url, quote=True)
    with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
        stream.write(
            '<!doctype html><meta charset="utf-8"><meta name="referrer" content="no-referrer">'
            f'<meta http-equiv="refresh" content="0;url={target}">'
            f'<title>envsecrets edit</title><p><a href="{target}">Open envsecrets edit</a></p>\n'
        )
    return path


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on (*host*, *port*); port 0 picks a free one.

    Bound here, not by uvicorn, so the real port is known before serving.
    """
    family, kind, proto, _, address = socket.getaddrinfo(
        host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except BaseException:
        sock.close()
        raise
    return sock


def _url_host(host: str, family: int) -> str:
    if is_wildcard(host):
        return "127.0.0.1" if family == socket.AF_INET else "[::1]"
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def serve(directory: str, *, host: str, port: int, browser: bool) -> int:
    """Serve the editor for the roles in *directory*; return the exit code."""
    root = Path(directory)
    if not root.is_dir():
        print(f"envsecrets: error: not a folder: {directory}", file=sys.stderr)
        return EXIT_USAGE
    try:
        sock = bind(host, port)
    except OSError as error:
        print(
            f"envsecrets: error: cannot listen on {host}:{port}: {error.strerror}", file=sys.stderr
        )
        return EXIT_USAGE
    bound_port = sock.getsockname()[1]
    if not is_loopback(host):
        print(
            f"envsecrets: warning: listening on {host}, not on loopback: anyone who can reach "
            "this address and learns the URL acts with your cloud and Vault credentials",
            file=sys.stderr,
        )

    token = secrets.token_urlsafe(32)
    url = f"http://{_url_host(host, sock.family)}:{bound_port}/?token={token}"
    # The socket listens already: a request sent now waits in its backlog
    # while the web stack loads, so the URL can be handed out first.
    print(url, flush=True)
    opener = None
    if browser:
        opener = redirect_file(url)
        # Some browsers block the caller until they exit: not the server.
        threading.Thread(target=webbrowser.open, args=(opener.as_uri(),), daemon=True).start()

    editor = None
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        editor, app = _application(root, token, host, bound_port)
        _run(app, sock)
    except (KeyboardInterrupt, Stopped):
        pass  # Ctrl-C or SIGTERM: normal ways to stop
    finally:
        signal.signal(signal.SIGTERM, previous)
        if editor is not None:
            editor.close()
        sock.close()
        if opener is not None:
            shutil.rmtree(opener.parent, ignore_errors=True)
    print("envsecrets: editor stopped", file=sys.stderr)
    return EXIT_OK


def _application(root: Path, token: str, host: str, port: int) -> tuple[Editor, Guard]:
    """Build the editor and its guarded ASGI app (the web stack loads here)."""
    from envsecrets_editor.app import Editor, create_app
    from envsecrets_editor.roledir import RoleDirectory

    editor = Editor(roles=RoleDirectory(root), environ=os.environ)
    app = create_app(
        editor,
        token=token,
        session=secrets.token_urlsafe(32),
        prefix=secrets.token_urlsafe(24),
        hosts=allowed_hosts(host.strip("[]"), port),
        port=port,
        any_ip=is_wildcard(host),
    )
    return editor, app


def _run(app: Guard, sock: socket.socket) -> None:
    """Serve *app* on the listening *sock* until Ctrl-C or SIGTERM.

    uvicorn handles both signals itself, then raises them again once it has
    shut down: SIGINT as KeyboardInterrupt, SIGTERM through our handler.
    """
    import uvicorn

    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,  # request lines would hold the token
        lifespan="off",
        server_header=False,
        proxy_headers=False,
    )
    uvicorn.Server(config).run(sockets=[sock])
