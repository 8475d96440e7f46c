"""Small loopback HTTP(S) servers that misbehave on purpose, for client tests.

- :class:`Redirector` answers every request with a redirect (301/302/307/308)
  to ``target + path``, over HTTP or HTTPS, and counts what it saw.
- :class:`Trickler` answers every request with a valid head, then sends the
  body one byte at a time, slowly: a server that never times a socket out.
- :class:`ForwardProxy` is a plain-HTTP forward proxy (absolute-form
  requests, as clients send them to ``HTTP_PROXY``) that records each URL.

    with Redirector("http://127.0.0.1:8200", status=307) as stub:
        stub.url        # point the client here
        stub.seen       # [(method, path), ...]
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

__all__ = ["ForwardProxy", "Redirector", "Trickler"]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64


class Redirector:
    """Redirect every request to *target* (path and query kept).

    :param status: the redirect status.
    :param context: a server-side TLS context to serve HTTPS.
    """

    def __init__(
        self, target: str, *, status: int = 307, context: ssl.SSLContext | None = None
    ) -> None:
        self.target = target.rstrip("/")
        self.status = status
        self.context = context
        self.seen: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self.url = ""

    def __enter__(self) -> Redirector:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _redirect(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                with stub._lock:
                    stub.seen.append((self.command, self.path))
                self.send_response(stub.status)
                self.send_header("Location", stub.target + self.path)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_PUT = do_LIST = do_DELETE = _redirect

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = _Server(("127.0.0.1", 0), Handler)
        if self.context is not None:
            self._server.socket = self.context.wrap_socket(self._server.socket, server_side=True)
        scheme = "https" if self.context is not None else "http"
        self.url = f"{scheme}://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class Trickler:
    """Answer 200 with a JSON body announced whole, then send it one byte
    every *interval* seconds (forever, for any practical purpose)."""

    def __init__(self, *, interval: float = 0.2, body: bytes = b"") -> None:
        self.interval = interval
        self.body = body or b'{"data":{"data":{"password":"' + b"x" * 4000 + b'"}}}'
        self.url = ""
        self.connections = 0
        self._listener: socket.socket | None = None
        self._stop = threading.Event()

    def __enter__(self) -> Trickler:
        listener = socket.create_server(("127.0.0.1", 0))
        listener.settimeout(0.2)
        self._listener = listener
        self.url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def _accept(self) -> None:
        assert self._listener is not None
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except OSError:
                continue
            self.connections += 1
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        with connection:
            try:
                connection.recv(65536)
                head = (
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(self.body)}\r\n\r\n"
                ).encode()
                connection.sendall(head)
                for index in range(len(self.body)):
                    if self._stop.is_set():
                        return
                    connection.sendall(self.body[index : index + 1])
                    time.sleep(self.interval)
            except OSError:
                return

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        if self._listener is not None:
            self._listener.close()


class ForwardProxy:
    """Forward ``GET http://host:port/path`` (and other methods) to its host.

    :attr:`seen` holds ``(method, absolute URL, headers)`` of each request.
    """

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, dict[str, str]]] = []
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self.url = ""

    def __enter__(self) -> ForwardProxy:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                hop = {"proxy-connection", "proxy-authorization", "connection", "host"}
                headers = {k: v for k, v in self.headers.items() if k.lower() not in hop}
                with stub._lock:
                    stub.seen.append((self.command, self.path, dict(self.headers.items())))
                target = urllib.parse.urlsplit(self.path)
                upstream = http.client.HTTPConnection(target.netloc, timeout=30)
                try:
                    path = target.path + (f"?{target.query}" if target.query else "")
                    upstream.request(self.command, path, body=body, headers=headers)
                    answer = upstream.getresponse()
                    data = answer.read()
                finally:
                    upstream.close()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in {"transfer-encoding", "connection", "content-length"}:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_LIST = do_DELETE = _forward

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = _Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
