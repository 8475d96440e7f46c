"""The ``requests.Session`` under hvac, set up once per configuration to behave like Vault's own
client: our TLS context (never certifi), the proxy chosen once (``trust_env`` off), one redirect
at most, retries within the total bound of ``VAULT_HTTP_REQ_TIMEOUT``. hvac, when given a session,
ignores its own ``verify``, ``cert`` and ``proxies`` arguments (hvac/adapters.py): the session
carries them. Imported on the first fetch only (it imports requests and urllib3).
"""

from __future__ import annotations

import functools
import io
import os
import ssl
import time
import urllib.parse
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import HTTPError, MaxRetryError, ReadTimeoutError
from urllib3.util import Retry, Timeout

from envsecrets.resolver import DEFAULT_MAX_WORKERS
from envsecrets_vault.config import TLSSettings, VaultConfig
from envsecrets_vault.proxies import proxy_for

#: Attempts of a GET or LIST whose failure may pass (the reasons say so).
ATTEMPTS = 4
#: Statuses worth another try: throttled, or a server error that may pass.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: Redirects Vault's client follows (one of them, at most).
REDIRECT_STATUSES = frozenset({301, 302, 307, 308})

#: The one retry policy. GET and LIST: a failed connection, a connection dropped or cut before the
#: whole answer, 429 and 5xx, with backoff (0, 0.4, 0.8 s). POST (the login): a failed connection
#: only (nothing was sent), never a replay of a login the server may have acted on. No Retry-After:
#: an hour's would stall the agent; the budget rules.
# fmt: off
RETRY = Retry(
    total=ATTEMPTS - 1, connect=ATTEMPTS - 1, read=ATTEMPTS - 1, status=ATTEMPTS - 1,
    other=0, redirect=False, allowed_methods=frozenset({"GET", "LIST"}),
    status_forcelist=RETRY_STATUSES, backoff_factor=0.2, backoff_max=2.0,
    respect_retry_after_header=False,
)
# fmt: on


