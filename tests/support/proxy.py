"""A loopback HTTP proxy that counts requests and can inject faults or delay.

Tests put it between a provider and a real server (moto, OpenBao) to observe
what the provider really sent, instead of trusting the provider's counters.

    with LoopbackProxy("http://127.0.0.1:5000") as proxy:
        ...  # point the client at proxy.url
        proxy.count(lambda r: r.operation == "BatchGetSecretValue")

``rule`` decides per request: return ``None`` to forward, or a
:class:`CannedResponse` to answer without forwarding.
"""

from __future__ import annotations

import http.client
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class SeenRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = field(repr=False)

    @property
    def operation(self) -> str:
        """AWS JSON-protocol operation (``GetSecretValue``) or ``METHOD path``."""
        target = self.headers.get("x-amz-target", "")
        if target:
            return target.rpartition(".")[2]
        return f"{self.method} {urllib.parse.urlsplit(self.path).path}"


@dataclass(frozen=True)
class CannedResponse:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


Rule = Callable[[SeenRequest], "CannedResponse | None"]


class _Server(ThreadingHTTPServer):
    # A burst of 100 concurrent connections overflows the default backlog
    # of 5 and costs a one-second SYN retry.
    request_queue_size = 128
    daemon_threads = True


class RequestLog:
    """The requests a proxy saw, and counts of them; shared by the proxies
    here and in :mod:`tests.support.faultproxy`. A subclass sets
    :attr:`requests` and :attr:`_lock`."""

    requests: list[SeenRequest]
    _lock: threading.Lock

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()

    def count(self, predicate: Callable[[SeenRequest], bool] | None = None) -> int:
        with self._lock:
            return sum(1 for r in self.requests if predicate is None or predicate(r))

    def operations(self) -> dict[str, int]:
        """Requests seen, by :attr:`SeenRequest.operation`."""
        counts: dict[str, int] = {}
        with self._lock:
            for request in self.requests:
                counts[request.operation] = counts.get(request.operation, 0) + 1
        return counts

    def _record(self, request: SeenRequest) -> None:
        with self._lock:
            self.requests.append(request)


class LoopbackProxy(RequestLog):
    """Forward HTTP requests to *upstream*, recording each one.

    :param delay: seconds added before each request is forwarded (latency);
        :meth:`stop` cuts the wait short (the request then gets no answer).
    """

    def __init__(self, upstream: str, *, delay: float = 0.0, rule: Rule | None = None) -> None:
        parts = urllib.parse.urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.delay = delay
        self.rule = rule
        self.requests: list[SeenRequest] = []
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._server = _Server(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port!s}"

    def start(self) -> LoopbackProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> LoopbackProxy:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: without TCP_NODELAY each
            # kept-alive request waits ~40 ms on the client's delayed ACK.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: object) -> None:  # quiet
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                seen = SeenRequest(self.command, self.path, headers, body)
                proxy._record(seen)
                if proxy.delay and proxy._stopped.wait(proxy.delay):
                    self.close_connection = True
                    return
                canned = proxy.rule(seen) if proxy.rule else None
                if canned is not None:
                    self._answer(canned.status, canned.headers, canned.body)
                    return
                status, reply, payload = forward(
                    proxy.upstream_host, proxy.upstream_port, self.command, self.path,
                    headers=dict(self.headers.items()), body=body,
                )  # fmt: skip
                self._answer(status, reply, payload)

            def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
                try:
                    self.send_response(status)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test): nothing to answer

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle
            do_LIST = _handle  # Vault's LIST verb

        return Handler


def forward(
    host: str, port: int, method: str, path: str, *, headers: dict[str, str], body: bytes
) -> tuple[int, dict[str, str], bytes]:
    """Send one request upstream on a connection of its own; return the
    status, the headers to relay (without the hop-by-hop and framing ones)
    and the body."""
    upstream = http.client.HTTPConnection(host, port, timeout=60)
    try:
        sent = {k: v for k, v in headers.items() if k.lower() not in {"host", "connection"}}
        sent["Host"] = f"{host}:{port}"
        upstream.request(method, path, body=body, headers=sent)
        response = upstream.getresponse()
        payload = response.read()
        reply = {
            k: v
            for k, v in response.getheaders()
            if k.lower() not in {"transfer-encoding", "connection", "content-length"}
        }
        return response.status, reply, payload
    finally:
        upstream.close()


def free_port_pair() -> int:
    """Return a port P such that P and P+1 are free on loopback (OpenBao binds both)."""
    import socket

    for _ in range(100):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = first.getsockname()[1]
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
            return int(port)
    raise RuntimeError("no free pair of loopback ports")
