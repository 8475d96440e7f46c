"""The guard in front of every request of the local server.

The server acts with the user's cloud and Vault credentials, so a web page
in the same browser must not be able to drive it:

- the ``Host`` header must name the bound address (DNS-rebinding defence);
- every request carries the per-launch token: once in the URL, which is
  swapped for an HttpOnly SameSite=Strict cookie, then the cookie;
- a POST must come from the page's own origin (and the handlers check a CSRF
  token on top);
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
        hosts: Iterable[str],
        port: int,
        any_ip: bool = False,
    ) -> None:
        self.app = app
        self.token = token
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
        offered = [value for name, value in query if name == TOKEN_PARAMETER]
        if offered:
            if not self._valid(offered[0]) or scope["method"] not in ("GET", "HEAD"):
                return PlainTextResponse("Forbidden.", status_code=403)
            # Swap the URL token for a cookie, and take it out of the
            # address bar and history.
            rest = urlencode([(name, value) for name, value in query if name != TOKEN_PARAMETER])
            # One leading slash: "//host/..." would send the browser away.
            target = "/" + scope["path"].lstrip("/") + (f"?{rest}" if rest else "")
            redirect = RedirectResponse(target, status_code=303)
            redirect.set_cookie(self.cookie, self.token, httponly=True, samesite="strict", path="/")
            return redirect
        if not self._valid(self._cookie_token(headers)):
            return PlainTextResponse("Forbidden.", status_code=403)
        if scope["method"] not in ("GET", "HEAD"):
            origin = headers.get("origin")
            if origin is None or origin.lower() != f"http://{host}":
                return PlainTextResponse("Cross-origin request refused.", status_code=403)
        return None

    def _cookie_token(self, headers: Headers) -> str:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(headers.get("cookie", ""))
        except Exception:  # a malformed cookie header is no token
            return ""
        morsel = jar.get(self.cookie)
        return "" if morsel is None else morsel.value

    def _valid(self, offered: str) -> bool:
        return bool(offered) and hmac.compare_digest(offered.encode(), self.token.encode())
