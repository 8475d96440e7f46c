"""A lean latency proxy for the benchmarks: a fixed delay, then forward.

The proxy stands in for network latency, which costs the client under test
no CPU. tests.support.proxy.LoopbackProxy (a thread per connection and a
new upstream connection per request) spends about 0.9 ms of CPU per
request; on a small machine that CPU competes with the client and distorts
the CPU-bound fan-out measurements. This one is an asyncio HTTP/1.1 proxy
on one event-loop thread (uvloop when it is installed), with keep-alive on
both sides and a pool of upstream connections: about 0.25 ms per request
on uvloop, 0.4 ms on asyncio's own loop (100 concurrent Vault reads).

It serves what the benchmark clients send: request bodies delimited by
Content-Length (anything else is answered 501); responses delimited by
Content-Length, chunked, or by the end of the connection. Responses are
buffered and relayed with a Content-Length of their own.

    proxy = LatencyProxy("http://127.0.0.1:8200", delay=0.02).start()
    proxy.url            # point the client here
    proxy.operations()   # {"GET /v1/secret/data/s000": 1, ...}
    proxy.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import socket
import threading
import urllib.parse
from collections import Counter

__all__ = ["LatencyProxy"]

_Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]

# Hop-by-hop headers are the proxy's own business on each side.
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
_REASONS = {
    400: "Bad Request",
    431: "Request Header Fields Too Large",
    501: "Not Implemented",
    502: "Bad Gateway",
}


class _BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class _StaleConnection(Exception):
    """A pooled upstream connection closed before any byte of the response."""


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        uvloop = importlib.import_module("uvloop")  # optional: not a typed dependency
    except ImportError:
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


def _nodelay(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _parse_head(head: bytes) -> tuple[list[str], list[tuple[str, str]], dict[str, str]]:
    """Split a message head into its first line's words, its header lines
    (name, value) and a dict of the lower-cased names."""
    lines = head.decode("latin-1").split("\r\n")
    fields: list[tuple[str, str]] = []
    lookup: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon and name and not name[0].isspace():
            value = value.strip()
            fields.append((name, value))
            lookup[name.lower()] = value
    return lines[0].split(" ", 2), fields, lookup


def _answer(status: int, reason: str, fields: list[tuple[str, str]], body: bytes) -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines.extend(f"{name}: {value}" for name, value in fields)
    lines.append("\r\n")
    return "\r\n".join(lines).encode("latin-1") + body


def _error(status: int, message: str) -> bytes:
    body = message.encode() + b"\n"
    fields = [
        ("Content-Type", "text/plain"),
        ("Content-Length", str(len(body))),
        ("Connection", "close"),
    ]
    return _answer(status, _REASONS[status], fields, body)


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers: dropped
                pass
            return b"".join(parts)
        parts.append((await reader.readexactly(size + 2))[:-2])


async def _read_response(
    reader: asyncio.StreamReader, head: bytes, method: str
) -> tuple[int, str, list[tuple[str, str]], bytes | None, bool]:
    """Read the rest of the response that begins with *head*: return its
    status, reason, end-to-end headers, body (None when it has none) and
    whether the connection may carry another request."""
    words, fields, lookup = _parse_head(head)
    while len(words) > 1 and words[1][:1] == "1" and words[1] != "101":  # 100 Continue
        head = await reader.readuntil(b"\r\n\r\n")
        words, fields, lookup = _parse_head(head)
    if len(words) < 2 or not words[1].isdigit():
        raise ValueError(f"malformed status line {words!r}")
    version, status = words[0], int(words[1])
    reason = words[2] if len(words) > 2 else ""
    reusable = version == "HTTP/1.1" and lookup.get("connection", "").lower() != "close"
    relayed = [(n, v) for n, v in fields if n.lower() not in _HOP_BY_HOP]
    body: bytes | None
    if method == "HEAD" or status in (204, 304):
        body = None  # Content-Length, if any, is relayed as is
    elif "chunked" in lookup.get("transfer-encoding", "").lower():
        body = await _read_chunked(reader)
    elif "content-length" in lookup:
        body = await reader.readexactly(int(lookup["content-length"]))
    else:
        reusable = False
        body = await reader.read()  # delimited by the end of the connection
    return status, reason, relayed, body, reusable


class LatencyProxy:
    """Forward HTTP requests to *upstream* after *delay* seconds, counting
    them by operation (as :attr:`tests.support.proxy.SeenRequest.operation`)."""

    def __init__(self, upstream: str, *, delay: float = 0.02) -> None:
        parts = urllib.parse.urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.delay = delay
        self.upstream_connections = 0  # opened so far (pool misses); for diagnostics
        self._host_header = f"{self.upstream_host}:{self.upstream_port}"
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._idle: list[_Connection] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._loop = _new_loop()
        self._server: asyncio.AbstractServer | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="latency-proxy", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._sock.getsockname()[:2]
        return f"http://{host}:{port}"

    def start(self) -> LatencyProxy:
        self._thread.start()
        self._ready.wait()
        if self._failure is not None:
            raise RuntimeError("the latency proxy did not start") from self._failure
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def __enter__(self) -> LatencyProxy:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget the requests seen so far."""
        with self._lock:
            self._counts.clear()

    def operations(self) -> dict[str, int]:
        """Requests seen since the last reset: AWS ``X-Amz-Target`` operation
        (``BatchGetSecretValue``) or ``METHOD path``."""
        with self._lock:
            return dict(self._counts)

    # The event loop's thread.

    def _run(self) -> None:
        loop = self._loop
        asyncio.set_event_loop(loop)
        try:
            self._server = loop.run_until_complete(
                asyncio.start_server(self._serve, sock=self._sock, backlog=1024)
            )
        except BaseException as failure:
            self._failure = failure
            self._ready.set()
            loop.close()
            raise
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            self._server.close()
            for _, writer in self._idle:
                writer.close()
            self._idle.clear()
            tasks = asyncio.all_tasks(loop)
            for task in tasks:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            loop.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        _nodelay(writer)
        try:
            while await self._exchange(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away
        except asyncio.CancelledError:
            pass  # stop(): ending with the exception would have asyncio log it
        finally:
            writer.close()

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Serve one request; return whether the client connection stays open."""
        try:
            method, request, keep_alive = await self._read_request(reader)
        except _BadRequest as bad:
            writer.write(_error(bad.status, str(bad)))
            return False
        await asyncio.sleep(self.delay)
        try:
            response = await self._forward(method, request)
        except (
            OSError,
            ValueError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
        ) as failure:
            writer.write(_error(502, f"upstream: {failure!r}"))
            return False
        if not keep_alive:
            response = response.replace(b"\r\n", b"\r\nConnection: close\r\n", 1)
        writer.write(response)
        await writer.drain()
        return keep_alive

    async def _read_request(self, reader: asyncio.StreamReader) -> tuple[str, bytes, bool]:
        """Read and count one request; return its method, the request to
        send upstream, and whether the client keeps the connection open.
        Raises IncompleteReadError when the client closes between requests."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.LimitOverrunError as overrun:
            raise _BadRequest(431, "request head too large") from overrun
        words, fields, lookup = _parse_head(head)
        if len(words) != 3:
            raise _BadRequest(400, "malformed request line")
        method, target, version = words
        if "transfer-encoding" in lookup:
            raise _BadRequest(501, "only Content-Length request bodies are supported")
        try:
            length = int(lookup.get("content-length") or 0)
        except ValueError as malformed:
            raise _BadRequest(400, "malformed Content-Length") from malformed
        body = await reader.readexactly(length) if length else b""

        amz_target = lookup.get("x-amz-target")
        if amz_target:
            operation = amz_target.rpartition(".")[2]
        else:
            operation = f"{method} {target.partition('?')[0]}"
        with self._lock:
            self._counts[operation] += 1

        lines = [f"{method} {target} HTTP/1.1", f"Host: {self._host_header}"]
        lines.extend(
            f"{name}: {value}"
            for name, value in fields
            if name.lower() not in _HOP_BY_HOP and name.lower() != "host"
        )
        lines.append("\r\n")
        request = "\r\n".join(lines).encode("latin-1") + body
        keep_alive = version == "HTTP/1.1" and lookup.get("connection", "").lower() != "close"
        return method, request, keep_alive

    async def _forward(self, method: str, request: bytes) -> bytes:
        """Send *request* upstream, over a pooled connection when one is idle
        (retried once on a fresh one if it turns out stale)."""
        while self._idle:
            reader, writer = self._idle.pop()
            if reader.at_eof() or writer.is_closing():
                writer.close()
                continue
            try:
                return await self._roundtrip(reader, writer, method, request)
            except _StaleConnection:
                break
        reader, writer = await asyncio.open_connection(self.upstream_host, self.upstream_port)
        self.upstream_connections += 1
        _nodelay(writer)
        try:
            return await self._roundtrip(reader, writer, method, request)
        except _StaleConnection as stale:
            raise ConnectionResetError("upstream closed the connection") from stale

    async def _roundtrip(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        method: str,
        request: bytes,
    ) -> bytes:
        try:
            try:
                writer.write(request)
                await writer.drain()
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError as eof:
                if eof.partial:
                    raise
                raise _StaleConnection from eof
            except (ConnectionResetError, BrokenPipeError) as reset:
                raise _StaleConnection from reset
            status, reason, relayed, body, reusable = await _read_response(reader, head, method)
        except BaseException:
            writer.close()
            raise
        if reusable:
            self._idle.append((reader, writer))
        else:
            writer.close()
        if body is None:
            return _answer(status, reason, relayed, b"")
        relayed = [(n, v) for n, v in relayed if n.lower() != "content-length"]
        relayed.append(("Content-Length", str(len(body))))
        return _answer(status, reason, relayed, body)
