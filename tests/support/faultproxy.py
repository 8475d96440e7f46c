"""A fault-injecting loopback HTTP proxy, for the fault-injection suite.

It sits between a provider and a real server (moto, OpenBao) and, per
request, forwards or misbehaves. Unlike :mod:`tests.support.proxy` it owns
its sockets, so it can do what a broken network does::

    with FaultProxy(upstream) as proxy:
        proxy.fault = Blackhole()               # every request: accept, never answer
        proxy.fault = first(2, Status(503))     # two 503s, then forward
        proxy.down(); ...; proxy.up()           # the "server" restarts on the same port

Faults (instances of :class:`Fault`):

- :class:`Forward` (the default): pass the request on, answer with the upstream reply.
- :class:`Blackhole`: read the request, then never answer (until the proxy stops).
- :class:`Slow`: wait *delay* seconds, then forward.
- :class:`Status`: answer *status* with a body, without forwarding (500, 503, 429...).
- :class:`Truncate`: forward, then send the headers with the full
  Content-Length but only part of the body, and close the connection with a
  FIN after it (the client reads every byte sent, then the end: what it sees
  never depends on when its read runs).
- :class:`Reset`: read the request, then close the connection (RST) without a word.

:meth:`FaultProxy.down` closes the listening socket (new connections are
refused, as by a server that is not running) and cuts every open connection;
:meth:`FaultProxy.up` listens again on the same port (:meth:`FaultProxy.restart`
does both). :func:`refused_url`
gives a URL where nothing listens at all.

Every request is recorded (:attr:`FaultProxy.requests`), with the fault that
answered it, so tests count retries and logins at the wire.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import struct
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.support.proxy import RequestLog, SeenRequest, forward

__all__ = [
    "AMZ_JSON",
    "Blackhole",
    "Fault",
    "FaultProxy",
    "Forward",
    "Reset",
    "Seen",
    "Slow",
    "Status",
    "Truncate",
    "aws_throttling",
    "first",
    "refused_url",
]

AMZ_JSON = {"Content-Type": "application/x-amz-json-1.1"}
_MAX_HEADER = 64 * 1024

# How a connection goes on after an answer.
_KEEP = "keep"
_FINISH = "finish"  # FIN: the client reads what was sent, then the end
_RESET = "reset"  # RST: what a crashed server's kernel sends


@dataclass(frozen=True)
class Seen(SeenRequest):
    """One request as it reached the proxy, and the fault that answered it."""

    fault: str = "Forward"


class Fault:
    """What the proxy does with one request."""

    def __repr__(self) -> str:
        return type(self).__name__


class Forward(Fault):
    """Pass the request on to the upstream server."""


class Blackhole(Fault):
    """Accept and read the request, never answer."""


class Reset(Fault):
    """Read the request, then drop the connection with a TCP reset."""


@dataclass(repr=False)
class Slow(Fault):
    """Wait *delay* seconds, then forward."""

    delay: float


@dataclass(repr=False)
class Status(Fault):
    """Answer *status* without forwarding."""

    status: int
    body: bytes = b'{"errors":[]}'
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})

    def __repr__(self) -> str:
        return f"Status({self.status})"


@dataclass(repr=False)
class Truncate(Fault):
    """Forward, then send only *fraction* of the body after a full Content-Length, and close."""

    fraction: float = 0.5


def aws_throttling(code: str = "ThrottlingException") -> Status:
    """The answer AWS gives a throttled JSON-protocol call (HTTP 400)."""
    body = json.dumps({"__type": code, "message": "Rate exceeded"}).encode()
    return Status(400, body, dict(AMZ_JSON))


Rule = Callable[[Seen], Fault]


def first(count: int, fault: Fault, then: Fault | None = None) -> Rule:
    """A rule: *fault* for the first *count* requests, *then* (forward) for the rest."""
    lock = threading.Lock()
    seen = [0]
    after = then or Forward()

    def rule(request: Seen) -> Fault:
        with lock:
            seen[0] += 1
            number = seen[0]
        return fault if number <= count else after

    return rule


def refused_url() -> str:
    """An http URL on loopback where nothing listens: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class FaultProxy(RequestLog):
    """Forward HTTP/1.1 requests to *upstream* (plain http), injecting faults.

    :param fault: a :class:`Fault` for every request, or a rule (a callable
        taking the :class:`Seen` request and returning a fault).
    """

    def __init__(self, upstream: str, fault: Fault | Rule | None = None) -> None:
        parts = urllib.parse.urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.fault: Fault | Rule = fault or Forward()
        self.requests: list[SeenRequest] = []  # Seen records, each with its fault
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._stopped = threading.Event()
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None
        self.port = 0

    # -- lifecycle -----------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FaultProxy:
        self._stopped.clear()
        self.up()
        return self

    def stop(self) -> None:
        """Stop listening and cut every connection (blackholed ones included)."""
        self._stopped.set()
        self.down()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def restart(self, down_for: float = 0.0) -> None:
        """Go :meth:`down` (every open connection cut), stay down *down_for*
        seconds, and come back :meth:`up` on the same port."""
        self.down()
        self._stopped.wait(down_for)
        if not self._stopped.is_set():
            self.up()

    def up(self) -> None:
        """Listen (again) on :attr:`port`, as a restarted server would."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        deadline = time.monotonic() + 5
        while True:
            try:
                listener.bind(("127.0.0.1", self.port))
                break
            except OSError:
                if time.monotonic() > deadline:
                    listener.close()
                    raise
                time.sleep(0.05)
        listener.listen(256)
        self.port = listener.getsockname()[1]
        with self._lock:
            self._listener = listener
        self._acceptor = threading.Thread(
            target=self._accept, args=(listener,), name="faultproxy-accept", daemon=True
        )
        self._acceptor.start()

    def down(self) -> None:
        """Stop listening (connections are refused) and cut the open ones."""
        with self._lock:
            listener, self._listener = self._listener, None
            connections, self._connections = self._connections, set()
        if listener is not None:
            # shutdown() wakes the thread blocked in accept() on Linux.
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        for connection in connections:
            _abort(connection)
        if self._acceptor is not None:
            self._acceptor.join(5)
            self._acceptor = None

    # -- serving -------------------------------------------------------------

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return  # closed by down()
            with self._lock:
                if self._listener is not listener:
                    _abort(connection)
                    return
                self._connections.add(connection)
            threading.Thread(
                target=self._serve, args=(connection,), name="faultproxy-conn", daemon=True
            ).start()

    def _serve(self, connection: socket.socket) -> None:
        reader = _Reader(connection)
        ending = _RESET
        try:
            while not self._stopped.is_set():
                request = _read_request(reader)
                if request is None:
                    break
                method, path, headers, body = request
                rule = self.fault
                fault = rule if isinstance(rule, Fault) else rule(Seen(method, path, headers, body))
                with self._lock:
                    self.requests.append(Seen(method, path, headers, body, repr(fault)))
                ending = self._answer(connection, fault, method, path, headers, body)
                if ending is not _KEEP:
                    break
        except (OSError, ValueError):  # a dropped connection or a garbled request
            ending = _RESET
        finally:
            with self._lock:
                self._connections.discard(connection)
            if ending is _FINISH:
                _finish(connection)
            else:
                _abort(connection)

    def _answer(  # noqa: PLR0911, PLR0917 (one branch per fault)
        self,
        connection: socket.socket,
        fault: Fault,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes,
    ) -> str:
        """Answer one request; return how the connection goes on: kept open,
        finished (FIN) or reset (RST)."""
        if isinstance(fault, Blackhole):
            # Hold the connection until the client gives up or the proxy stops.
            while not self._stopped.is_set():
                try:
                    connection.settimeout(0.1)
                    if connection.recv(1) == b"":
                        return _RESET
                except TimeoutError:
                    continue
                except OSError:
                    return _RESET
            return _RESET
        if isinstance(fault, Reset):
            return _RESET
        if isinstance(fault, Status):
            _send(connection, fault.status, fault.headers, fault.body)
            return _KEEP
        if isinstance(fault, Slow) and self._stopped.wait(fault.delay):
            return _RESET
        status, reply_headers, payload = forward(
            self.upstream_host, self.upstream_port, method, path, headers=headers, body=body
        )
        if isinstance(fault, Truncate):
            cut = int(len(payload) * fault.fraction)
            _send(connection, status, reply_headers, payload[:cut], length=len(payload))
            # A reset could reach the client before it read the part sent
            # (Linux drops unread data on RST): end with a FIN instead.
            return _FINISH
        _send(connection, status, reply_headers, payload)
        return _KEEP


class _Reader:
    """Buffered reads straight from the socket (no makefile: down() must be
    able to cut a connection another thread is reading)."""

    def __init__(self, connection: socket.socket) -> None:
        self._connection = connection
        self._buffer = bytearray()

    def _fill(self) -> bool:
        chunk = self._connection.recv(65536)
        self._buffer += chunk
        return bool(chunk)

    def readline(self, limit: int) -> bytes:
        while b"\n" not in self._buffer and len(self._buffer) < limit:
            if not self._fill():
                break
        end = self._buffer.find(b"\n")
        end = len(self._buffer) if end < 0 else end + 1
        line = bytes(self._buffer[:end])
        del self._buffer[:end]
        return line

    def read(self, size: int) -> bytes:
        while len(self._buffer) < size:
            if not self._fill():
                break
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data


def _read_request(reader: _Reader) -> tuple[str, str, dict[str, str], bytes] | None:
    """Read one HTTP/1.1 request (Content-Length bodies only); None at EOF."""
    readline = reader.readline
    line = readline(_MAX_HEADER)
    while line in (b"\r\n", b"\n"):
        line = readline(_MAX_HEADER)
    if not line:
        return None
    method, path, _version = line.decode("latin-1").split(" ", 2)
    headers: dict[str, str] = {}
    while True:
        line = readline(_MAX_HEADER)
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length") or 0)
    body = reader.read(length) if length else b""
    return method, path, headers, body


def _send(
    connection: socket.socket,
    status: int,
    headers: dict[str, str],
    body: bytes,
    *,
    length: int | None = None,
) -> None:
    reason = http.client.responses.get(status, "Unknown")
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines += [f"{key}: {value}" for key, value in headers.items()]
    lines.append(f"Content-Length: {len(body) if length is None else length}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    connection.sendall(head + body)


def _finish(connection: socket.socket) -> None:
    """Close with a FIN after everything sent, as a server that stops writing
    mid-answer would; the client reads the bytes sent, then the end."""
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_WR)
    with contextlib.suppress(OSError):
        connection.close()


def _abort(connection: socket.socket) -> None:
    """Close with a reset (SO_LINGER 0) and nothing before it, as a crashed
    server's kernel would: the client's next read fails with ECONNRESET."""
    try:
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # Wakes a thread blocked in recv() on this socket (close() would not);
        # SHUT_RD sends nothing, where SHUT_WR would send a FIN before the RST.
        connection.shutdown(socket.SHUT_RD)
    except OSError:
        pass
    with contextlib.suppress(OSError):
        connection.close()
