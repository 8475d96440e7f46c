"""What the proxy of :mod:`testservers.proxy` does with each request.

A fault is a value; a rule is a callable that picks one per request (or
``None``: forward). Rules run on a thread of their own, so a rule may block
(wait on a barrier until concurrent requests have all arrived).

- :class:`Forward` (the default): pass the request on, relay the answer.
- :class:`Answer`: answer without forwarding (``Status``: an error with a JSON body).
- :class:`Slow`: wait *delay* seconds, then forward.
- :class:`Blackhole`: read the request, never answer (until the client or the proxy closes).
- :class:`Reset`: read the request, then drop the connection with a TCP reset.
- :class:`Truncate`: forward, send the full Content-Length but part of the
  body, then end the connection with a FIN (the client reads every byte sent,
  then the end: what it sees never depends on when its read runs).
- :class:`Trickle`: answer 200 with a body announced whole, one byte every *interval*.
- :class:`Redirect`: answer a redirect to *target* + the request's path.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = [
    "AMZ_JSON",
    "Answer",
    "Blackhole",
    "Fault",
    "Forward",
    "Redirect",
    "Reset",
    "Rule",
    "Seen",
    "Slow",
    "Status",
    "Trickle",
    "Truncate",
    "aws_throttling",
    "first",
]

#: The content type of AWS JSON-protocol answers.
AMZ_JSON = {"Content-Type": "application/x-amz-json-1.1"}


@dataclass(frozen=True)
class Seen:
    """One request as it reached the proxy, and the fault that answered it.

    :attr:`headers` are keyed by lower-cased name; :attr:`fields` are the
    header lines as sent.
    """

    method: str
    path: str
    headers: dict[str, str]
    body: bytes = field(repr=False)
    fault: str = "Forward"
    fields: tuple[tuple[str, str], ...] = field(default=(), repr=False)

    @property
    def operation(self) -> str:
        """AWS JSON-protocol operation (``GetSecretValue``) or ``METHOD path``."""
        target = self.headers.get("x-amz-target", "")
        if target:
            return target.rpartition(".")[2]
        return f"{self.method} {urllib.parse.urlsplit(self.path).path}"


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


@dataclass(frozen=True, repr=False)
class Slow(Fault):
    """Wait *delay* seconds, then forward."""

    delay: float


@dataclass(frozen=True, repr=False)
class Answer(Fault):
    """Answer *status* with *body* and *headers*, without forwarding."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.status})"


@dataclass(frozen=True, repr=False)
class Status(Answer):
    """An :class:`Answer` with a JSON error body by default (500, 503, 429...)."""

    body: bytes = b'{"errors":[]}'
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})


@dataclass(frozen=True, repr=False)
class Truncate(Fault):
    """Forward, then send only *fraction* of the body after a full Content-Length, and close."""

    fraction: float = 0.5


@dataclass(frozen=True, repr=False)
class Trickle(Fault):
    """Answer 200 with *body* announced whole, then send it one byte every
    *interval* seconds (a 4 kB JSON document by default: 15 minutes)."""

    interval: float = 0.2
    body: bytes = b'{"data":{"data":{"password":"' + b"x" * 4000 + b'"}}}'


@dataclass(frozen=True, repr=False)
class Redirect(Fault):
    """Answer *status* with ``Location: target + path`` (query kept)."""

    target: str
    status: int = 307


Rule = Callable[[Seen], "Fault | None"]


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


def aws_throttling(code: str = "ThrottlingException") -> Status:
    """The answer AWS gives a throttled JSON-protocol call (HTTP 400)."""
    body = json.dumps({"__type": code, "message": "Rate exceeded"}).encode()
    return Status(400, body, dict(AMZ_JSON))
