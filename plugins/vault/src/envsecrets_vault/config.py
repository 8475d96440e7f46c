"""Reading the ``VAULT_*`` settings from the agent's environment.

Pure parsing: no network and no hvac. Every error names the variable, never
its value when the value may be a credential.
"""

from __future__ import annotations

import base64
import binascii
import logging
import math
import os
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field

from envsecrets import ProviderError

log = logging.getLogger(__name__)

#: Seconds one HTTP request may take when ``VAULT_HTTP_REQ_TIMEOUT`` is unset.
DEFAULT_TIMEOUT = 10.0

_TRUE = frozenset({"1", "true", "yes", "on", "t", "y"})
_FALSE = frozenset({"", "0", "false", "no", "off", "f", "n"})
_PEM_MARK = "-----BEGIN CERTIFICATE-----"


class VaultConfigError(ProviderError):
    """A ``VAULT_*`` setting is missing or malformed."""


@dataclass(frozen=True)
class CACert:
    """Where the CA bundle comes from: an existing file, or PEM text held in memory."""

    #: A file to hand to the TLS layer as it is.
    path: str | None = None
    #: PEM text given inline or in base64; written to a private file on use.
    pem: str | None = field(default=None, repr=False)
    #: Which form ``VAULT_CACERT`` used, for messages: "file", "base64", "pem".
    form: str = "file"


@dataclass(frozen=True)
class VaultConfig:
    """Everything the provider needs to talk to one Vault server."""

    address: str
    token: str | None = field(default=None, repr=False)
    role_id: str | None = field(default=None, repr=False)
    secret_id: str | None = field(default=None, repr=False)
    namespace: str | None = None
    ca: CACert | None = None
    verify: bool = True
    timeout: float = DEFAULT_TIMEOUT
    #: The HTTP(S) proxy for VAULT_ADDR, from the agent's *_PROXY variables.
    proxy: str | None = field(default=None, repr=False)

    @property
    def uses_approle(self) -> bool:
        return self.role_id is not None

    @property
    def where(self) -> str:
        """The server for messages: address without credentials, plus namespace."""
        parts = urllib.parse.urlsplit(self.address)
        netloc = parts.netloc.rpartition("@")[2]
        shown = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))
        if self.namespace:
            return f"{shown} (namespace {self.namespace})"
        return shown


def load_config(environ: Mapping[str, str]) -> VaultConfig:
    """Build the configuration from ``VAULT_*`` variables of *environ*.

    :raise VaultConfigError: naming the variable at fault.
    """
    address = _address(environ.get("VAULT_ADDR", "").strip())
    role_id = environ.get("VAULT_APP_ROLE_ID", "").strip()
    secret_id = environ.get("VAULT_APP_ROLE_SECRET_ID", "").strip()
    if bool(role_id) != bool(secret_id):
        given, missing = (
            ("VAULT_APP_ROLE_ID", "VAULT_APP_ROLE_SECRET_ID")
            if role_id
            else ("VAULT_APP_ROLE_SECRET_ID", "VAULT_APP_ROLE_ID")
        )
        raise VaultConfigError(f"{given} is set but {missing} is not: AppRole needs both")
    token = None
    if not role_id:  # AppRole wins over VAULT_TOKEN, as in the original agent
        token = load_token(environ.get("VAULT_TOKEN", ""))
        if token is None:
            raise VaultConfigError(
                "no Vault credentials: set VAULT_TOKEN, or VAULT_APP_ROLE_ID and "
                "VAULT_APP_ROLE_SECRET_ID"
            )
    skip_verify = _boolean("VAULT_SKIP_VERIFY", environ.get("VAULT_SKIP_VERIFY", ""))
    return VaultConfig(
        address=address,
        token=token,
        role_id=role_id or None,
        secret_id=secret_id or None,
        namespace=environ.get("VAULT_NAMESPACE", "").strip().strip("/") or None,
        ca=load_ca(environ.get("VAULT_CACERT", "")),
        verify=not skip_verify,
        timeout=_timeout(environ.get("VAULT_HTTP_REQ_TIMEOUT", "")),
        proxy=proxy_for(address, environ),
    )


def proxy_for(address: str, environ: Mapping[str, str]) -> str | None:
    """The proxy the agent's environment names for *address*, honouring NO_PROXY.

    Read here, from the agent's environment, because the HTTP session is told
    not to read ``os.environ`` (it would also cost a scan of it per request).
    """
    parts = urllib.parse.urlsplit(address)
    scheme = parts.scheme.lower()
    proxy = environ.get(f"{scheme}_proxy") or environ.get(f"{scheme.upper()}_PROXY")
    if not proxy:
        return None
    host = (parts.hostname or "").lower()
    no_proxy = environ.get("no_proxy") or environ.get("NO_PROXY") or ""
    for entry in (item.strip().lower() for item in no_proxy.split(",")):
        if entry == "*":
            return None
        domain = entry.lstrip(".").partition(":")[0]
        if domain and (host == domain or host.endswith("." + domain)):
            return None
    return proxy


