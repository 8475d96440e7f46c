"""Why a Vault call failed, in plain words: hvac's typed exceptions and requests' transport errors,
plus Vault's own ``errors`` text (bounded, credentials hidden). Never a request, token or value."""

from __future__ import annotations

import http.client
import re
from collections.abc import Iterable

import hvac.exceptions as vault
import requests
from urllib3.exceptions import ProtocolError

from envsecrets_vault.session import ATTEMPTS

TLS = "TLS failure: "
CA_UNREADABLE = TLS + "the CA certificates of VAULT_CACERT or VAULT_CAPATH cannot be loaded"
CLIENT_CERT_UNREADABLE = TLS + "the client certificate (VAULT_CLIENT_CERT/KEY) cannot be loaded"
#: Most characters of Vault's own error text kept in a message.
ERRORS_LIMIT = 200

#: hvac's exception for each status (``VaultError.from_status``) in words, and whether a GET or
#: LIST was retried for it.
_FORBIDDEN = (
    "permission denied (HTTP 403): the token's policies do not allow this path, or the token "
    "expired or was revoked"
)
_STATUS_REASONS: dict[type[vault.VaultError], tuple[str, bool]] = {
    vault.InvalidRequest: ("bad request (HTTP 400)", False),
    vault.Unauthorized: ("unauthorized (HTTP 401)", False),
    vault.Forbidden: (_FORBIDDEN, False),
    vault.InvalidPath: ("not found (HTTP 404)", False),
    vault.RateLimitExceeded: ("rate limited (HTTP 429)", True),
    vault.InternalServerError: ("internal server error (HTTP 500)", True),
    vault.VaultNotInitialized: ("Vault is not initialized (HTTP 501)", False),
    vault.BadGateway: ("bad gateway (HTTP 502)", True),
    vault.VaultDown: ("Vault is sealed or unavailable (HTTP 503)", True),
}
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f]+")
_MULTIERROR = re.compile(r"^\d+ errors? occurred:(?=\n)")


def answer_reason(error: vault.VaultError, hide: Iterable[str], own: str, *, retried: bool) -> str:
    """The status of an error answer in words, plus Vault's own text (*own*: the role's path).
    *retried*: the request was a GET or LIST (its retries were spent)."""
    if isinstance(error, vault.InvalidRequest) and "to an HTTPS server" in str(error.text):
        return (
            "the server speaks HTTPS: the address uses http:// (HTTP 400: client sent an "
            "HTTP request to an HTTPS server)"
        )
    reason, retries = _STATUS_REASONS.get(type(error), ("unexpected answer", False))
    reason += f", {ATTEMPTS} attempts" if retries and retried else ""
    said = vault_errors(error.errors, hide, own)
    return f"{reason} [Vault: {said}]" if said else reason


def vault_errors(errors: object, hide: Iterable[str] = (), own: str = "") -> str:
    """Vault's ``errors`` list, joined and bounded, *hide* blanked out but in the role's *own* path
    (blanking there would tell a role which candidate it wrote is a credential); ``""`` if none."""
    if not isinstance(errors, list):
        return ""
    parts = []
    for item in errors:
        # Go's multierror: "1 error occurred:\n\t* permission denied\n\n".
        text = _MULTIERROR.sub("", str(item))
        parts += [part.strip().removeprefix("* ") for part in text.split("\n\t* ")]
    joined = "; ".join(part for part in parts if part)
    pieces = joined.split(own) if own else [joined]  # a path holds "/", no credential does
    for secret in hide:
        pieces = [piece.replace(secret, "[hidden]") for piece in pieces]
    joined = own.join(pieces)
    joined = _UNPRINTABLE.sub(" ", joined).strip()
    return joined[: ERRORS_LIMIT - 3] + "..." if len(joined) > ERRORS_LIMIT else joined


def transport_reason(error: BaseException, timeout: float, *, retried: bool) -> str:  # noqa: PLR0911
    """Say why a request failed without quoting the request (no token, no body)."""
    text = str(error)
    if isinstance(error, requests.exceptions.SSLError):
        if "Hostname mismatch" in text or "IP address mismatch" in text:
            return TLS + "the server's certificate does not name its host in a subject " \
                "alternative name (SAN)"  # fmt: skip
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
            return TLS + "certificate verify failed (set VAULT_CACERT to the CA that " \
                "signed the server's certificate)"  # fmt: skip
        return TLS + "the TLS handshake failed"
    if isinstance(error, requests.exceptions.Timeout):
        return f"timed out after {timeout:g}s (VAULT_HTTP_REQ_TIMEOUT)"
    if isinstance(error, requests.exceptions.ChunkedEncodingError):
        cut = "the connection was cut before the whole answer arrived"
        return f"{cut} ({ATTEMPTS} attempts)" if retried else cut
    if isinstance(error, requests.TooManyRedirects):
        return text  # the session's words (see follow_one_redirect)
    if isinstance(error, requests.exceptions.InvalidHeader):
        return "the request cannot be sent: a header (token or namespace) is not valid"
    if isinstance(error, requests.ConnectionError):
        cause = error.args[0] if error.args else None
        inner = cause.args[-1] if isinstance(cause, ProtocolError) else None
        # An answer that does not parse as HTTP (not a connection closed early).
        if isinstance(inner, http.client.HTTPException) and not isinstance(inner, OSError):
            return "the answer is not well-formed HTTP"
        return f"unreachable: the connection failed ({ATTEMPTS} attempts)"
    return f"the request failed ({type(error).__name__})"
