"""The HTTP layer: a requests session with bounded retries (under hvac, for
the login), a urllib3 pool with the same retries (for reads), and
plain-words reasons for transport failures.

Imported on the first fetch only: it pulls in requests and urllib3.
"""

from __future__ import annotations

import functools
import os
import ssl
import urllib.parse
from typing import Any

import requests
import urllib3
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from envsecrets_vault import http11

#: Attempts after the first one, for connection errors and retryable statuses.
RETRIES = 3
#: Sleep before retry n is BACKOFF * 2**(n-1) seconds after the first, as
#: urllib3 does: 0, 0.4, 0.8.
BACKOFF = 0.2
#: Statuses worth another try: throttled, or a server error that may pass.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: Connections kept open to the server (the core runs 64 fetches at once).
POOL_SIZE = 64


# Why a request failed, in the same words whichever HTTP layer sent it.
VERIFY_FAILED = (
    "TLS failure: certificate verify failed (set VAULT_CACERT to the CA "
    "that signed the server's certificate)"
)
HANDSHAKE_FAILED = "TLS failure: the TLS handshake failed"
CA_UNREADABLE = "TLS failure: the CA bundle from VAULT_CACERT cannot be loaded"
CUT_SHORT = "the connection was cut before the whole answer arrived"
UNREACHABLE = f"unreachable: the connection failed ({RETRIES + 1} attempts)"


def timed_out(timeout: float) -> str:
    return f"timed out after {timeout:g}s (VAULT_HTTP_REQ_TIMEOUT)"


def build_session(verify: bool | str, proxy: str | None = None) -> requests.Session:
    """A session that retries GETs on connection errors, 429 and 5xx, with backoff.

    POSTs (the AppRole login) are retried on connection errors only: urllib3
    retries a failed connect whatever the method (nothing was sent), but
    never replays a POST the server may have acted on (a secret ID with
    limited uses would be spent). A GET that failed while reading the
    answer (a pooled connection the server closed, a read timeout) is
    retried once.
    """
    session = requests.Session()
    # Nothing from os.environ (the agent's environment is the provider's
    # own): no proxy variables, no REQUESTS_CA_BUNDLE, no ~/.netrc. It also
    # spares requests two scans of os.environ per request.
    session.trust_env = False
    if proxy:
        session.proxies = {"http": proxy, "https": proxy}
    # As many pooled connections as the core runs fetches at once by default.
    adapter = HTTPAdapter(max_retries=build_retry(), pool_maxsize=POOL_SIZE)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.verify = verify
    return session


def build_retry() -> Retry:
    """The retry policy of both the session and the read pool (see build_session)."""
    return Retry(
        total=RETRIES,
        connect=RETRIES,
        read=1,  # a GET whose connection dropped (or timed out) gets one more try
        status=RETRIES,
        other=0,
        allowed_methods=frozenset({"GET", "HEAD"}),
        status_forcelist=RETRY_STATUSES,
        backoff_factor=BACKOFF,
        backoff_max=2.0,
        # A Retry-After of an hour must not stall the agent: our own backoff
        # is bounded, and the core's deadline bounds the whole.
        respect_retry_after_header=False,
        raise_on_status=False,  # hand back the last answer; we explain it
    )


def build_pool(
    verify: bool | str, proxy: str | None, headers: dict[str, str], *, tls: bool = True
) -> Any:
    """A urllib3 pool manager with the TLS, proxy and pool settings of build_session.

    What requests does per request under the session, done once: the same
    CA bundle (certifi's when *verify* is true, the file or directory when
    it is a path), the same proxy (with its credentials as
    Proxy-Authorization), as many connections. Retries and timeouts are
    given per request. *tls* is false for an ``http://`` server: no TLS
    context to build then (loading certifi's bundle costs ~45 ms of CPU).

    :return: ``None`` for a SOCKS proxy (reads keep going through requests).
    """
    kwargs: dict[str, Any] = {"maxsize": POOL_SIZE, "headers": headers}
    if verify is False:
        kwargs["cert_reqs"] = "CERT_NONE"
    elif verify is True:
        kwargs["cert_reqs"] = "CERT_REQUIRED"
        if tls:
            kwargs["ssl_context"] = _certifi_context()
        else:  # only read should a redirect lead to https
            import certifi

            kwargs["ca_certs"] = certifi.where()
    else:
        kwargs["cert_reqs"] = "CERT_REQUIRED"
        kwargs["ca_cert_dir" if os.path.isdir(verify) else "ca_certs"] = verify
    if not proxy:
        return urllib3.PoolManager(**kwargs)
    if proxy.lower().startswith("socks"):
        return None
    if "://" not in proxy:
        proxy = "http://" + proxy
    parts = urllib.parse.urlsplit(proxy)
    proxy_headers = None
    if parts.username:
        user = urllib.parse.unquote(parts.username)
        password = urllib.parse.unquote(parts.password or "")
        proxy_headers = urllib3.make_headers(proxy_basic_auth=f"{user}:{password}")
    return urllib3.ProxyManager(proxy, proxy_headers=proxy_headers, **kwargs)