def _address(value: str) -> str:
    if not value:
        raise VaultConfigError("VAULT_ADDR is not set: it must name the Vault server (https://...)")
    parts = urllib.parse.urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise VaultConfigError("VAULT_ADDR must be an http:// or https:// URL with a host")
    return value.rstrip("/")


def load_token(value: str) -> str | None:
    """Return the token in ``VAULT_TOKEN``: literal, ``file://PATH`` or ``base64://B64``.

    :return: ``None`` when the variable is empty.
    :raise VaultConfigError: for an unreadable file or bad base64 (never quoting the token).
    """
    value = value.strip()
    if value.startswith("file://"):
        path = value.removeprefix("file://")
        try:
            with open(path, encoding="utf-8") as file:
                token = file.read().strip()
        except (OSError, UnicodeDecodeError) as error:
            raise VaultConfigError(
                f"VAULT_TOKEN names file {path!r}, which cannot be read ({type(error).__name__})"
            ) from None
        if not token:
            raise VaultConfigError(f"VAULT_TOKEN names file {path!r}, which is empty")
        return token
    if value.startswith("base64://"):
        decoded = _b64decode(value.removeprefix("base64://"))
        if decoded is None or not decoded.strip():
            raise VaultConfigError("VAULT_TOKEN starts with base64:// but is not valid base64")
        return decoded.strip()
    return value or None


def load_ca(value: str) -> CACert | None:
    """Read ``VAULT_CACERT``: a file path, ``file://PATH``, ``base64://B64``,
    bare base64 of a PEM, or an inline PEM.

    :return: ``None`` when unset (the system CA store is used).
    :raise VaultConfigError: for a value that is none of these.
    """
    value = value.strip()
    if not value:
        return None
    if value.startswith("file://"):
        return _ca_file(value.removeprefix("file://"))
    if value.startswith("base64://"):
        pem = _b64decode(value.removeprefix("base64://"))
        if pem is None or _PEM_MARK not in pem:
            raise VaultConfigError(
                "VAULT_CACERT starts with base64:// but does not hold a base64 PEM certificate"
            )
        return CACert(pem=pem, form="base64")
    if _PEM_MARK in value:
        return CACert(pem=_normalise_pem(value), form="pem")
    if os.path.isfile(value):
        return CACert(path=value, form="file")
    pem = _b64decode(value)
    if pem is not None and _PEM_MARK in pem:
        return CACert(pem=pem, form="base64")
    looks_like_path = "/" in value or value.endswith((".pem", ".crt", ".cer"))
    hint = f" (no file {value!r})" if looks_like_path and len(value) < 300 else ""
    raise VaultConfigError(
        "VAULT_CACERT is neither an existing file, file://PATH, base64://B64, "
        f"base64 of a PEM certificate nor an inline PEM certificate{hint}"
    )


def _ca_file(path: str) -> CACert:
    if not os.path.isfile(path):
        raise VaultConfigError(f"VAULT_CACERT names file {path!r}, which does not exist")
    return CACert(path=path, form="file")


def _normalise_pem(text: str) -> str:
    # Inline PEMs often arrive with literal "\n" escapes from one-line env files.
    if "\n" not in text and "\\n" in text:
        text = text.replace("\\n", "\n")
    return text.strip() + "\n"


def _b64decode(text: str) -> str | None:
    compact = "".join(text.split())
    try:
        raw = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        try:
            raw = base64.urlsafe_b64decode(compact + "=" * (-len(compact) % 4))
        except (binascii.Error, ValueError):
            return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _boolean(variable: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise VaultConfigError(f"{variable} must be true or false (also 1/0, yes/no)")


# A Go duration ("1m30s", "500ms", "1.5h") or bare seconds ("5", "2.5").
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_UNITS = {
    "ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0,
}  # fmt: skip


def parse_duration(text: str) -> float:
    """Seconds in *text*: a Go duration (``5s``, ``500ms``, ``1m30s``) or bare seconds.

    :raise ValueError: when *text* is neither.
    """
    text = text.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        if not math.isfinite(seconds):
            raise ValueError(f"not a duration: {text!r}")
        return seconds
    position, total = 0, 0.0
    while position < len(text):
        match = _DURATION_PART.match(text, position)
        if match is None:
            raise ValueError(f"not a duration: {text!r}")
        total += float(match[1]) * _UNITS[match[2]]
        position = match.end()
    if position == 0:
        raise ValueError("empty duration")
    return total


def _timeout(value: str) -> float:
    if not value.strip():
        return DEFAULT_TIMEOUT
    try:
        seconds = parse_duration(value)
    except ValueError:
        seconds = -1.0
    if not seconds > 0:
        # The original agent warns and keeps its default; so do we.
        log.warning(
            "VAULT_HTTP_REQ_TIMEOUT is not a positive duration (like 5s, 500ms, 1m); using %gs",
            DEFAULT_TIMEOUT,
        )
        return DEFAULT_TIMEOUT
    return seconds
