"""The direct read client (envsecrets_vault.http11) against real sockets: a
scripted raw TCP server on 127.0.0.1 for framing, keep-alive and every error,
the TLS OpenBao dev server for certificates."""

from __future__ import annotations

import socket
import ssl
import struct
import threading
import time
import traceback
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Union
from urllib.parse import urlsplit

import pytest

from envsecrets_vault import http11
from envsecrets_vault.http11 import (
    BadAnswer,
    ConnectError,
    CutShort,
    HTTPError,
    Pool,
    Timeout,
    TLSError,
)
from tests.support.openbao import OpenBao

TOKEN = "SENTINEL-TOKEN-123"
BODY = "SENTINEL-BODY-456"
SECRET_HEADERS = {"X-Vault-Token": TOKEN, "X-Vault-Request": "true"}

#: What the server does for one request, in order: bytes are sent; "close"
#: closes the connection, "reset" resets it (SO_LINGER 0), "hang" waits until
#: teardown, "echo" answers 200 with the request target as the body;
#: ("sleep", seconds) pauses.
Action = Union[bytes, str, tuple[str, float]]


def ok(body: bytes, *extra: str, version: str = "HTTP/1.1") -> bytes:
    """A 200 answer with a Content-Length body."""
    head = [f"{version} 200 OK", f"Content-Length: {len(body)}", *extra]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def chunked(*parts: bytes, trailer: bytes = b"") -> bytes:
    """A 200 answer with a chunked body of *parts*."""
    body = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in parts)
    return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body + b"0\r\n" + trailer


@dataclass
class Seen:
    """One accepted connection, as the server saw it."""

    requests: list[bytes] = field(default_factory=list)
    #: The client closed or reset it (the server read EOF or got an error).
    ended: threading.Event = field(default_factory=threading.Event)
    #: The server's side is closed.
    closed: threading.Event = field(default_factory=threading.Event)


