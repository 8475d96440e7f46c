"""The one HTTP stack under hvac: a requests session that behaves like
Vault's own client.

- **Trust**: one :class:`ssl.SSLContext` per client, built from
  ``VAULT_CACERT``/``VAULT_CAPATH``, else ``SSL_CERT_FILE``/``SSL_CERT_DIR``
  of the agent's environment, else the system trust store; never certifi.
  Host names are matched on the certificate's SAN only (no CN fallback).
  ``VAULT_CLIENT_CERT``/``VAULT_CLIENT_KEY`` are loaded into it.
- **Redirects**: at most one 301/302/307/308, re-sending the same request
  (method, body, token) as Vault's client does; never from https to http;
  none with ``VAULT_DISABLE_REDIRECTS``.
- **Retries** in the adapter: GET and LIST on connect errors, 429 and 5xx;
  POST (the login) on connect errors only.
- **Proxies** from the agent's environment, per target URL
  (:mod:`envsecrets_vault.proxies`); ``trust_env`` is off.
- **A total deadline** per call: the connections register their sockets
  with :mod:`envsecrets_vault.deadline`.

Imported on the first fetch only (it imports requests and urllib3).
"""

from __future__ import annotations

import functools
import re
import ssl
import threading
import urllib.parse
from collections.abc import Mapping
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import check_header_validity, get_encoding_from_headers
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util.retry import Retry
from urllib3.util.timeout import Timeout

from envsecrets.resolver import DEFAULT_MAX_WORKERS
from envsecrets_vault import deadline
from envsecrets_vault.config import TLSSettings, VaultConfig
from envsecrets_vault.proxies import proxy_for

#: Attempts after the first one, for connection errors and retryable statuses.
RETRIES = 3
#: Sleep before retry n is BACKOFF * 2**(n-1) seconds after the first, as
#: urllib3 does: 0, 0.4, 0.8.
BACKOFF = 0.2
#: Statuses worth another try: throttled, or a server error that may pass.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: Redirects Vault's client follows (one of them, at most).
REDIRECT_STATUSES = frozenset({301, 302, 307, 308})
#: Connections kept open to the server: as many as the core runs fetches.
POOL_SIZE = DEFAULT_MAX_WORKERS


class RedirectRefused(requests.RequestException):
    """A redirect Vault's client would not follow either (downgrade, or disabled)."""


def build_retry() -> Retry:
    """GET/LIST: connect errors, a connection dropped before the answer's
    head, 429 and 5xx (with backoff). POST: connect errors only (urllib3
    retries a failed connect whatever the method: nothing was sent), never a
    replay of a login the server may have acted on."""
    return Retry(
        total=RETRIES,
        connect=RETRIES,
        read=RETRIES,  # a GET sent and then dropped (reset, closed) is safe to resend
        status=RETRIES,
        other=0,
        redirect=False,  # redirects are the session's business (one, as Vault)
        allowed_methods=frozenset({"GET", "HEAD", "LIST"}),
        status_forcelist=RETRY_STATUSES,
        backoff_factor=BACKOFF,
        backoff_max=2.0,
        # A Retry-After of an hour must not stall the agent: our backoff is
        # bounded, and the call's deadline bounds the whole.
        respect_retry_after_header=False,
        raise_on_status=False,  # hand back the last answer; the client explains it
    )


@functools.lru_cache(maxsize=16)
def tls_context(tls: TLSSettings) -> ssl.SSLContext:
    """The TLS context for *tls*, shared by the clients of one process that
    have the same settings (a context is thread-safe once set up; loading
    the system store costs ~5 ms of CPU, per session otherwise).

    The trust anchors load on the first TLS connection (:func:`ensure_trust`),
    so that an ``http://`` server never pays for them.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if not tls.verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    # SAN only: a certificate naming its host in the CN alone is refused.
    context.hostname_checks_common_name = False
    context.envsecrets_trust = _Trust(context, tls)  # type: ignore[attr-defined]
    return context


def ensure_trust(context: ssl.SSLContext) -> None:
    """Load *context*'s CA certificates and client certificate, once.

    :raise OSError: (``ssl.SSLError``) when one cannot be loaded.
    """
    trust: _Trust | None = getattr(context, "envsecrets_trust", None)
    if trust is not None:
        trust.ensure()


class _Trust:
    def __init__(self, context: ssl.SSLContext, tls: TLSSettings) -> None:
        self._context = context
        self._tls = tls
        self._lock = threading.Lock()
        self._loaded = False

    def ensure(self) -> None:
        with self._lock:
            if self._loaded:
                return
            tls, context = self._tls, self._context
            if not tls.verify:
                pass
            elif tls.ca is not None:
                context.load_verify_locations(
                    cafile=tls.ca.path, capath=tls.ca.directory, cadata=tls.ca.pem
                )
            elif tls.system_file or tls.system_dir:
                # As OpenSSL reads them from the process environment, but
                # from the provider's environment (the one the agent was given).
                context.load_verify_locations(cafile=tls.system_file, capath=tls.system_dir)
            else:
                context.load_default_certs()  # the system trust store
            if tls.client is not None:
                context.load_cert_chain(tls.client.cert_file, tls.client.key_file)
            self._loaded = True


class _WatchedHTTPConnection(HTTPConnection):
    """Registers its socket with the calling thread's deadline watch."""

    def connect(self) -> None:
        super().connect()
        self._watch()

    def request(self, *args: Any, **kwargs: Any) -> None:
        self._watch()  # a kept-alive connection: no connect() this time
        super().request(*args, **kwargs)

    def _watch(self) -> None:
        watch = deadline.current()
        if watch is not None and self.sock is not None:
            watch.add(self.sock)