@functools.lru_cache(maxsize=8)
def tls_context(tls: TLSSettings) -> ssl.SSLContext:
    """The TLS context for *tls*, made once per process and settings (the system store alone costs
    ~30 ms of CPU to load). :raise OSError: for a CA or client certificate that cannot be loaded."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.hostname_checks_common_name = False  # SAN only, as Go
    if not tls.verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif tls.ca is not None and tls.ca.directory:  # every file (any name), as Vault's client
        for folder, _, names in sorted(os.walk(tls.ca.directory)):
            for name in sorted(names):
                context.load_verify_locations(os.path.join(folder, name))
    elif tls.ca is not None:
        context.load_verify_locations(tls.ca.path, None, tls.ca.pem)
    elif tls.system_file or tls.system_dir:
        # As OpenSSL reads them, but from the agent's environment.
        context.load_verify_locations(tls.system_file, tls.system_dir)
    else:
        context.load_default_certs()
    if tls.client is not None:
        context.load_cert_chain(tls.client.cert_file, tls.client.key_file)
    return context


class VaultAdapter(HTTPAdapter):
    """requests' adapter with our TLS context, our retries and a total bound per call."""

    def __init__(self, context: ssl.SSLContext | None, budget: float) -> None:
        self.context, self.budget = context, budget
        # requests' own retries stay off (max_retries=0): send() applies RETRY.
        super().__init__(pool_maxsize=DEFAULT_MAX_WORKERS)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        if self.context is not None:
            kwargs["ssl_context"] = self.context
        super().init_poolmanager(*args, **kwargs)

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        if self.context is not None:
            kwargs["ssl_context"] = self.context
        return super().proxy_manager_for(proxy, **kwargs)

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        # Our context holds the trust anchors: requests would load certifi's bundle into it.
        if self.context is None:
            super().cert_verify(conn, url, verify, cert)  # type: ignore[no-untyped-call]

    def send(  # noqa: PLR0917 (requests' signature)
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        """Send *request* under :data:`RETRY`, every attempt within one budget.

        ``VAULT_HTTP_REQ_TIMEOUT`` bounds the whole call, as Go's ``http.Client.Timeout``: each
        attempt gets ``Timeout(total=)`` of what is left (connect and head), the body is read with
        the socket timeout set to what is left before each read (a trickling server cannot stretch
        the call), and a timeout ends the call. The retries run here, not in urllib3: urllib3 gives
        each retry a fresh timeout and counts a read timeout as a dropped connection (it would send
        a timed-out GET again). hvac's *timeout* gives way to the budget.
        """
        deadline = time.monotonic() + self.budget
        method, url, retry = (request.method or "GET").upper(), request.url or "", RETRY
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise requests.exceptions.Timeout(request=request)
            response: requests.Response | None = None
            failure: requests.RequestException | None = None
            try:
                # requests hands a urllib3 Timeout over as it is.
                response = super().send(request, True, Timeout(total=left), verify, None, proxies)  # type: ignore[arg-type]
                if not retry.is_retry(method, response.status_code):
                    return _read_whole(response, deadline)
            except (requests.exceptions.Timeout, requests.exceptions.SSLError):
                raise  # the budget is spent, or another try cannot help
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as error:
                failure, response = error, None
            try:
                retry = retry.increment(
                    method, url, response=response.raw if response else None, error=_cause(failure)
                )
            except HTTPError:  # attempts exhausted, or a POST that may have been acted on
                if failure is not None:
                    raise failure from None
                assert response is not None
                return _read_whole(response, deadline)
            if response is not None:
                response.close()
            time.sleep(max(0.0, min(retry.get_backoff_time(), deadline - time.monotonic())))


def _cause(failure: BaseException | None) -> Exception | None:
    """The urllib3 error inside a requests one, for :meth:`Retry.increment`."""
    cause = failure.args[0] if failure and failure.args else failure
    if isinstance(cause, MaxRetryError):
        cause = cause.reason
    return cause if isinstance(cause, Exception) else None


def _read_whole(response: requests.Response, deadline: float) -> requests.Response:
    """Read the body of *response* before *deadline*, into ``response.raw``."""
    raw = response.raw
    sock = getattr(raw.connection, "sock", None)
    chunks: list[bytes] = []
    try:
        # Until the answer is whole: then urllib3 has handed the socket back to the pool.
        while (left := deadline - time.monotonic()) > 0:
            if sock is not None and not raw.closed:
                sock.settimeout(left)
            if raw.closed or not (chunk := raw.read1(65536, decode_content=True)):
                response.raw = io.BytesIO(b"".join(chunks))  # what .content reads
                return response
            chunks.append(chunk)
        failure: requests.RequestException = requests.exceptions.ReadTimeout()
    except ReadTimeoutError as error:
        failure = requests.exceptions.ReadTimeout(error)
    except (HTTPError, OSError) as error:  # cut short, reset
        failure = requests.exceptions.ChunkedEncodingError(error)
    raw.close()  # never back to the pool with half an answer in it
    failure.request = response.request
    raise failure


def follow_one_redirect(
    response: requests.Response, *, disabled: bool, **kwargs: Any
) -> requests.Response:
    """A response hook: as Vault's client, re-send the same request (method, body, token) to the
    new location, once, never from https to another scheme; none with ``VAULT_DISABLE_REDIRECTS``.

    :raise requests.TooManyRedirects: saying why a redirect is not followed.
    """
    target = _redirect_target(response)
    if target is None:
        return response
    if disabled:
        raise _refused(response, target, "redirect not followed", "VAULT_DISABLE_REDIRECTS is set")
    source = response.request.url or ""
    if source.lower().startswith("https:") and not target.lower().startswith("https:"):
        raise _refused(
            response, target, "redirect refused", "it would downgrade https to another scheme"
        )
    again = response.request.copy()
    again.url = target
    adapter: HTTPAdapter = response.connection
    second = adapter.send(again, **kwargs)  # not through the session: no second hook
    second.history = [response]
    if (next_target := _redirect_target(second)) is not None:
        raise _refused(
            second, next_target, "redirected more than once", "Vault's client follows one redirect"
        )
    return second


def _redirect_target(response: requests.Response) -> str | None:
    location = response.headers.get("location")
    if response.status_code not in REDIRECT_STATUSES or not location:
        return None
    return urllib.parse.urljoin(response.request.url or "", location)


def _refused(
    response: requests.Response, target: str, what: str, why: str
) -> requests.TooManyRedirects:
    parts = urllib.parse.urlsplit(target)  # the origin only: no path, no credentials
    host = f"[{parts.hostname}]" if ":" in (parts.hostname or "") else parts.hostname
    origin = f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}"
    response.close()
    return requests.TooManyRedirects(f"{what} (HTTP {response.status_code} to {origin}): {why}")


def make_session(config: VaultConfig) -> requests.Session:
    """The session for *config*: TLS, proxies, retries, redirects decided once."""
    https = config.address.lower().startswith("https:")
    # An http:// server never pays for the trust store (urllib3's defaults serve https redirects).
    context = tls_context(config.tls) if https or config.tls.client else None
    session = requests.Session()
    session.trust_env = False  # no proxy, CA bundle or ~/.netrc from os.environ
    session.verify = config.verify
    proxy = proxy_for(config.address, config.proxy_environ)
    if proxy is not None:
        session.proxies = {urllib.parse.urlsplit(config.address).scheme.lower(): proxy}
    adapter = VaultAdapter(context, config.timeout)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    hook = functools.partial(follow_one_redirect, disabled=config.disable_redirects)
    session.hooks["response"].append(hook)
    return session
