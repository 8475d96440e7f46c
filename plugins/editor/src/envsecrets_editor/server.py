"""Running the editor: bind the socket, print the URL, serve until Ctrl-C."""

from __future__ import annotations

import os
import secrets
import socket
import sys
import threading
import webbrowser
from pathlib import Path
from typing import TYPE_CHECKING

from envsecrets_editor.hosts import allowed_hosts, is_loopback, is_wildcard

if TYPE_CHECKING:
    from envsecrets_editor.app import Editor
    from envsecrets_editor.security import Guard

EXIT_OK = 0
EXIT_USAGE = 2


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
    if browser:
        # Some browsers block the caller until they exit: not the server.
        threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()

    editor = None
    try:
        editor, app = _application(root, token, host, bound_port)
        _run(app, sock)
    except KeyboardInterrupt:
        pass  # Ctrl-C: a normal way to stop
    finally:
        if editor is not None:
            editor.close()
        sock.close()
    print("envsecrets: editor stopped", file=sys.stderr)
    return EXIT_OK


def _application(root: Path, token: str, host: str, port: int) -> tuple[Editor, Guard]:
    """Build the editor and its guarded ASGI app (the web stack loads here)."""
    from envsecrets_editor.app import Editor, create_app
    from envsecrets_editor.rolefile import RoleDirectory

    editor = Editor(roles=RoleDirectory(root), environ=os.environ)
    app = create_app(
        editor,
        token=token,
        hosts=allowed_hosts(host.strip("[]"), port),
        port=port,
        any_ip=is_wildcard(host),
    )
    return editor, app


def _run(app: Guard, sock: socket.socket) -> None:
    """Serve *app* on the listening *sock* until Ctrl-C."""
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