# The watch comes first in the MRO: its connect() wraps the TLS one.
class _WatchedHTTPSConnection(_WatchedHTTPConnection, HTTPSConnection):
    def connect(self) -> None:
        if self.ssl_context is not None:
            ensure_trust(self.ssl_context)
        super().connect()


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_POOL_CLASSES = {"http": _HTTPPool, "https": _HTTPSPool}

#: An absolute http(s) URL of printable ASCII, without spaces, already
#: percent-encoded (``%`` followed by two hex digits only).
_PLAIN_URL = re.compile(r"https?://[\x21-\x24\x26-\x7e]+(?:%[0-9A-Fa-f]{2}[\x21-\x24\x26-\x7e]*)*")


class VaultAdapter(HTTPAdapter):
    """requests' adapter with our TLS context, retries and watched connections."""

    def __init__(self, context: ssl.SSLContext, verify: bool) -> None:
        self._context = context
        self._verify = verify
        super().__init__(pool_connections=4, pool_maxsize=POOL_SIZE, max_retries=build_retry())

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self._context
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOL_CLASSES

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        if proxy not in self.proxy_manager:
            kwargs["ssl_context"] = self._context
            manager = super().proxy_manager_for(proxy, **kwargs)
            if not proxy.lower().startswith("socks"):
                manager.pool_classes_by_scheme = _POOL_CLASSES
            return manager
        return super().proxy_manager_for(proxy, **kwargs)

    def get_connection_with_tls_context(
        self,
        request: requests.PreparedRequest,
        verify: Any,
        proxies: Mapping[str, str] | None = None,
        cert: Any = None,
    ) -> Any:
        if proxies:
            return super().get_connection_with_tls_context(request, verify, proxies, cert)
        # requests' own no-proxy branch, without select_proxy's parsing of
        # the URL (twice per request) to find no proxy in an empty mapping.
        try:
            host_params, pool_kwargs = self.build_connection_pool_key_attributes(
                request, verify, cert
            )
        except ValueError as error:
            raise requests.exceptions.InvalidURL(error, request=request) from None
        return self.poolmanager.connection_from_host(**host_params, pool_kwargs=pool_kwargs)

    def request_url(
        self, request: requests.PreparedRequest, proxies: Mapping[str, str] | None
    ) -> str:
        if proxies:
            return str(super().request_url(request, proxies))
        return request.path_url  # requests' answer when no proxy applies

    def build_response(self, req: requests.PreparedRequest, resp: Any) -> requests.Response:
        # requests' own, without the cookie jar (Vault sets no cookies, and
        # parsing them costs on every answer) and without copying the
        # headers: urllib3's HTTPHeaderDict is case-insensitive already and
        # joins repeated fields as requests' copy would.
        response = requests.Response()
        response.status_code = resp.status
        response.headers = resp.headers
        response.encoding = get_encoding_from_headers(response.headers)
        response.raw = resp
        response.reason = resp.reason
        response.url = req.url or ""
        response.request = req
        response.connection = self
        return response

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        # Our context decides what is trusted: requests would add certifi's
        # bundle (ca_certs) to it for verify=True.
        conn.cert_reqs = "CERT_REQUIRED" if self._verify else "CERT_NONE"
        conn.ca_certs = None
        conn.ca_cert_dir = None


