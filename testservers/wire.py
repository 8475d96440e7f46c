"""HTTP/1.1 messages on asyncio streams: the one parser of the toolkit.

It reads what the clients under test and the servers behind the proxy send:
bodies delimited by Content-Length or chunked (requests and responses), and
responses delimited by the end of the connection. Bodies are read whole.
"""

from __future__ import annotations

import asyncio
import http.client
from dataclasses import dataclass, field

__all__ = [
    "HOP_BY_HOP",
    "BadMessage",
    "Message",
    "read_head",
    "read_request",
    "read_response",
    "render",
    "status_line",
]

#: Headers that belong to one connection, not to the message: each side's own.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)


class BadMessage(ValueError):
    """A message the toolkit will not read; :attr:`status` is the answer to give."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Message:
    """A request (``start`` is method, target, version) or a response
    (version, status, reason), its header lines as sent, and its body."""

    start: tuple[str, str, str]
    fields: tuple[tuple[str, str], ...]
    body: bytes | None = field(repr=False)

    @property
    def headers(self) -> dict[str, str]:
        """The headers by lower-cased name (the last one of a repeated name)."""
        return {name.lower(): value for name, value in self.fields}

    @property
    def keep_alive(self) -> bool:
        """Whether the connection may carry another message after this one."""
        connection = self.headers.get("connection", "").lower()
        version = self.start[0] if self.start[0].startswith("HTTP/") else self.start[2]
        return version == "HTTP/1.1" and connection != "close"

    def relayed(self) -> list[tuple[str, str]]:
        """The end-to-end header lines, without the framing (Content-Length)."""
        return [
            (name, value)
            for name, value in self.fields
            if name.lower() not in HOP_BY_HOP and name.lower() != "content-length"
        ]


def _parse_head(head: bytes) -> tuple[list[str], tuple[tuple[str, str], ...]]:
    lines = head.decode("latin-1").split("\r\n")
    fields = []
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon and name and not name[0].isspace():
            fields.append((name, value.strip()))
    return lines[0].split(" ", 2), tuple(fields)


async def _read_line(reader: asyncio.StreamReader, end: bytes = b"\r\n") -> bytes:
    try:
        return await reader.readuntil(end)
    except asyncio.LimitOverrunError as overrun:
        raise BadMessage(431, "message head or chunk line too large") from overrun


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size_line = await _read_line(reader)
        size = int(size_line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            while await _read_line(reader) != b"\r\n":  # trailers: dropped
                pass
            return b"".join(parts)
        parts.append((await reader.readexactly(size + 2))[:-2])


async def _read_length(reader: asyncio.StreamReader, value: str) -> bytes:
    try:
        length = int(value)
    except ValueError as malformed:
        raise BadMessage(400, "malformed Content-Length") from malformed
    return await reader.readexactly(length) if length else b""


async def read_head(reader: asyncio.StreamReader) -> bytes:
    """Read a message head (to the blank line). Raises IncompleteReadError
    when the peer closed first (``partial`` is what it sent)."""
    return await _read_line(reader, b"\r\n\r\n")


async def read_request(reader: asyncio.StreamReader) -> Message:
    """Read one request. Raises IncompleteReadError when the client closes
    between requests, :class:`BadMessage` on one it cannot read."""
    head = b""
    while not head:  # stray line ends before a request are skipped
        head = (await read_head(reader)).lstrip(b"\r\n")
    words, fields = _parse_head(head)
    if len(words) != 3:
        raise BadMessage(400, "malformed request line")
    message = Message((words[0], words[1], words[2]), fields, None)
    headers = message.headers
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = await _read_chunked(reader)
    else:
        body = await _read_length(reader, headers.get("content-length") or "0")
    return Message(message.start, fields, body)


async def read_response(reader: asyncio.StreamReader, method: str, head: bytes) -> Message:
    """Read the rest of the response to a *method* request that begins with
    *head* (its body is None when it has none)."""
    words, fields = _parse_head(head)
    while len(words) > 1 and words[1][:1] == "1" and words[1] != "101":  # 100 Continue
        words, fields = _parse_head(await read_head(reader))
    if len(words) < 2 or not words[1].isdigit():
        raise BadMessage(502, f"malformed status line {words!r}")
    message = Message((words[0], words[1], words[2] if len(words) > 2 else ""), fields, None)
    headers = message.headers
    body: bytes | None
    if method == "HEAD" or words[1] in ("204", "304"):
        body = None
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        body = await _read_chunked(reader)
    elif "content-length" in headers:
        body = await _read_length(reader, headers["content-length"])
    else:
        body = await reader.read()  # delimited by the end of the connection
        fields = (*fields, ("Connection", "close"))
    return Message(message.start, fields, body)


def render(
    start: str, fields: list[tuple[str, str]], body: bytes = b"", *, length: int | None = None
) -> bytes:
    """A message: *start* line, header lines, a Content-Length of *length*
    (the body's own by default), and *body*."""
    lines = [start, *(f"{name}: {value}" for name, value in fields)]
    lines.append(f"Content-Length: {len(body) if length is None else length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def status_line(status: int, reason: str = "") -> str:
    """``HTTP/1.1 STATUS REASON`` (the standard reason by default)."""
    return f"HTTP/1.1 {status} {reason or http.client.responses.get(status, 'Unknown')}"
