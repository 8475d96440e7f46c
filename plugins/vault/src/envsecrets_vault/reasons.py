"""Why a Vault call failed, in plain words, never quoting a request, a token
or a value: transport failures, statuses, and Vault's own ``errors`` text.

Imported on the first fetch only (it imports requests).
"""

from __future__ import annotations

import http.client
import json
import re
from collections.abc import Iterable

import requests
import urllib3.exceptions

from envsecrets_vault.session import RETRIES, RETRY_STATUSES, RedirectRefused

VERIFY_FAILED = (
    "TLS failure: certificate verify failed (set VAULT_CACERT to the CA "
    "that signed the server's certificate)"
)
HOSTNAME_MISMATCH = (
    "TLS failure: the server's certificate does not name its host in a "
    "subject alternative name (SAN)"
)
HANDSHAKE_FAILED = "TLS failure: the TLS handshake failed"
CA_UNREADABLE = "TLS failure: the CA bundle from VAULT_CACERT cannot be loaded"
CLIENT_CERT_UNREADABLE = (
    "TLS failure: the client certificate from VAULT_CLIENT_CERT/VAULT_CLIENT_KEY cannot be loaded"
)
CUT_SHORT = "the connection was cut before the whole answer arrived"
UNREACHABLE = f"unreachable: the connection failed ({RETRIES + 1} attempts)"
NOT_HTTP = "the answer is not well-formed HTTP"
PLAIN_TO_TLS = (
    "the server speaks HTTPS: the address uses http:// (HTTP 400: client sent an "
    "HTTP request to an HTTPS server)"
)

#: Most characters of Vault's own error text kept in a message.
ERRORS_LIMIT = 200

_STATUS_REASONS = {
    400: "bad request (HTTP 400)",
    401: "unauthorized (HTTP 401)",
    403: "permission denied (HTTP 403): the token's policies do not allow this path, "
    "or the token expired or was revoked",
    405: "method not allowed (HTTP 405): is the path on a KV mount?",
    412: "precondition failed (HTTP 412): a standby has not caught up yet",
    429: "rate limited (HTTP 429)",
    500: "internal server error (HTTP 500)",
    502: "bad gateway (HTTP 502)",
    503: "Vault is sealed or unavailable (HTTP 503)",
    504: "gateway timeout (HTTP 504)",
}

_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f]+")
_MULTIERROR = re.compile(r"^\d+ errors? occurred:(?=\n)")


def timed_out(timeout: float) -> str:
    return f"timed out after {timeout:g}s (VAULT_HTTP_REQ_TIMEOUT)"


def status_reason(status: int, *, retried: bool = True) -> str:
    if status in _STATUS_REASONS:
        reason = _STATUS_REASONS[status]
    elif status >= 500:
        reason = f"server error (HTTP {status})"
    else:
        reason = f"unexpected answer (HTTP {status})"
    if retried and status in RETRY_STATUSES:
        reason += f", {RETRIES + 1} attempts"
    return reason


def vault_errors(text: str, hide: Iterable[str] = ()) -> str:
    """Vault's ``errors`` list in a JSON answer, joined and bounded; ``""`` if none.

    *hide*: credentials to blank out should the server echo one.
    """
    try:
        body = json.loads(text)
    except ValueError:
        return ""
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return ""
    parts = []
    for item in errors:
        # Go's multierror: "1 error occurred:\n\t* permission denied\n\n".
        text = _MULTIERROR.sub("", str(item))
        parts += [part.strip() for part in text.split("\n\t* ") if part.strip()]
    joined = "; ".join(part.removeprefix("* ") for part in parts)
    for secret in hide:
        if secret:
            joined = joined.replace(secret, "[hidden]")
    joined = _UNPRINTABLE.sub(" ", joined).strip()
    if len(joined) > ERRORS_LIMIT:
        joined = joined[: ERRORS_LIMIT - 3] + "..."
    return joined


def answer_reason(status: int, text: str, hide: Iterable[str] = (), *, retried: bool = True) -> str:
    """The reason for a non-2xx answer: the status in words, plus Vault's own text."""
    if status == 400 and "HTTP request to an HTTPS server" in text:
        return PLAIN_TO_TLS
    reason = status_reason(status, retried=retried)
    said = vault_errors(text, hide)
    return f"{reason} [Vault: {said}]" if said else reason


def _not_http(error: urllib3.exceptions.ProtocolError) -> bool:
    """An answer that does not parse as HTTP (not a connection closed early)."""
    inner = error.args[1] if len(error.args) > 1 else None
    return isinstance(inner, http.client.HTTPException) and not isinstance(inner, ConnectionError)


def transport_reason(error: BaseException, timeout: float) -> str:  # noqa: PLR0911
    """Say why a request failed without quoting the request (no token, no body)."""
    if isinstance(error, RedirectRefused):
        return str(error)
    text = str(error)
    if isinstance(error, requests.exceptions.SSLError):
        if "Hostname mismatch" in text or "IP address mismatch" in text:
            return HOSTNAME_MISMATCH
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
            return VERIFY_FAILED
        return HANDSHAKE_FAILED
    cause = getattr(error.args[0], "reason", None) if error.args else None
    refused = isinstance(cause, urllib3.exceptions.NewConnectionError)  # a TimeoutError too
    timeout_error = isinstance(error, requests.exceptions.Timeout) or isinstance(
        cause, urllib3.exceptions.TimeoutError
    )
    if timeout_error and not refused:
        return timed_out(timeout)
    if isinstance(error, requests.exceptions.ChunkedEncodingError):
        return CUT_SHORT
    if isinstance(error, requests.exceptions.InvalidHeader):
        return "the request cannot be sent: a header (token or namespace) is not valid"
    if isinstance(error, requests.exceptions.ConnectionError):
        if isinstance(cause, urllib3.exceptions.ProtocolError) and _not_http(cause):
            return NOT_HTTP
        return UNREACHABLE
    if isinstance(error, OSError) and ("CA" in text or "PEM" in text):
        return CA_UNREADABLE
    return f"the request failed ({type(error).__name__})"