class RawServer:
    """A threaded TCP server on 127.0.0.1 that answers from a script.

    Each request (read up to the blank line) takes the next reply of
    :meth:`script`, across connections, in arrival order; once they run out
    the reply is ``["echo"]``. :attr:`greeting` runs on accept, before any
    request is read.
    """

    POLL = 0.02

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(self.POLL)
        self.port: int = self.listener.getsockname()[1]
        self.greeting: list[Action] = []
        self.connections: list[Seen] = []
        self.requests: list[bytes] = []
        self._replies: list[list[Action]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> RawServer:
        self._acceptor.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._acceptor.join(5)
        self.listener.close()
        for thread in list(self._threads):
            thread.join(5)
        alive = [t for t in [self._acceptor, *self._threads] if t.is_alive()]
        assert not alive, f"server threads still running: {alive}"

    def script(self, *replies: list[Action]) -> None:
        with self._lock:
            self._replies.extend(replies)

    @property
    def accepts(self) -> int:
        return len(self.connections)

    # -- server side -----------------------------------------------------

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            seen = Seen()
            with self._lock:
                self.connections.append(seen)
            thread = threading.Thread(target=self._serve, args=(sock, seen), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, sock: socket.socket, seen: Seen) -> None:
        sock.settimeout(self.POLL)
        buffer = b""
        try:
            if not self._run(sock, self.greeting, b""):
                return
            while True:
                while b"\r\n\r\n" not in buffer:
                    try:
                        data = sock.recv(65536)
                    except TimeoutError:
                        if self._stop.is_set():
                            return
                        continue
                    if not data:
                        seen.ended.set()
                        return
                    buffer += data
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                request = head + b"\r\n\r\n"
                with self._lock:
                    seen.requests.append(request)
                    self.requests.append(request)
                    reply = self._replies.pop(0) if self._replies else ["echo"]
                if not self._run(sock, reply, request):
                    return
        except OSError:
            seen.ended.set()
        finally:
            sock.close()
            seen.closed.set()

    def _run(self, sock: socket.socket, actions: list[Action], request: bytes) -> bool:
        """Play *actions*; False once the connection is closed."""
        for action in actions:
            if isinstance(action, tuple):
                self._stop.wait(action[1])
            elif action == "close":
                return False
            elif action == "reset":
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return False
            elif action == "hang":
                self._stop.wait()
                return False
            elif action == "echo":
                self._send(sock, ok(request.split(b" ", 2)[1]))
            else:
                assert isinstance(action, bytes), action
                self._send(sock, action)
        return True

    def _send(self, sock: socket.socket, data: bytes) -> None:
        sock.settimeout(5)
        try:
            sock.sendall(data)
        finally:
            sock.settimeout(self.POLL)


@pytest.fixture
def server() -> Iterator[RawServer]:
    with RawServer() as running:
        yield running


@pytest.fixture
def pool(server: RawServer) -> Iterator[Pool]:
    client = Pool("127.0.0.1", server.port, ssl_context=None, timeout=2)
    yield client
    client.close()


def free_port() -> int:
    """A port nobody listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def assert_secret_free(error: BaseException) -> None:
    """Neither sentinel in the error, its repr, its traceback or its chain;
    nothing chained is shown."""
    shown = [
        str(error),
        repr(error),
        repr(error.args),
        repr(vars(error)),
        "".join(traceback.format_exception(error)),
    ]
    for text in shown:
        assert TOKEN not in text, f"the token leaked: {text[:300]!r}"
        assert BODY not in text, f"the body leaked: {text[:300]!r}"
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__


# -- framing -------------------------------------------------------------


def test_request_bytes_and_content_length_body(server: RawServer, pool: Pool) -> None:
    """The request line, the Host header with its port and the given headers
    arrive exactly as sent; a Content-Length body comes back whole."""
    server.script([ok(b'{"data":1}')])
    headers = {"X-Vault-Token": "t-1", "X-Vault-Request": "true", "User-Agent": "ua/1"}
    assert pool.get("/v1/secret/data/app?version=2", headers) == (200, b'{"data":1}')
    assert server.requests == [
        b"GET /v1/secret/data/app?version=2 HTTP/1.1\r\n"
        + f"Host: 127.0.0.1:{server.port}\r\n".encode()
        + b"X-Vault-Token: t-1\r\nX-Vault-Request: true\r\nUser-Agent: ua/1\r\n\r\n"
    ]


def test_host_header_forms() -> None:
    """The port is left out of Host when it is the scheme's default; IPv6
    addresses are bracketed."""
    context = ssl.create_default_context()
    assert Pool("vault", 80, ssl_context=None, timeout=1).host_header == "vault"
    assert Pool("vault", 443, ssl_context=context, timeout=1).host_header == "vault"
    assert Pool("vault", 443, ssl_context=None, timeout=1).host_header == "vault:443"
    assert Pool("vault", 80, ssl_context=context, timeout=1).host_header == "vault:80"
    assert Pool("::1", 8200, ssl_context=None, timeout=1).host_header == "[::1]:8200"


def test_keep_alive_reuses_one_connection(server: RawServer, pool: Pool) -> None:
    """Two gets on one pool go over one TCP connection."""
    assert pool.get("/one", {}) == (200, b"/one")
    assert pool.get("/two", {}) == (200, b"/two")
    assert server.accepts == 1
    assert len(server.connections[0].requests) == 2
    assert len(pool._idle) == 1


def test_chunked_body_with_extension_and_trailer(server: RawServer, pool: Pool) -> None:
    """Chunks are joined; a chunk extension and a trailer are skipped, and
    the connection stays reusable (the next answer parses)."""
    answer = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5;ext=1\r\nhello\r\n"
        b"1\r\n \r\n"
        b"A\r\n0123456789\r\n"
        b"0\r\nX-Trailer: yes\r\n\r\n"
    )
    server.script([answer])
    assert pool.get("/c", {}) == (200, b"hello 0123456789")
    assert pool.get("/after", {}) == (200, b"/after")
    assert server.accepts == 1


def test_duplicate_equal_content_length_is_accepted(server: RawServer, pool: Pool) -> None:
    """Repeated, equal Content-Length headers are not a conflict."""
    server.script([b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok"])
    assert pool.get("/", {}) == (200, b"ok")


@pytest.mark.parametrize("version", ["HTTP/1.0", "HTTP/1.1"])
def test_close_delimited_body(server: RawServer, pool: Pool, version: str) -> None:
    """Without Content-Length or chunking the body runs to EOF, and the next
    get opens a new connection."""
    server.script([f"{version} 200 OK\r\nX-A: b\r\n\r\n".encode() + b"hello world", "close"])
    assert pool.get("/", {}) == (200, b"hello world")
    assert pool._idle == []
    assert pool.get("/next", {}) == (200, b"/next")
    assert server.accepts == 2


@pytest.mark.parametrize(
    "answer",
    [
        ok(b"bye", "Connection: close"),
        ok(b"bye", "Connection: Close"),
        ok(b"bye", version="HTTP/1.0"),
    ],
    ids=["connection-close", "capitalised", "http-1.0"],
)
def test_answer_that_ends_the_connection_is_not_reused(
    server: RawServer, pool: Pool, answer: bytes
) -> None:
    """The server keeps the connection open, yet the client closes it: the
    next get arrives on a new connection, and the first one sees EOF."""
    server.script([answer])
    assert pool.get("/", {}) == (200, b"bye")
    assert pool.get("/next", {}) == (200, b"/next")
    assert server.accepts == 2
    assert server.connections[0].ended.wait(2)
    assert len(server.connections[0].requests) == 1


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (b"HTTP/1.1 204 No Content\r\n\r\n", (204, b"")),
        (b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", (304, b"")),
        (b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found", (404, b"not found")),
        (b"HTTP/1.1 500 Oops\r\nContent-Length: 5\r\n\r\nerror", (500, b"error")),
        (b"HTTP/1.1 503\r\nContent-Length: 4\r\n\r\nbusy", (503, b"busy")),
    ],
    ids=["204", "304", "404", "500", "503-no-reason"],
)
def test_statuses_are_returned_as_is(
    server: RawServer, pool: Pool, answer: bytes, expected: tuple[int, bytes]
) -> None:
    """Bodiless and error statuses come back as (status, body), and the
    connection stays in use (the next answer parses on it)."""
    server.script([answer])
    assert pool.get("/", {}) == expected
    assert pool.get("/next", {}) == (200, b"/next")
    assert server.accepts == 1


def test_interim_100_continue_is_skipped(server: RawServer, pool: Pool) -> None:
    """A 100 Continue before the answer is read past; the 200 is returned."""
    server.script([b"HTTP/1.1 100 Continue\r\n\r\n" + ok(b"final")])
    assert pool.get("/", {}) == (200, b"final")
    assert pool.get("/next", {}) == (200, b"/next")
    assert server.accepts == 1


# -- kept-alive connections closed by the server ---------------------------


@pytest.mark.parametrize("end", ["close", "reset"])
def test_stale_connection_is_retried_silently(server: RawServer, pool: Pool, end: str) -> None:
    """The server closes (or resets) the idle connection: the next get
    succeeds on a new one."""
    server.script([ok(b"first"), end])
    assert pool.get("/", {}) == (200, b"first")
    assert server.connections[0].closed.wait(2)
    time.sleep(0.05)  # let the FIN or RST reach the client
    assert pool.get("/second", {}) == (200, b"/second")
    assert server.accepts == 2
    assert len(pool._idle) == 1


def test_several_stale_connections_then_a_new_one(server: RawServer) -> None:
    """Every idle connection the server closed is skipped; one new
    connection answers."""
    client = Pool("127.0.0.1", server.port, ssl_context=None, timeout=2)
    server.script(*[[("sleep", 0.2), ok(b"x"), "close"] for _ in range(3)])
    with ThreadPoolExecutor(3) as executor:
        answers = list(executor.map(lambda _: client.get("/", {}), range(3)))
    assert answers == [(200, b"x")] * 3
    assert len(client._idle) == 3
    for seen in server.connections:
        assert seen.closed.wait(2)
    time.sleep(0.05)
    assert client.get("/fresh", {}) == (200, b"/fresh")
    assert server.accepts == 4
    client.close()


# -- errors ------------------------------------------------------------------


def test_connection_refused() -> None:
    """Nobody listening: ConnectError, never sent."""
    client = Pool("127.0.0.1", free_port(), ssl_context=None, timeout=1)
    with pytest.raises(ConnectError) as caught:
        client.get("/", SECRET_HEADERS)
    assert caught.value.sent is False
    assert_secret_free(caught.value)


def test_no_answer_times_out(server: RawServer) -> None:
    """A server that accepts but never answers: Timeout after the per-read
    timeout, marked as sent."""
    server.script(["hang"])
    client = Pool("127.0.0.1", server.port, ssl_context=None, timeout=0.3)
    started = time.monotonic()
    with pytest.raises(Timeout) as caught:
        client.get("/", SECRET_HEADERS)
    assert 0.25 < time.monotonic() - started < 1.0
    assert caught.value.sent is True
    assert server.requests[0].startswith(b"GET / HTTP/1.1\r\n")
    assert client._idle == []
    assert_secret_free(caught.value)


def test_slow_body_times_out(server: RawServer) -> None:
    """The timeout applies to each read, also in the middle of a body."""
    server.script([b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + BODY.encode(), "hang"])
    client = Pool("127.0.0.1", server.port, ssl_context=None, timeout=0.3)
    with pytest.raises(Timeout) as caught:
        client.get("/", SECRET_HEADERS)
    assert caught.value.sent is True
    assert_secret_free(caught.value)


@pytest.mark.parametrize(
    "actions",
    [
        [b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + BODY.encode()[:10], "close"],
        [
            b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + BODY.encode(),
            ("sleep", 0.1),
            "reset",
        ],
        [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n20\r\n" + BODY.encode(), "close"],
        [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", "close"],
        [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", "close"],
        [chunked(BODY.encode(), trailer=b"X-Trailer: 1\r\n"), "close"],
        [b"HTTP/1.1 200 OK\r\nX-Half: " + BODY.encode(), "close"],
    ],
    ids=[
        "content-length-close",
        "content-length-reset",
        "mid-chunk",
        "before-chunk-size",
        "chunk-short",
        "in-trailers",
        "in-headers",
    ],
)
def test_answer_cut_short(server: RawServer, pool: Pool, actions: list[Action]) -> None:
    """A connection that ends in the middle of the answer: CutShort, not
    before the answer, and not retried."""
    server.script(actions)
    with pytest.raises(CutShort) as caught:
        pool.get("/", SECRET_HEADERS)
    assert caught.value.before_answer is False
    assert caught.value.sent is True
    assert server.accepts == 1
    assert pool._idle == []
    assert_secret_free(caught.value)


@pytest.mark.parametrize("end", ["close", "reset"])
def test_fresh_connection_closed_before_answer(server: RawServer, pool: Pool, end: str) -> None:
    """A new connection that ends before any byte: CutShort before the
    answer, and not retried on another new connection."""
    server.script([end])
    with pytest.raises(CutShort) as caught:
        pool.get("/", SECRET_HEADERS)
    assert caught.value.before_answer is True
    assert caught.value.sent is True
    time.sleep(0.1)  # a retry would have connected by now
    assert server.accepts == 1
    assert len(server.requests) == 1
    assert_secret_free(caught.value)


LONG = b"a" * 70_000


@pytest.mark.parametrize(
    "answer",
    [
        b"HELLO " + BODY.encode() + b"\r\n\r\n",
        b"HTTP/2 200 OK\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 " + LONG + b"\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX-Long: " + LONG + b"\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n" + b"X-Many: 1\r\n" * 101 + b"\r\n",
        b"HTTP/1.1 200 OK\r\n" + BODY.encode() + b"\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + BODY.encode() + b"\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXY0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + LONG + b"\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n" + BODY.encode(),
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
    ],
    ids=[
        "garbage-status",
        "http-2",
        "short-code",
        "long-status-line",
        "long-header-line",
        "too-many-headers",
        "header-without-colon",
        "conflicting-content-length",
        "conflicting-transfer-encoding",
        "content-length-not-a-number",
        "content-length-negative",
        "chunk-size-not-hex",
        "chunk-size-negative",
        "chunk-without-crlf",
        "long-chunk-size-line",
        "gzip",
        "gzip-then-chunked",
    ],
)
def test_bad_answers(server: RawServer, pool: Pool, answer: bytes) -> None:
    """A malformed answer: BadAnswer, the connection dropped, the next get
    fine on a new one."""
    server.script([answer])
    with pytest.raises(BadAnswer) as caught:
        pool.get("/", SECRET_HEADERS)
    assert caught.value.sent is True
    assert pool._idle == []
    assert_secret_free(caught.value)
    assert pool.get("/next", {}) == (200, b"/next")
    assert server.accepts == 2


# -- TLS ---------------------------------------------------------------------


def _tls_pool(bao: OpenBao, context: ssl.SSLContext, timeout: float = 2) -> Pool:
    parts = urlsplit(bao.address)
    assert parts.hostname is not None
    assert parts.port is not None
    return Pool(parts.hostname, parts.port, ssl_context=context, timeout=timeout)


def test_tls_with_the_ca(bao_tls: OpenBao) -> None:
    """Trusting the dev CA, reads work over TLS on one kept-alive connection."""
    assert bao_tls.ca_path is not None
    client = _tls_pool(bao_tls, ssl.create_default_context(cafile=bao_tls.ca_path))
    try:
        for _ in range(2):
            status, body = client.get("/v1/secret/data/tls", {"X-Vault-Token": bao_tls.root_token})
            assert status == 200
            assert b'"password":"tls-pass"' in body
        assert len(client._idle) == 1
        status, body = client.get("/v1/secret/data/tls", {"X-Vault-Token": "wrong"})
        assert status == 403
        assert b"permission denied" in body
    finally:
        client.close()


def test_tls_untrusted_certificate(bao_tls: OpenBao) -> None:
    """A context that does not trust the dev CA: TLSError(verify_failed),
    never sent."""
    client = _tls_pool(bao_tls, ssl.create_default_context())
    with pytest.raises(TLSError) as caught:
        client.get("/v1/secret/data/tls", SECRET_HEADERS)
    assert caught.value.verify_failed is True
    assert caught.value.sent is False
    assert_secret_free(caught.value)


def test_tls_to_plain_openbao(bao: OpenBao) -> None:
    """TLS to a plain-HTTP server that answers the hello with an HTTP 400:
    TLSError, not a certificate failure, never sent."""
    client = _tls_pool(bao, ssl.create_default_context())
    with pytest.raises(TLSError) as caught:
        client.get("/v1/sys/health", SECRET_HEADERS)
    assert caught.value.verify_failed is False
    assert caught.value.sent is False
    assert_secret_free(caught.value)


@pytest.mark.parametrize(
    "greeting",
    [["close"], ["reset"], [b"HTTP/1.1 400 Bad Request\r\n\r\n" + BODY.encode(), "close"]],
    ids=["close", "reset", "http-answer"],
)
def test_tls_handshake_cut(server: RawServer, greeting: list[Action]) -> None:
    """A server that ends the handshake (closes, resets, or speaks plain
    HTTP): TLSError, not a certificate failure, never sent."""
    server.greeting = greeting
    client = Pool("127.0.0.1", server.port, ssl_context=ssl.create_default_context(), timeout=2)
    with pytest.raises(TLSError) as caught:
        client.get("/", SECRET_HEADERS)
    assert caught.value.verify_failed is False
    assert caught.value.sent is False
    assert server.requests == []
    assert_secret_free(caught.value)


def test_tls_handshake_times_out(server: RawServer) -> None:
    """A plain server silent at the TLS hello: Timeout while connecting,
    never sent."""
    server.greeting = ["hang"]
    context = ssl.create_default_context()
    client = Pool("127.0.0.1", server.port, ssl_context=context, timeout=0.3)
    started = time.monotonic()
    with pytest.raises(Timeout) as caught:
        client.get("/", SECRET_HEADERS)
    assert time.monotonic() - started < 1.0
    assert caught.value.sent is False
    assert_secret_free(caught.value)


# -- secrets, threads, close ---------------------------------------------------


def test_errors_hold_neither_request_nor_answer(server: RawServer) -> None:
    """Every error path of a get, checked in one place: no token, no body
    text, nothing chained."""
    client = Pool("127.0.0.1", server.port, ssl_context=None, timeout=0.3)
    scripts: list[list[Action]] = [
        ["close"],
        ["reset"],
        ["hang"],
        [b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + BODY.encode(), "close"],
        [b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + BODY.encode(), "hang"],
        [BODY.encode() + b"\r\n\r\n"],
        [b"HTTP/1.1 200 OK\r\nX-" + BODY.encode() + b": " + LONG + b"\r\n\r\n"],
        [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + BODY.encode() + b"\r\n"],
    ]
    server.script(*scripts)
    errors: list[HTTPError] = []
    for _ in scripts:
        with pytest.raises(HTTPError) as caught:
            client.get(f"/v1/secret/data/app?x={BODY}", SECRET_HEADERS)
        errors.append(caught.value)
    kinds = [type(error) for error in errors]
    assert kinds == [CutShort, CutShort, Timeout, CutShort, Timeout, *[BadAnswer] * 3]
    for error in errors:
        assert_secret_free(error)
    client.close()


def test_concurrent_gets(server: RawServer) -> None:
    """50 gets from 16 threads on a pool of 4 each get their own answer; at
    most 4 connections are kept."""
    client = Pool("127.0.0.1", server.port, ssl_context=None, timeout=5, maxsize=4)
    targets = [f"/echo/{number}" for number in range(50)]
    with ThreadPoolExecutor(16) as executor:
        answers = list(executor.map(lambda target: client.get(target, {}), targets))
    assert answers == [(200, target.encode()) for target in targets]
    assert len(server.requests) == 50
    assert 1 <= len(client._idle) <= 4
    kept = len(client._idle)
    client.close()
    # Every connection beyond the kept ones was closed by the client.
    ended = sum(seen.ended.wait(2) for seen in server.connections)
    assert ended == server.accepts
    assert server.accepts >= kept


def test_close_ends_idle_connections(server: RawServer) -> None:
    """close() closes every idle connection (the server reads EOF), and a
    get after it does not keep its connection."""
    client = Pool("127.0.0.1", server.port, ssl_context=None, timeout=2)
    server.script([("sleep", 0.2), b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"])
    server.script([("sleep", 0.2), b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb"])
    with ThreadPoolExecutor(2) as executor:
        answers = sorted(executor.map(lambda _: client.get("/", {}), range(2)))
    assert answers == [(200, b"a"), (200, b"b")]
    assert server.accepts == 2
    assert len(client._idle) == 2
    assert not any(seen.ended.is_set() for seen in server.connections)
    client.close()
    assert client._idle == []
    assert all(seen.ended.wait(2) for seen in server.connections)
    assert client.get("/late", {}) == (200, b"/late")
    assert client._idle == []
    assert server.connections[2].ended.wait(2)


def test_module_limits() -> None:
    """The limits the BadAnswer cases above are built around."""
    assert http11.MAX_LINE == 65536
    assert http11.MAX_HEADERS == 100


# -- defects found (these fail against the current module) ---------------------


def test_reset_after_status_line_is_not_before_answer(server: RawServer, pool: Pool) -> None:
    """A reset after the status line arrived is a cut in the answer, not
    before it (CutShort.before_answer: "not one byte of it did")."""
    server.script([b"HTTP/1.1 200 OK\r\n", ("sleep", 0.1), "reset"])
    with pytest.raises(CutShort) as caught:
        pool.get("/", SECRET_HEADERS)
    assert caught.value.before_answer is False


def test_reused_connection_cut_mid_answer_is_not_retried(server: RawServer, pool: Pool) -> None:
    """Only a kept-alive connection closed before any answer byte is retried
    silently: one reset in the middle of the headers surfaces as CutShort."""
    server.script(
        [ok(b"first")],
        [b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n", ("sleep", 0.1), "reset"],
    )
    assert pool.get("/", {}) == (200, b"first")
    outcome: object
    try:
        outcome = pool.get("/second", {})
    except CutShort as error:
        outcome = error
    assert isinstance(outcome, CutShort), (
        f"retried silently: {outcome} after {len(server.requests)} requests"
        f" on {server.accepts} connections"
    )
    assert outcome.before_answer is False
    assert len(server.requests) == 2


def test_close_after_interim_answer_is_not_before_answer(server: RawServer, pool: Pool) -> None:
    """A close after a 100 Continue is a cut in the answer, not before it."""
    server.script([b"HTTP/1.1 100 Continue\r\n\r\n", "close"])
    with pytest.raises(CutShort) as caught:
        pool.get("/", SECRET_HEADERS)
    assert caught.value.before_answer is False


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: \xb2\r\n\r\nab",
        b"HTTP/1.1 200 OK\r\nContent-Length: 100000000000000000000\r\n\r\nab",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"f" * 20 + b"\r\nab",
    ],
    ids=["superscript-two", "content-length-overflow", "chunk-size-overflow"],
)
def test_unparsable_sizes_are_bad_answers(server: RawServer, pool: Pool, answer: bytes) -> None:
    """A size the client cannot use is a BadAnswer (an HTTPError the caller
    handles), not a ValueError or OverflowError escaping get()."""
    server.script([answer])
    with pytest.raises(BadAnswer):
        pool.get("/", SECRET_HEADERS)


def test_unencodable_header_does_not_carry_the_request(server: RawServer, pool: Pool) -> None:
    """A header value outside latin-1 fails without the error holding the
    request (whose X-Vault-Token header is a credential)."""
    with pytest.raises(Exception) as caught:
        pool.get("/", {**SECRET_HEADERS, "X-Vault-Namespace": "équipe-日本"})
    assert TOKEN not in repr(caught.value)
    assert TOKEN not in repr(caught.value.args)
    assert server.requests == []


def test_idle_connection_with_unsolicited_bytes_is_dropped(server: RawServer, pool: Pool) -> None:
    """Bytes a server wrote on an idle connection (a 408 before it closes)
    are never taken for the answer to the next request: that connection is
    dropped and a new one carries the request."""
    timeout_answer = b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n"
    server.script([ok(b"first"), ("sleep", 0.05), timeout_answer, "hang"])
    assert pool.get("/", {}) == (200, b"first")
    time.sleep(0.3)  # the 408 has reached the idle connection
    assert pool.get("/next", {}) == (200, b"/next")
    assert server.accepts == 2


def test_unencodable_header_is_a_bad_request_never_sent(server: RawServer, pool: Pool) -> None:
    """A header outside Latin-1 is refused before any connection: a
    BadRequest, flagged as not sent, holding neither the token nor the value."""
    with pytest.raises(http11.BadRequest) as caught:
        pool.get("/", {**SECRET_HEADERS, "X-Vault-Namespace": "équipe-日本"})
    assert caught.value.sent is False
    assert TOKEN not in str(caught.value)
    assert "équipe" not in str(caught.value)
    assert caught.value.__cause__ is None
    assert server.accepts == 0
