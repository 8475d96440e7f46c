"""The HTTP layer under hvac: a requests session with bounded retries, and
plain-words reasons for transport failures.

Imported on the first fetch only: it pulls in requests and urllib3.
"""

from __future__ import annotations

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

#: Attempts after the first one, for connection errors and retryable statuses.
RETRIES = 3
#: Sleep between attempts grows as BACKOFF * 2**n seconds (0.2, 0.4, 0.8).
BACKOFF = 0.2
#: Statuses worth another try: throttled, or a server error that may pass.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: Connections kept open to the server (the core runs 32 fetches at once).
POOL_SIZE = 32


def build_session(verify: bool | str, proxy: str | None = None) -> requests.Session:
    """A session that retries GETs on connection errors, 429 and 5xx, with backoff.

    POSTs (the AppRole login) are retried on connection errors only: urllib3
    retries a failed connect whatever the method (nothing was sent), but
    never replays a POST the server may have acted on (a secret ID with
    limited uses would be spent). A GET that failed while reading the
    answer (a pooled connection the server closed, a read timeout) is
    retried once.
    """
    retry = Retry(
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
    session = requests.Session()
    # Nothing from os.environ (the agent's environment is the provider's
    # own): no proxy variables, no REQUESTS_CA_BUNDLE, no ~/.netrc. It also
    # spares requests two scans of os.environ per request.
    session.trust_env = False
    if proxy:
        session.proxies = {"http": proxy, "https": proxy}
    # As many pooled connections as the core runs fetches at once by default.
    adapter = HTTPAdapter(max_retries=retry, pool_maxsize=POOL_SIZE)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.verify = verify
    return session


def reason(error: Exception, timeout: float) -> str:  # noqa: PLR0911 (one per failure family)
    """Say why a request failed without quoting the request (no token, no body)."""
    text = str(error)
    cause = getattr(error.args[0], "reason", None) if error.args else None
    refused = isinstance(cause, urllib3.exceptions.NewConnectionError)  # a TimeoutError too
    if isinstance(error, requests.exceptions.SSLError):
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
            return (
                "TLS failure: certificate verify failed (set VAULT_CACERT to the CA "
                "that signed the server's certificate)"
            )
        return "TLS failure: the TLS handshake failed"
    timed_out = isinstance(error, requests.exceptions.Timeout) or isinstance(
        cause, urllib3.exceptions.TimeoutError
    )
    if timed_out and not refused:
        return f"timed out after {timeout:g}s (VAULT_HTTP_REQ_TIMEOUT)"
    if isinstance(error, requests.exceptions.ChunkedEncodingError):
        return "the connection was cut before the whole answer arrived"
    if isinstance(error, requests.exceptions.ConnectionError):
        return f"unreachable: the connection failed ({RETRIES + 1} attempts)"
    if isinstance(error, OSError) and "CA certificate" in text:
        # requests checks the bundle path before connecting.
        return "TLS failure: the CA bundle from VAULT_CACERT cannot be loaded"
    return f"the request failed ({type(error).__name__})"
