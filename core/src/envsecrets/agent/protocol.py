"""The agent's wire format: one request, one answer, each a frame.

A frame is a 4-byte big-endian length and that many bytes of UTF-8 JSON
holding an object with ``"v": VERSION``. JSON escapes lone surrogates
(``ensure_ascii``), so environment values that are not UTF-8 (held by
``os.environ`` as surrogates) cross unchanged.
"""

from __future__ import annotations

import json
import socket

#: The protocol version; a peer speaking another is answered with an error.
VERSION = 1
#: Most bytes of one frame's JSON: an environment is at most a few MB (ARG_MAX).
MAX_FRAME = 8 * 1024 * 1024

#: Bytes of a frame's length (big-endian; int.to_bytes: no struct import).
_LENGTH_SIZE = 4

#: typing.TYPE_CHECKING without importing typing (a thin client never does).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    Message = dict[str, Any]
else:
    Message = dict


#: The error of a connection closed before its first byte (a probe).
EMPTY = "the connection closed before a message"


class ProtocolError(Exception):
    """A frame that is cut short, too large, not JSON, or of another version."""


def encode(message: Message) -> bytes:
    """*message* as one frame (``"v"`` added).

    :raise ProtocolError: when it is larger than :data:`MAX_FRAME`.
    """
    body = json.dumps({**message, "v": VERSION}, ensure_ascii=True).encode("ascii")
    if len(body) > MAX_FRAME:
        raise ProtocolError(f"the message is larger than {MAX_FRAME} bytes")
    return len(body).to_bytes(_LENGTH_SIZE, "big") + body


def decode(body: bytes) -> Message:
    """The message of one frame's *body*.

    :raise ProtocolError: not a JSON object of this version.
    """
    try:
        message = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ProtocolError("the message is not JSON") from None
    if not isinstance(message, dict):
        raise ProtocolError("the message is not a JSON object")
    if message.get("v") != VERSION:
        raise ProtocolError(f"protocol version {message.get('v')!r} (this agent speaks {VERSION})")
    return message


def send(sock: socket.socket, message: Message) -> None:
    """Write *message* as one frame."""
    sock.sendall(encode(message))


def receive(sock: socket.socket) -> Message:
    """Read one frame and return its message.

    :raise ProtocolError: for a frame that is cut short, too large or bad.
    """
    first = sock.recv(_LENGTH_SIZE)
    if not first:
        raise ProtocolError(EMPTY)
    length = int.from_bytes(first + _read(sock, _LENGTH_SIZE - len(first)), "big")
    if length > MAX_FRAME:
        raise ProtocolError(f"the message is larger than {MAX_FRAME} bytes")
    return decode(_read(sock, length))


def _read(sock: socket.socket, size: int) -> bytes:
    chunks = []
    while size:
        chunk = sock.recv(min(size, 1 << 20))
        if not chunk:
            raise ProtocolError("the connection closed in the middle of a message")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)
