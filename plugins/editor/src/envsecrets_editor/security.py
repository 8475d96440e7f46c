"""The guard in front of every request of the local server.

The server acts with the user's cloud and Vault credentials, so neither a
web page in the same browser nor another server on this machine may drive
it:

- the ``Host`` header must name the bound address (DNS-rebinding defence);
- the app lives under a random path prefix (``/<prefix>/``) and its session
  cookie is scoped to that path. Cookies are not port-scoped (RFC 6265
  8.5), but the browser sends a cookie only to paths under its ``Path``: a
  server on another port of 127.0.0.1 would need the prefix, which it never
  sees, to receive it; and the cookie alone opens nothing (every request
  needs the prefix too);
- the URL's one-time login token is swapped for that cookie and leaves the
  address bar;
- a POST must come from the page's own origin (the handlers check a CSRF
  token on top) and carry at most ``max_body`` bytes: a longer
  ``Content-Length`` is refused before anything is read;
- every answer forbids framing, caching and any script or style not served
  by the app.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, urlencode

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from envsecrets_editor.hosts import is_ip_literal

TOKEN_PARAMETER = "token"  # noqa: S105 - the query parameter's name

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


class Guard:
    """ASGI middleware enforcing the rules of this module's docstring."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        token: str,
        session: str,
        prefix: str,
        hosts: Iterable[str],
        port: int,
        any_ip: bool = False,
        max_body: int = 1 << 20,
    ) -> None:
        self.app = app
        self.token = token
        self.session = session
        #: Where the app lives: ``/<prefix>``, the cookie's ``Path`` its own.
        self.base = f"/{prefix}"
        self.max_body = max_body
        self.hosts = frozenset(hosts)
        self.port = port
        # Bound to 0.0.0.0/::: any address of this machine, never a name
        # (a rebinding attack needs a name).
        self.any_ip = any_ip
        #: Cookies are not per port: two editors must not share one.
        self.cookie = f"envsecrets_editor_{port}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
            await send(message)

        response = self._refusal(scope)
        if response is not None:
            await response(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)

    def _host_ok(self, host: str) -> bool:
        if host in self.hosts:
            return True
        return self.any_ip and is_ip_literal(host) and host.endswith(f":{self.port}")

    def _refusal(self, scope: Scope) -> Response | None:
        headers = Headers(scope=scope)
        host = headers.get("host", "").lower()
        if not self._host_ok(host):
            return PlainTextResponse("Bad Host header.", status_code=400)
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        if any(name == TOKEN_PARAMETER for name, _ in query):
            return self._login(scope, query)
        path = scope["path"]
        inside = path.startswith(f"{self.base}/") or path == self.base
        if not inside or not _same(self._cookie_token(headers), self.session):
            return PlainTextResponse("Forbidden.", status_code=403)
        if scope["method"] not in ("GET", "HEAD"):
            origin = headers.get("origin")
            if origin is None or origin.lower() != f"http://{host}":
                return PlainTextResponse("Cross-origin request refused.", status_code=403)
        return self._length_refusal(headers.get("content-length"))

    def _login(self, scope: Scope, query: list[tuple[str, str]]) -> Response:
        """Swap the URL token for the session cookie, and take it out of
        the address bar and history."""
        offered = next(value for name, value in query if name == TOKEN_PARAMETER)
        if not _same(offered, self.token) or scope["method"] not in ("GET", "HEAD"):
            return PlainTextResponse("Forbidden.", status_code=403)
        # Always under the prefix: "//host/..." cannot send the browser away.
        rest = urlencode([(name, value) for name, value in query if name != TOKEN_PARAMETER])
        redirect = RedirectResponse(f"{self.base}/" + (f"?{rest}" if rest else ""), 303)
        redirect.set_cookie(
            self.cookie, self.session, httponly=True, samesite="strict", path=f"{self.base}/"
        )
        return redirect

    def _length_refusal(self, length: str | None) -> Response | None:
        if length is None:
            return None  # streamed: the handlers cap what they read
        if not length.isdigit():
            return PlainTextResponse("Bad Content-Length header.", status_code=400)
        if int(length) > self.max_body:
            return PlainTextResponse("Request too large.", status_code=413)
        return None

    def _cookie_token(self, headers: Headers) -> str:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(headers.get("cookie", ""))
        except Exception:  # a malformed cookie header is no token
            return ""
        morsel = jar.get(self.cookie)
        return "" if morsel is None else morsel.value


def _same(offered: str, secret: str) -> bool:
    return bool(offered) and hmac.compare_digest(offered.encode(), secret.encode())