@functools.cache
def _certifi_context() -> Any:
    """certifi's CA bundle in a TLS context, loaded once per process and shared
    (an SSLContext is thread-safe once set up)."""
    import certifi
    from urllib3.util.ssl_ import create_urllib3_context

    context = create_urllib3_context()
    context.load_verify_locations(certifi.where())
    return context


def tls_context(verify: bool | str) -> ssl.SSLContext:
    """The TLS context of the direct read pool, checking what requests checks.

    *verify*: true for certifi's bundle (loaded once per process), a CA file
    or directory, or false for no verification at all (VAULT_SKIP_VERIFY).

    :raise OSError: when the CA file cannot be read or holds no certificate.
    """
    if verify is True:
        return _certifi_default_context()
    if verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if os.path.isdir(verify):
        return ssl.create_default_context(capath=verify)
    return ssl.create_default_context(cafile=verify)


@functools.cache
def _certifi_default_context() -> ssl.SSLContext:
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def timeout_for(seconds: float) -> urllib3.Timeout:
    """Connect and read timeouts of *seconds* each, as requests makes of one number."""
    return urllib3.Timeout(connect=seconds, read=seconds)


def reason(error: Exception, timeout: float) -> str:  # noqa: PLR0911 (one per failure family)
    """Say why a request failed without quoting the request (no token, no body).

    *error* comes from requests (the login) or from urllib3 (reads).
    """
    if isinstance(error, urllib3.exceptions.HTTPError):
        return _urllib3_reason(error, timeout)
    text = str(error)
    cause = getattr(error.args[0], "reason", None) if error.args else None
    refused = isinstance(cause, urllib3.exceptions.NewConnectionError)  # a TimeoutError too
    if isinstance(error, requests.exceptions.SSLError):
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
            return VERIFY_FAILED
        return HANDSHAKE_FAILED
    timeout_error = isinstance(error, requests.exceptions.Timeout) or isinstance(
        cause, urllib3.exceptions.TimeoutError
    )
    if timeout_error and not refused:
        return timed_out(timeout)
    if isinstance(error, requests.exceptions.ChunkedEncodingError):
        return CUT_SHORT
    if isinstance(error, requests.exceptions.ConnectionError):
        return UNREACHABLE
    if isinstance(error, OSError) and "CA certificate" in text:
        # requests checks the bundle path before connecting.
        return CA_UNREADABLE
    return f"the request failed ({type(error).__name__})"


def direct_reason(error: http11.HTTPError, timeout: float) -> str:  # noqa: PLR0911
    """reason() for what the direct read pool raises, in the same words."""
    if isinstance(error, http11.TLSError):
        if error.verify_failed:
            return VERIFY_FAILED
        return HANDSHAKE_FAILED
    if isinstance(error, http11.Timeout):
        return timed_out(timeout)
    if isinstance(error, http11.CutShort) and not error.before_answer:
        return CUT_SHORT
    if isinstance(error, http11.BadAnswer):
        return "the answer is not well-formed HTTP"
    if isinstance(error, http11.BadRequest):
        return "the request cannot be sent: the token or VAULT_NAMESPACE is not Latin-1 text"
    return UNREACHABLE


def backoff(retry: int) -> float:
    """Seconds to sleep before retry number *retry* (1, 2, 3): as urllib3's
    Retry with BACKOFF does, no sleep before the first retry."""
    return 0.0 if retry <= 1 else min(2.0, BACKOFF * 2 ** (retry - 1))


def _urllib3_reason(error: urllib3.exceptions.HTTPError, timeout: float) -> str:  # noqa: PLR0911
    """reason() for what urllib3 raises, in the words requests' errors get."""
    exceptions = urllib3.exceptions
    cause: BaseException = error
    if isinstance(error, exceptions.MaxRetryError) and error.reason is not None:
        cause = error.reason
    if isinstance(cause, exceptions.SSLError):
        text = f"{cause} {error}"
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
            return VERIFY_FAILED
        return HANDSHAKE_FAILED
    refused = isinstance(cause, exceptions.NewConnectionError)  # a TimeoutError too
    if isinstance(cause, exceptions.TimeoutError) and not refused:
        return timed_out(timeout)
    if cause is error and isinstance(error, exceptions.ProtocolError):
        # Raised unwrapped only while reading the body: the answer was cut.
        return CUT_SHORT
    if isinstance(error, exceptions.MaxRetryError) and isinstance(cause, exceptions.ResponseError):
        return "the request failed (RetryError)"
    if isinstance(error, exceptions.MaxRetryError) or isinstance(
        cause, (exceptions.ProtocolError, exceptions.ProxyError, exceptions.NewConnectionError)
    ):
        return UNREACHABLE
    return f"the request failed ({type(error).__name__})"
