"""Loopback servers that misbehave on purpose: the proxy engine of
:mod:`testservers.proxy` with no upstream and one fault.

- :class:`Redirector` answers every request with a redirect to ``target + path``,
  over HTTP or HTTPS; :attr:`Redirector.seen` lists ``(method, path)``.
- :class:`Trickler` answers every request with a valid head, then the body one
  byte at a time, slowly: a server that never times a socket out.
- :class:`ForwardProxy` is a plain-HTTP forward proxy (``HTTP_PROXY``);
  :attr:`ForwardProxy.seen` lists ``(method, absolute URL, headers as sent)``.

    with Redirector("http://127.0.0.1:8200", status=307) as stub:
        stub.url        # point the client here
"""

from __future__ import annotations

import ssl

from testservers.faults import Redirect, Trickle
from testservers.proxy import Proxy

__all__ = ["ForwardProxy", "Redirector", "Trickler"]


class Redirector(Proxy):
    """Redirect every request to *target* with *status*; *context* serves HTTPS."""

    def __init__(
        self, target: str, *, status: int = 307, context: ssl.SSLContext | None = None
    ) -> None:
        super().__init__(None, Redirect(target, status), context=context)

    @property
    def seen(self) -> list[tuple[str, str]]:
        with self._lock:
            return [(request.method, request.path) for request in self.requests]


class Trickler(Proxy):
    """Answer 200 with *body* announced whole, then one byte every *interval*
    seconds; :attr:`connections` counts the connections it accepted."""

    def __init__(self, *, interval: float = 0.2, body: bytes | None = None) -> None:
        super().__init__(None, Trickle(interval) if body is None else Trickle(interval, body))


class ForwardProxy(Proxy):
    """Forward ``GET http://host:port/path`` (and other methods) to its host."""

    def __init__(self) -> None:
        super().__init__(None)

    @property
    def seen(self) -> list[tuple[str, str, dict[str, str]]]:
        with self._lock:
            return [(r.method, r.path, dict(r.fields)) for r in self.requests]
