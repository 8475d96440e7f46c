"""A small HTTP/1.1 GET client with kept-alive connections, for secret reads.

Why not urllib3 (which the login still uses, through requests and hvac):
a read is a GET with a handful of headers and a JSON answer, and a session
start may read a hundred paths at once. urllib3 spends about 0.45 ms of CPU
per request on this (URL parsing, pool keys, retry objects, header dicts and
http.client's email-based header parser), this client about 0.06 ms
(100 sequential reads against OpenBao: 45 ms against 6 ms of CPU). On a
small machine that CPU is the wall time of the fan-out.

Only what reads need is here: GET, ``Content-Length``, chunked and
close-delimited bodies, TLS through an :class:`ssl.SSLContext`, a timeout
per connect and per read, and one silent retry when a kept-alive connection
turned out to be closed by the server. Proxies are not: reads through a
proxy keep using urllib3. Retry policy is the caller's.

Errors never hold the request (its headers carry the token) or the answer.
"""

from __future__ import annotations

import select
import socket
import ssl
import threading
from collections.abc import Mapping
from typing import BinaryIO

#: Longest status or header line accepted, and most header lines.
MAX_LINE = 65536
MAX_HEADERS = 100
#: Largest body accepted (a Vault KV entry is at most about 1 MiB).
MAX_BODY = 32 * 1024 * 1024

_MID_ANSWER = "the connection closed in the middle of the answer"


class HTTPError(Exception):
    """The request failed before a whole answer arrived."""

    #: Whether the request may have reached the server (a retry may repeat it).
    sent = True


class ConnectError(HTTPError):
    """No connection could be opened (refused, unreachable, unknown host)."""

    sent = False


class TLSError(HTTPError):
    """The TLS handshake failed; :attr:`verify_failed` when the certificate did."""

    sent = False

    def __init__(self, message: str, *, verify_failed: bool) -> None:
        super().__init__(message)
        self.verify_failed = verify_failed


class Timeout(HTTPError):
    """Connecting, or waiting for the answer, took longer than the timeout."""

    def __init__(self, message: str, *, connecting: bool) -> None:
        super().__init__(message)
        self.sent = not connecting


class CutShort(HTTPError):
    """The connection closed or reset before the whole answer arrived.

    :attr:`before_answer` when not one byte of it did: on a kept-alive
    connection, the server had closed it while it sat idle.
    """

    def __init__(self, message: str, *, before_answer: bool = False) -> None:
        super().__init__(message)
        self.before_answer = before_answer


class BadAnswer(HTTPError):
    """The answer is not well-formed HTTP/1.x."""


class BadRequest(HTTPError):
    """The request cannot be written: a header is not Latin-1 text."""

    sent = False


