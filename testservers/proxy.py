"""One loopback HTTP proxy/stub engine for the tests and the benchmarks.

It sits between a client under test and a real server (moto, OpenBao), or
stands alone as a stub, and per request forwards or misbehaves (the faults of
:mod:`testservers.faults`). Every request is recorded with the fault that
answered it, so tests count calls, retries and logins at the wire::

    with Proxy("http://127.0.0.1:8200") as proxy:
        ...                                     # point the client at proxy.url
        proxy.count(lambda r: r.operation == "GET /v1/secret/data/app")
        proxy.fault = first(2, Status(503))     # two 503s, then forward
        proxy.restart(down_for=1.0)             # the "server" restarts on the same port

Without *upstream* it forwards absolute-form requests (``GET http://host/path``,
as clients send them to ``HTTP_PROXY``) to their host: a forward proxy.

One asyncio event loop on a thread of its own serves every connection, with
keep-alive on both sides and a pool of upstream connections: about 0.25 ms of
CPU per forwarded request on uvloop (``fast=True``, when it is installed),
0.4 ms on asyncio's own loop, so that a benchmark's latency proxy takes
little CPU from the client it measures.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import socket
import ssl
import struct
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from testservers import wire
from testservers.faults import (
    Answer,
    Blackhole,
    Fault,
    Forward,
    Redirect,
    Reset,
    Rule,
    Seen,
    Slow,
    Trickle,
    Truncate,
)

__all__ = ["Proxy"]

_P = TypeVar("_P", bound="Proxy")
_Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]

# How a client connection goes on after an answer.
_KEEP, _FINISH, _RESET = "keep", "finish", "reset"  # FIN: the client reads what was sent


class _Client:
    """One accepted client connection: its socket, then its stream once served."""

    __slots__ = ("sock", "writer")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.writer: asyncio.StreamWriter | None = None


class _Stale(Exception):
    """A pooled upstream connection closed before any byte of the answer."""


class Proxy:
    """Forward HTTP/1.1 requests to *upstream*, recording each one.

    :param upstream: ``http://host:port`` of the real server; ``None`` for a
        forward proxy (absolute-form requests) or a stub whose faults answer.
    :param fault: a :class:`~testservers.faults.Fault` for every request, or
        a rule picking one per request (``None`` from a rule: forward).
        :attr:`rule` is the same setting.
    :param delay: seconds added before each request is answered (latency).
    :param context: a server-side TLS context to serve HTTPS.
    :param fast: run on uvloop when it is installed (the benchmarks).

    :meth:`stop` and :meth:`down` cut every open connection with a reset,
    requests waiting out a delay or a blackhole included.
    """

    def __init__(
        self,
        upstream: str | None = None,
        fault: Fault | Rule | None = None,
        *,
        rule: Rule | None = None,
        delay: float = 0.0,
        context: ssl.SSLContext | None = None,
        fast: bool = False,
    ) -> None:
        self.upstream = None if upstream is None else _host_port(upstream)
        self.fault: Fault | Rule = fault or rule or Forward()
        self.delay = delay
        self.context = context
        self.fast = fast
        self.port = 0
        self.requests: list[Seen] = []
        self.connections = 0  #: client connections accepted so far
        self.upstream_connections = 0  #: upstream connections opened (pool misses)
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._listener: socket.socket | None = None
        self._clients: dict[asyncio.Task[None], _Client] = {}
        self._idle: dict[tuple[str, int], list[_Connection]] = {}
        self._rules: ThreadPoolExecutor | None = None

    # -- settings and records --------------------------------------------------

    @property
    def rule(self) -> Rule | None:
        """The per-request rule, or ``None`` when one fault answers every request."""
        return None if isinstance(self.fault, Fault) else self.fault

    @rule.setter
    def rule(self, rule: Rule | None) -> None:
        self.fault = rule or Forward()

    @property
    def url(self) -> str:
        scheme = "https" if self.context is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def reset(self) -> None:
        """Forget the requests seen so far."""
        with self._lock:
            self.requests.clear()
            self._counts.clear()

    def count(self, predicate: Callable[[Seen], bool] | None = None) -> int:
        """Requests seen (those matching *predicate*)."""
        with self._lock:
            return sum(1 for r in self.requests if predicate is None or predicate(r))

    def operations(self) -> dict[str, int]:
        """Requests seen, by :attr:`~testservers.faults.Seen.operation`."""
        with self._lock:
            return dict(self._counts)

    # -- lifecycle (any thread) ------------------------------------------------

    def start(self: _P) -> _P:
        """Start the event loop's thread and listen."""
        self._stopped.clear()
        self._loop = _new_loop(self.fast)
        self._thread = threading.Thread(target=self._loop.run_forever, name="proxy", daemon=True)
        self._thread.start()
        self.up()
        return self

    def stop(self) -> None:
        """Stop listening, cut every connection, end the loop's thread."""
        self._stopped.set()
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        self.down()
        self._call(self._close_pool())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
        self._loop = self._thread = None
        if self._rules is not None:
            self._rules.shutdown(wait=False)
            self._rules = None

    def __enter__(self: _P) -> _P:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

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
        self.port = listener.getsockname()[1]
        self._call(self._listen(listener))

    def down(self) -> None:
        """Stop listening (connections are refused) and reset the open ones."""
        self._call(self._down())

    def restart(self, down_for: float = 0.0) -> None:
        """Go :meth:`down`, stay down *down_for* seconds, come back :meth:`up`
        on the same port (unless stopped meanwhile)."""
        self.down()
        self._stopped.wait(down_for)
        if not self._stopped.is_set():
            self.up()

    def _call(self, coroutine: Any) -> Any:
        assert self._loop is not None, "the proxy is not started"
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(30)

    # -- the event loop's thread -----------------------------------------------

    # Accepting is done here, not by asyncio.start_server: each connection is
    # registered in _clients in the same callback that accepts it, so down()
    # resets every connection the listener took. asyncio's Server, closed
    # between its accept() and the creation of the transport, drops that
    # socket unclosed and unread (an AssertionError it swallows): under load a
    # request sent as a restart began then got neither an answer nor a reset.

    async def _listen(self, listener: socket.socket) -> None:
        # A burst of 100 concurrent connections overflows a small backlog
        # and costs each late one a one-second SYN retry.
        listener.listen(1024)
        listener.setblocking(False)
        self._listener = listener
        asyncio.get_running_loop().add_reader(listener.fileno(), self._accept, listener)

    def _accept(self, listener: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        for _ in range(1024):
            try:
                sock, _ = listener.accept()
            except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                return  # none left
            sock.setblocking(False)
            client = _Client(sock)
            self._clients[loop.create_task(self._serve(client))] = client

    async def _down(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            asyncio.get_running_loop().remove_reader(listener.fileno())
            listener.close()  # the kernel resets the connections it holds unaccepted
        clients = list(self._clients.items())
        for task, _ in clients:
            task.cancel()  # _serve resets its connection as it ends
        await asyncio.gather(*(task for task, _ in clients), return_exceptions=True)
        for task, client in clients:
            # A task cancelled before its first step never ran _serve at all.
            self._clients.pop(task, None)
            if client.writer is None:
                _reset(client.sock)

    async def _close_pool(self) -> None:
        for connections in self._idle.values():
            for _, writer in connections:
                writer.close()
        self._idle.clear()
        await asyncio.sleep(0)  # let the transports finish closing

    async def _serve(self, client: _Client) -> None:
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        ending = _RESET
        try:
            reader = asyncio.StreamReader()
            protocol = asyncio.StreamReaderProtocol(reader)
            transport, _ = await loop.connect_accepted_socket(
                lambda: protocol, client.sock, ssl=self.context
            )
            writer = client.writer = asyncio.StreamWriter(transport, protocol, reader, loop)
            self.connections += 1
            _nodelay(writer)
            while True:
                ending = await self._exchange(reader, writer)
                if ending != _KEEP:
                    break
        except (OSError, ValueError, asyncio.IncompleteReadError, asyncio.CancelledError):
            ending = _RESET  # the client went away or garbled a body (or TLS), or down()/stop()
        finally:
            if task is not None:
                self._clients.pop(task, None)
            if client.writer is None:
                _reset(client.sock)  # no stream yet (cut during the TLS handshake)
            elif ending == _FINISH:
                client.writer.close()
            else:
                _abort(client.writer)

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> str:
        """Serve one request; return how the connection goes on."""
        try:
            request = await wire.read_request(reader)
        except wire.BadMessage as bad:
            writer.write(_error(bad.status, str(bad)))
            return _FINISH
        method, target, _version = request.start
        seen = Seen(method, target, request.headers, request.body or b"", fields=request.fields)
        fault = self.fault
        try:
            if not isinstance(fault, Fault):
                fault = await self._pick(fault, seen)
        finally:  # recorded even when down() cuts the request meanwhile
            name = repr(fault) if isinstance(fault, Fault) else "Cut"
            seen = Seen(method, target, seen.headers, seen.body, name, seen.fields)
            with self._lock:
                self.requests.append(seen)
                self._counts[seen.operation] += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        ending = await self._answer(reader, writer, request, fault)
        if ending == _KEEP and not request.keep_alive:
            return _FINISH
        return ending

    async def _pick(self, rule: Rule, seen: Seen) -> Fault:
        """Run *rule* on a thread of its own: a rule may block."""
        if self._rules is None:
            self._rules = ThreadPoolExecutor(64, thread_name_prefix="proxy-rule")
        picked = await asyncio.get_running_loop().run_in_executor(self._rules, rule, seen)
        return picked or Forward()

    async def _answer(  # noqa: PLR0911 (one branch per fault)
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        request: wire.Message,
        fault: Fault,
    ) -> str:
        if isinstance(fault, Blackhole):
            while await reader.read(65536):  # hold it until the client gives up
                pass
            return _RESET
        if isinstance(fault, Reset):
            return _RESET
        if isinstance(fault, Answer):
            writer.write(
                wire.render(wire.status_line(fault.status), [*fault.headers.items()], fault.body)
            )
            await writer.drain()
            return _KEEP
        if isinstance(fault, Redirect):
            location = fault.target.rstrip("/") + request.start[1]
            writer.write(wire.render(wire.status_line(fault.status), [("Location", location)]))
            await writer.drain()
            return _KEEP
        if isinstance(fault, Trickle):
            head = [("Content-Type", "application/json")]
            writer.write(wire.render(wire.status_line(200), head, length=len(fault.body)))
            for index in range(len(fault.body)):
                writer.write(fault.body[index : index + 1])
                await writer.drain()
                await asyncio.sleep(fault.interval)
            return _KEEP
        if isinstance(fault, Slow):
            await asyncio.sleep(fault.delay)
        try:
            answer = await self._forward(request)
        except (OSError, ValueError, asyncio.IncompleteReadError) as failure:
            writer.write(_error(502, f"upstream: {failure!r}"))
            return _FINISH
        body = answer.body or b""
        # No body (HEAD, 204, 304): the upstream's Content-Length is relayed as is.
        length = int(answer.headers.get("content-length", 0)) if answer.body is None else None
        start = wire.status_line(int(answer.start[1]), answer.start[2])
        if isinstance(fault, Truncate):
            cut = int(len(body) * fault.fraction)
            writer.write(wire.render(start, answer.relayed(), body[:cut], length=len(body)))
            # A reset could reach the client before it read the part sent
            # (Linux drops unread data on RST): end with a FIN instead.
            return _FINISH
        writer.write(wire.render(start, answer.relayed(), body, length=length))
        await writer.drain()
        return _KEEP

    async def _forward(self, request: wire.Message) -> wire.Message:
        """Send *request* upstream over a pooled connection when one is idle
        (on a fresh one when the pooled one turns out stale)."""
        method, target, _version = request.start
        if self.upstream is not None:
            host, port = self.upstream
        else:  # forward proxy: the absolute-form target names the server
            parts = urllib.parse.urlsplit(target)
            if parts.scheme != "http" or not parts.hostname:
                raise wire.BadMessage(502, "no upstream for an origin-form request")
            host, port = parts.hostname, parts.port or 80
            target = parts.path + (f"?{parts.query}" if parts.query else "") or "/"
        fields = [(n, v) for n, v in request.relayed() if n.lower() != "host"]
        fields.insert(0, ("Host", f"{host}:{port}"))
        data = wire.render(f"{method} {target} HTTP/1.1", fields, request.body or b"")
        idle = self._idle.setdefault((host, port), [])
        while idle:
            reader, writer = idle.pop()
            if reader.at_eof() or writer.is_closing():
                writer.close()
                continue
            try:
                return await self._roundtrip(reader, writer, idle, method, data)
            except _Stale:
                break
        reader, writer = await asyncio.open_connection(host, port)
        self.upstream_connections += 1
        _nodelay(writer)
        try:
            return await self._roundtrip(reader, writer, idle, method, data)
        except _Stale as stale:
            raise ConnectionResetError("upstream closed the connection") from stale

    @staticmethod
    async def _roundtrip(
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        idle: list[_Connection],
        method: str,
        data: bytes,
    ) -> wire.Message:
        try:
            try:
                writer.write(data)
                await writer.drain()
                head = await wire.read_head(reader)
            except asyncio.IncompleteReadError as eof:
                if eof.partial:
                    raise
                raise _Stale from eof
            except (ConnectionResetError, BrokenPipeError) as reset:
                raise _Stale from reset
            answer = await wire.read_response(reader, method, head)
        except BaseException:
            writer.close()
            raise
        if answer.keep_alive:
            idle.append((reader, writer))
        else:
            writer.close()
        return answer


def _host_port(url: str) -> tuple[str, int]:
    parts = urllib.parse.urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 80


def _new_loop(fast: bool) -> asyncio.AbstractEventLoop:
    if fast:
        try:
            uvloop = importlib.import_module("uvloop")  # optional: the bench env only
        except ImportError:
            pass
        else:
            loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
            return loop
    return asyncio.new_event_loop()


def _nodelay(writer: asyncio.StreamWriter) -> None:
    # Head and body may go out in two writes: without TCP_NODELAY each
    # kept-alive request waits ~40 ms on the peer's delayed ACK.
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _abort(writer: asyncio.StreamWriter) -> None:
    """Close with a reset (SO_LINGER 0) and nothing before it, as a crashed
    server's kernel would: the client's next read fails with ECONNRESET."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        _linger_zero(sock)
    writer.transport.abort()


def _reset(sock: socket.socket) -> None:
    """:func:`_abort` for a connection without a transport (once is enough)."""
    if sock.fileno() != -1:
        _linger_zero(sock)
        sock.close()


def _linger_zero(sock: Any) -> None:
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def _error(status: int, message: str) -> bytes:
    fields = [("Content-Type", "text/plain"), ("Connection", "close")]
    return wire.render(wire.status_line(status), fields, message.encode() + b"\n")