class VaultSession(requests.Session):
    """A session whose redirects and proxies follow Vault's client.

    hvac calls :meth:`request`; everything goes through :meth:`send`. Both
    are leaner than requests' own: no cookie jar, no auth or netrc, no
    hooks, no merging of per-request TLS settings (the adapter's context
    decides), which halves the CPU a request costs in requests.
    """

    def __init__(self, config: VaultConfig, context: ssl.SSLContext) -> None:
        super().__init__()
        # Nothing from os.environ: no REQUESTS_CA_BUNDLE, no ~/.netrc, no
        # proxy variables (they come from the provider's environment).
        self.trust_env = False
        self.verify = config.verify
        self.follow_redirects = not config.disable_redirects
        self._proxy_environ: Mapping[str, str] = config.proxy_environ
        # No proxy variable at all (the usual case): no per-request lookup.
        self._may_proxy = any(key != "no_proxy" for key in config.proxy_environ)
        self._adapter = VaultAdapter(context, config.verify)
        self.mount("http://", self._adapter)
        self.mount("https://", self._adapter)
        # requests' default headers, checked once: this session is ours
        # alone and nobody changes them.
        base = requests.PreparedRequest()
        base.prepare_headers(self.headers)
        self._base_headers: CaseInsensitiveDict[str] = base.headers
        self._timeouts: dict[tuple[float, float], Timeout] = {}

    def proxies_for(self, url: str) -> dict[str, str]:
        if not self._may_proxy:
            return {}
        proxy = proxy_for(url, self._proxy_environ)
        if proxy is None:
            return {}
        return {urllib.parse.urlsplit(url).scheme.lower(): proxy}

    def request(  # type: ignore[override]  # noqa: PLR0917 (requests' signature)
        self,
        method: str,
        url: str,
        params: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: Any = None,
        json: Any = None,
        **_ignored: Any,  # verify, cert, proxies, allow_redirects: ours decide
    ) -> requests.Response:
        prepared = requests.PreparedRequest()
        prepared.prepare_method(method)
        if not params and url.isascii() and _PLAIN_URL.fullmatch(url):
            # hvac percent-encodes the path already: requests' parsing,
            # IDNA and requoting would give this URL back, at ~15% of a
            # request's CPU.
            prepared.url = url
        else:
            prepared.prepare_url(url, params)
        prepared.headers = self._headers_for(headers)
        prepared.prepare_body(data, None, json)
        if isinstance(timeout, tuple):
            timeout = self._timeout(timeout)
        return self.send(prepared, timeout=timeout)

    def _timeout(self, pair: tuple[float, float]) -> Timeout:
        """hvac's (connect, read) pair as the urllib3 Timeout requests would
        make of it on every request; one per pair."""
        made = self._timeouts.get(pair)
        if made is None:
            made = self._timeouts[pair] = Timeout(connect=pair[0], read=pair[1])
        return made

    def _headers_for(self, extra: Mapping[str, str] | None) -> CaseInsensitiveDict[str]:
        """What requests' ``prepare_headers`` makes of the session's headers
        and *extra* (hvac's): only *extra* is checked on each request."""
        headers = self._base_headers.copy()
        for header in (extra or {}).items():
            check_header_validity(header)
            headers[header[0]] = header[1]
        return headers

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        timeout = kwargs.get("timeout")
        response = self._send_once(request, timeout)
        if response.status_code not in REDIRECT_STATUSES or "location" not in response.headers:
            return response
        assert request.url is not None
        target = urllib.parse.urljoin(request.url, response.headers["location"])
        status = response.status_code
        if not self.follow_redirects:
            return response  # the client reports it, naming VAULT_DISABLE_REDIRECTS
        if request.url.lower().startswith("https:") and not target.lower().startswith("https:"):
            raise RedirectRefused(
                f"redirect refused (HTTP {status} to {origin(target)}): it would downgrade "
                "https to another scheme"
            )
        # As Vault's client: the same request (method, body, token) to the
        # new location, once.
        again = request.copy()
        again.url = target
        second = self._send_once(again, timeout)
        second.history = [response]
        return second

    def _send_once(self, request: requests.PreparedRequest, timeout: Any) -> requests.Response:
        assert request.url is not None
        response = self._adapter.send(
            request,
            stream=False,
            timeout=timeout,
            verify=bool(self.verify),
            cert=None,
            proxies=self.proxies_for(request.url),
        )
        response.content  # noqa: B018 (read whole: the connection goes back to the pool)
        return response


def origin(url: str) -> str:
    """``scheme://host:port`` of *url*, for messages (no path, no credentials)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"