class _Connection:
    __slots__ = ("reader", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader = sock.makefile("rb")

    def close(self) -> None:
        self.reader.close()
        self.sock.close()


class Pool:
    """Kept-alive connections to one server; :meth:`get` is thread-safe.

    :param host: name or address (IPv6 without brackets).
    :param ssl_context: for ``https``; ``None`` for plain HTTP.
    :param timeout: seconds for the connect, and for each read from the socket.
    :param maxsize: idle connections kept for reuse.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        ssl_context: ssl.SSLContext | None,
        timeout: float,
        maxsize: int = 32,
    ) -> None:
        self.host = host
        self.port = port
        self.ssl_context = ssl_context
        self.timeout = timeout
        self.maxsize = maxsize
        default_port = 443 if ssl_context is not None else 80
        shown = f"[{host}]" if ":" in host else host
        self.host_header = shown if port == default_port else f"{shown}:{port}"
        self._idle: list[_Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    def get(self, target: str, headers: Mapping[str, str]) -> tuple[int, bytes]:
        """GET *target* (path and query) and return the status and the body.

        :raise HTTPError: when no whole answer arrived.
        """
        head = [f"GET {target} HTTP/1.1", f"Host: {self.host_header}"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        try:
            request = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
        except UnicodeEncodeError:
            # from None: the encoding error would hold the request, token included.
            raise BadRequest("a request header is not Latin-1 text") from None
        while True:
            connection, reused = self._checkout()
            try:
                status, body, keep = self._exchange(connection, request)
            except CutShort as error:
                connection.close()
                if reused and error.before_answer:
                    # The server closed this idle connection meanwhile (its
                    # keep-alive timeout): try the next one, or a new one.
                    continue
                raise
            except BaseException:
                connection.close()
                raise
            if keep:
                self._checkin(connection)
            else:
                connection.close()
            return status, body

    def close(self) -> None:
        """Close the idle connections; ones in use close when returned."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    # -- connections -----------------------------------------------------

    def _checkout(self) -> tuple[_Connection, bool]:
        while True:
            with self._lock:
                connection = self._idle.pop() if self._idle else None
            if connection is None:
                return self._connect(), False
            if not _dropped(connection.sock):
                return connection, True
            connection.close()

    def _checkin(self, connection: _Connection) -> None:
        with self._lock:
            if not self._closed and len(self._idle) < self.maxsize:
                self._idle.append(connection)
                return
        connection.close()

    def _connect(self) -> _Connection:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except TimeoutError:
            raise Timeout("connecting timed out", connecting=True) from None
        except OSError as error:
            raise ConnectError(f"could not connect ({type(error).__name__})") from None
        try:
            # A request is one write: do not let Nagle hold it back.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.ssl_context is not None:
                sock = self.ssl_context.wrap_socket(sock, server_hostname=self.host)
        except ssl.SSLCertVerificationError:
            sock.close()
            raise TLSError("certificate verify failed", verify_failed=True) from None
        except TimeoutError:
            sock.close()
            raise Timeout("the TLS handshake timed out", connecting=True) from None
        except (ssl.SSLError, OSError) as error:
            sock.close()
            raise TLSError(
                f"the TLS handshake failed ({type(error).__name__})", verify_failed=False
            ) from None
        return _Connection(sock)

    # -- one exchange ------------------------------------------------------

    def _exchange(self, connection: _Connection, request: bytes) -> tuple[int, bytes, bool]:
        """Send *request*, read the answer: (status, body, connection reusable)."""
        reader = connection.reader
        answered = False  # has one byte of the answer arrived?
        try:
            connection.sock.sendall(request)
            line = reader.readline(MAX_LINE + 1)
            if not line:
                raise CutShort("the connection closed before any answer", before_answer=True)
            answered = True
            status, version, fields = self._head(reader, line)
            while 100 <= status < 200:  # an interim answer (never expected for a GET)
                line = reader.readline(MAX_LINE + 1)
                if not line:
                    raise CutShort(_MID_ANSWER)
                status, version, fields = self._head(reader, line)
            body, delimited = self._body(reader, status, fields)
        except TimeoutError:
            raise Timeout("no answer within the timeout", connecting=False) from None
        except OSError as error:  # reset, broken pipe, a TLS error mid-stream
            raise CutShort(
                f"the connection failed ({type(error).__name__})", before_answer=not answered
            ) from None
        tokens = {token.strip().lower() for token in fields.get("connection", "").split(",")}
        keep = delimited and version == "HTTP/1.1" and "close" not in tokens
        return status, body, keep

    def _head(self, reader: BinaryIO, line: bytes) -> tuple[int, str, dict[str, str]]:
        """Parse the status *line* and read the header lines after it."""
        if len(line) > MAX_LINE:
            raise BadAnswer("the status line is too long")
        version, _, rest = line.decode("latin-1").partition(" ")
        code = rest[:3]
        if not version.startswith("HTTP/1.") or not code.isdigit() or len(code) != 3:
            raise BadAnswer("the answer does not start with an HTTP/1.x status line")
        fields: dict[str, str] = {}
        for _ in range(MAX_HEADERS + 1):
            line = reader.readline(MAX_LINE + 1)
            if line in (b"\r\n", b"\n"):
                return int(code), version, fields
            if not line:
                raise CutShort(_MID_ANSWER)
            if len(line) > MAX_LINE:
                raise BadAnswer("a header line is too long")
            name, colon, value = line.decode("latin-1").partition(":")
            if not colon:
                raise BadAnswer("a header line has no colon")
            name = name.strip().lower()
            value = value.strip()
            if name in {"content-length", "transfer-encoding"}:
                if fields.get(name, value) != value:
                    raise BadAnswer(f"conflicting {name} headers")
            elif name in fields:
                value = f"{fields[name]}, {value}"  # repeated: one list (RFC 9110)
            fields[name] = value
        raise BadAnswer("too many header lines")

    def _body(self, reader: BinaryIO, status: int, fields: Mapping[str, str]) -> tuple[bytes, bool]:
        """The body and whether its end was delimited (else the server closed)."""
        if status in (204, 304):
            return b"", True
        encoding = fields.get("transfer-encoding")
        if encoding is not None:
            if encoding.lower() != "chunked":
                raise BadAnswer("an unsupported transfer encoding")
            return _chunked(reader), True
        length = fields.get("content-length")
        if length is not None:
            size = _size(length, 10, "Content-Length")
            body = reader.read(size)
            if len(body) != size:
                raise CutShort(_MID_ANSWER)
            return body, True
        body = reader.read(MAX_BODY + 1)  # delimited by the server closing
        if len(body) > MAX_BODY:
            raise BadAnswer("the answer is too large")
        return body, False


def _dropped(sock: socket.socket) -> bool:
    """Whether an idle connection is readable: closed by the server, or
    holding bytes nobody asked for. Either way it cannot carry a request."""
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True
    if hasattr(select, "poll"):  # select.select fails for descriptors >= 1024
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
    return bool(select.select([sock], [], [], 0)[0])


def _size(text: str | bytes, base: int, what: str) -> int:
    """A Content-Length (base 10) or chunk size (base 16), at most MAX_BODY."""
    digits = "0123456789" if base == 10 else "0123456789abcdefABCDEF"
    if isinstance(text, bytes):
        text = text.decode("latin-1")
    if not text or any(char not in digits for char in text):
        raise BadAnswer(f"a malformed {what}")
    if len(text) > 12:  # more than MAX_BODY in either base, before int() parses it
        raise BadAnswer("the answer is too large")
    size = int(text, base)
    if size > MAX_BODY:
        raise BadAnswer("the answer is too large")
    return size


def _chunked(reader: BinaryIO) -> bytes:
    parts: list[bytes] = []
    total = 0
    while True:
        line = reader.readline(MAX_LINE + 1)
        if not line.endswith(b"\n"):
            if len(line) > MAX_LINE:
                raise BadAnswer("a chunk size line is too long")
            raise CutShort(_MID_ANSWER)
        size = _size(line.split(b";", 1)[0].strip(), 16, "chunk size")
        total += size
        if total > MAX_BODY:
            raise BadAnswer("the answer is too large")
        if size == 0:
            break
        chunk = reader.read(size + 2)  # the data and its CRLF
        if len(chunk) != size + 2:
            raise CutShort(_MID_ANSWER)
        if not chunk.endswith(b"\r\n"):
            raise BadAnswer("a chunk does not end with CRLF")
        parts.append(chunk[:-2])
    for _ in range(MAX_HEADERS + 1):  # trailers, up to the blank line
        line = reader.readline(MAX_LINE + 1)
        if line in (b"\r\n", b"\n"):
            return b"".join(parts)
        if not line.endswith(b"\n"):
            raise CutShort(_MID_ANSWER)
    raise BadAnswer("too many trailer lines")
