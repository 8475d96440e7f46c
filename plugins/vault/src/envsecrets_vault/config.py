"""Reading the ``VAULT_*`` settings from the agent's environment: pure parsing into attrs value
objects. Errors name the variable, never a value that may be a credential. Imported when a provider
is built (it imports attrs), never by ``import envsecrets_vault``.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import urllib.parse
from collections.abc import Mapping

import attrs

from envsecrets import ProviderError

log = logging.getLogger(__name__)

#: Seconds one HTTP request may take when ``VAULT_HTTP_REQ_TIMEOUT`` is unset.
DEFAULT_TIMEOUT = 10.0

_TRUE = frozenset({"1", "true", "yes", "on", "t", "y"})
_FALSE = frozenset({"", "0", "false", "no", "off", "f", "n"})
_PEM_MARK = "-----BEGIN CERTIFICATE-----"
# What a header value must not hold: CR/LF would inject a header, other control characters are
# refused by requests with the value in the message.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: The proxy variables read from the agent's environment (both cases).
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
#: ``VAULT_AUTH_METHOD`` values; every one but ``token`` logs in.
METHODS = ("token", "approle", "jwt", "kubernetes", "cert")
#: Where Kubernetes mounts a pod's service-account token.
KUBERNETES_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"  # noqa: S105 (a path)
_MOUNT = re.compile(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*")


class VaultConfigError(ProviderError):
    """A ``VAULT_*`` setting is missing or malformed."""


@attrs.frozen
class CACert:
    """Where the CA certificates come from: a file, a directory, or PEM text."""

    path: str | None = None
    directory: str | None = None  # VAULT_CAPATH, as the Vault CLI
    pem: str | None = attrs.field(default=None, repr=False)  # inline or base64


@attrs.frozen
class ClientCert:
    """``VAULT_CLIENT_CERT`` and ``VAULT_CLIENT_KEY``: files, as the Vault CLI."""

    cert_file: str
    key_file: str | None = attrs.field(default=None, repr=False)


@attrs.frozen
class TLSSettings:
    """How the server's certificate is checked, and what the client shows."""

    verify: bool = True  # False with VAULT_SKIP_VERIFY
    # VAULT_CACERT / VAULT_CAPATH; None: SSL_CERT_FILE / SSL_CERT_DIR, else the system store.
    ca: CACert | None = None
    system_file: str | None = None
    system_dir: str | None = None
    client: ClientCert | None = None


@attrs.frozen
class VaultConfig:
    """Everything the provider needs to talk to one Vault server."""

    address: str
    token: str | None = attrs.field(default=None, repr=False)
    role_id: str | None = attrs.field(default=None, repr=False)
    secret_id: str | None = attrs.field(default=None, repr=False)
    method: str = "token"  # one of METHODS
    auth_mount: str = ""  # VAULT_AUTH_PATH, default: the method's name
    auth_role: str | None = None  # VAULT_AUTH_ROLE
    jwt_file: str | None = None  # VAULT_AUTH_JWT_FILE: read at every login
    namespace: str | None = None
    tls: TLSSettings = attrs.field(factory=TLSSettings)
    timeout: float = DEFAULT_TIMEOUT
    disable_redirects: bool = False  # VAULT_DISABLE_REDIRECTS
    via_agent: bool = False  # the address came from VAULT_AGENT_ADDR
    # The agent's proxy variables (lower-case keys).
    proxy_environ: Mapping[str, str] = attrs.field(factory=dict, repr=False)

    @property
    def logs_in(self) -> bool:
        return self.method != "token"

    @property
    def verify(self) -> bool:
        return self.tls.verify

    @property
    def where(self) -> str:
        """The server for messages: address without credentials, plus namespace."""
        parts = urllib.parse.urlsplit(self.address)
        netloc = parts.netloc.rpartition("@")[2]
        shown = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))
        return f"{shown} (namespace {self.namespace})" if self.namespace else shown


def load_config(environ: Mapping[str, str]) -> VaultConfig:
    """Build the configuration from the ``VAULT_*`` variables of *environ*.

    :raise VaultConfigError: naming the variable at fault.
    """
    agent = environ.get("VAULT_AGENT_ADDR", "").strip()  # as the Vault CLI: it wins
    variable = "VAULT_AGENT_ADDR" if agent else "VAULT_ADDR"
    address = _address(agent or environ.get("VAULT_ADDR", "").strip(), variable)
    role_id = environ.get("VAULT_APP_ROLE_ID", "").strip()
    secret_id = environ.get("VAULT_APP_ROLE_SECRET_ID", "").strip()
    method = environ.get("VAULT_AUTH_METHOD", "").strip().lower()
    if method and method not in METHODS:
        raise VaultConfigError(f"VAULT_AUTH_METHOD must be one of {', '.join(METHODS)}")
    if method == "approle" or (not method and (role_id or secret_id)):
        if bool(role_id) != bool(secret_id):
            names = ("VAULT_APP_ROLE_ID", "VAULT_APP_ROLE_SECRET_ID")
            given, missing = names if role_id else names[::-1]
            raise VaultConfigError(f"{given} is set but {missing} is not: AppRole needs both")
        if not role_id:
            raise VaultConfigError("VAULT_AUTH_METHOD=approle needs VAULT_APP_ROLE_ID and "
                                   "VAULT_APP_ROLE_SECRET_ID")  # fmt: skip
        method = "approle"
    token = None
    if method in ("", "token"):  # AppRole wins over VAULT_TOKEN, as in the original agent
        method, token = "token", _header("VAULT_TOKEN", load_token(environ.get("VAULT_TOKEN", "")))
        if token is None and not agent:
            raise VaultConfigError(
                "no Vault credentials: set VAULT_TOKEN, or VAULT_APP_ROLE_ID and "
                "VAULT_APP_ROLE_SECRET_ID, or VAULT_AUTH_METHOD (jwt, kubernetes, cert), "
                "or VAULT_AGENT_ADDR for an agent that adds its token"
            )
    tls = TLSSettings(
        verify=not _boolean("VAULT_SKIP_VERIFY", environ),
        ca=load_ca(environ.get("VAULT_CACERT", "")) or load_capath(environ.get("VAULT_CAPATH", "")),
        system_file=environ.get("SSL_CERT_FILE") or None,
        system_dir=environ.get("SSL_CERT_DIR") or None,
        client=load_client_cert(environ),
    )
    auth_role = environ.get("VAULT_AUTH_ROLE", "").strip() or None
    jwt_file = environ.get("VAULT_AUTH_JWT_FILE", "").strip() or None
    _check_method(method, auth_role, jwt_file, tls, address)
    namespace = environ.get("VAULT_NAMESPACE", "").strip().strip("/") or None
    return VaultConfig(
        address=address,
        token=token,
        role_id=role_id if method == "approle" else None,
        secret_id=secret_id if method == "approle" else None,
        method=method,
        auth_mount=_auth_mount(environ.get("VAULT_AUTH_PATH", ""), method),
        auth_role=auth_role,
        jwt_file=jwt_file or (KUBERNETES_TOKEN if method == "kubernetes" else None),
        namespace=_header("VAULT_NAMESPACE", namespace),
        tls=tls,
        timeout=_timeout(environ.get("VAULT_HTTP_REQ_TIMEOUT", "")),
        disable_redirects=_boolean("VAULT_DISABLE_REDIRECTS", environ),
        via_agent=bool(agent),
        proxy_environ=proxy_environ(environ),
    )


def _check_method(
    method: str, role: str | None, jwt_file: str | None, tls: TLSSettings, address: str
) -> None:
    """What each login method needs beyond its name. :raise VaultConfigError: naming it."""
    needs = f"VAULT_AUTH_METHOD={method} needs"
    if method in ("jwt", "kubernetes") and not role:
        raise VaultConfigError(f"{needs} VAULT_AUTH_ROLE (the Vault role to log in as)")
    if method == "jwt" and not jwt_file:
        raise VaultConfigError(f"{needs} VAULT_AUTH_JWT_FILE (the file holding the JWT)")
    if method == "cert" and tls.client is None:
        raise VaultConfigError(f"{needs} VAULT_CLIENT_CERT (and VAULT_CLIENT_KEY): the client "
                               "certificate to log in with")  # fmt: skip
    if method == "cert" and not (address.lower().startswith("https:") and tls.verify):
        raise VaultConfigError(f"{needs} an https:// address whose certificate is verified (no "
                               "VAULT_SKIP_VERIFY)")  # fmt: skip


def _auth_mount(value: str, method: str) -> str:
    """``VAULT_AUTH_PATH`` without slashes: the auth mount (``auth/PATH/login``)."""
    mount = value.strip().strip("/") or method
    if not _MOUNT.fullmatch(mount) or ".." in mount.split("/"):
        raise VaultConfigError("VAULT_AUTH_PATH must be an auth mount path such as jwt or "
                               "team/k8s (letters, digits, '_', '-', '.', '/')")  # fmt: skip
    return mount


def proxy_environ(environ: Mapping[str, str]) -> dict[str, str]:
    """The proxy variables of *environ*, lower-case keys; the lower-case spelling wins over the
    upper-case one, as in requests and curl."""
    found = {name: environ.get(name) or environ.get(name.upper()) for name in PROXY_VARIABLES}
    return {name: value.strip() for name, value in found.items() if value}


def _header(variable: str, value: str | None) -> str | None:
    """*value*, checked for an HTTP header: no control character (CR/LF
    above all), Latin-1 only (what HTTP/1.1 headers carry)."""
    if value is not None and _CONTROL.search(value):
        raise VaultConfigError(f"{variable} holds a control character (CR, LF...): it cannot be "
                               "sent in an HTTP header")  # fmt: skip
    if value is not None and any(ord(char) > 255 for char in value):
        raise VaultConfigError(f"{variable} holds characters an HTTP header cannot carry (not "
                               "Latin-1)")  # fmt: skip
    return value


def _address(value: str, variable: str) -> str:
    if not value:
        raise VaultConfigError(f"{variable} is not set: it must be the URL of the Vault server")
    parts = urllib.parse.urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise VaultConfigError(f"{variable} must be an http:// or https:// URL with a host")
    if _CONTROL.search(value):
        raise VaultConfigError(f"{variable} holds a control character")
    return value.rstrip("/")


def load_token(value: str) -> str | None:
    """The token in ``VAULT_TOKEN`` (literal, ``file://PATH`` or ``base64://B64``), or ``None``.

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
    """Read ``VAULT_CACERT`` (``None`` when unset): a file path, ``file://PATH``, ``base64://B64``,
    bare base64 of a PEM, or an inline PEM. :raise VaultConfigError: for anything else."""
    value = value.strip()
    if not value:
        return None
    if _PEM_MARK in value:
        return CACert(pem=_normalise_pem(value))
    if os.path.isfile(path := value.removeprefix("file://")):
        return CACert(path=path)
    if value.startswith("file://"):
        raise VaultConfigError(f"VAULT_CACERT names file {path!r}, which does not exist")
    pem = _b64decode(value.removeprefix("base64://"))
    if pem is not None and _PEM_MARK in pem:
        return CACert(pem=pem)
    if value.startswith("base64://"):
        raise VaultConfigError("VAULT_CACERT starts with base64:// but does not hold a base64 PEM")
    looks_like_path = "/" in value or value.endswith((".pem", ".crt", ".cer"))
    hint = f" (no file {value!r})" if looks_like_path and len(value) < 300 else ""
    raise VaultConfigError(
        "VAULT_CACERT is neither an existing file, file://PATH, base64://B64, "
        f"base64 of a PEM certificate nor an inline PEM certificate{hint}"
    )


def load_capath(value: str) -> CACert | None:
    """Read ``VAULT_CAPATH``: a directory of CA files (or one file, as the Vault CLI allows)."""
    value = value.strip()
    if not value:
        return None
    if os.path.isdir(value):
        return CACert(directory=value)
    if os.path.isfile(value):
        return CACert(path=value)
    raise VaultConfigError(f"VAULT_CAPATH names {value!r}, which is neither a directory nor a file")


def load_client_cert(environ: Mapping[str, str]) -> ClientCert | None:
    """``VAULT_CLIENT_CERT`` and ``VAULT_CLIENT_KEY`` (unless the key is in the certificate)."""
    cert = environ.get("VAULT_CLIENT_CERT", "").strip()
    key = environ.get("VAULT_CLIENT_KEY", "").strip()
    if not cert:
        if key:
            raise VaultConfigError("VAULT_CLIENT_KEY is set but VAULT_CLIENT_CERT is not")
        return None
    if not os.path.isfile(cert):
        raise VaultConfigError(f"VAULT_CLIENT_CERT names file {cert!r}, which does not exist")
    if key and not os.path.isfile(key):
        raise VaultConfigError("VAULT_CLIENT_KEY names a file that does not exist")
    return ClientCert(cert_file=cert, key_file=key or None)


def _normalise_pem(text: str) -> str:
    # Inline PEMs often arrive with literal "\n" escapes from one-line env files.
    if "\n" not in text and "\\n" in text:
        text = text.replace("\\n", "\n")
    return text.strip() + "\n"


def _b64decode(text: str) -> str | None:
    # Standard or URL-safe alphabet, padding optional; UTF-8 text or nothing.
    compact = "".join(text.split()).replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True).decode()
    except ValueError:  # binascii.Error, UnicodeDecodeError
        return None


def _boolean(variable: str, environ: Mapping[str, str]) -> bool:
    lowered = environ.get(variable, "").strip().lower()
    if lowered in _TRUE or lowered in _FALSE:
        return lowered in _TRUE
    raise VaultConfigError(f"{variable} must be true or false (also 1/0, yes/no)")


# A Go duration ("1m30s", "500ms", "1.5h") or bare seconds ("5", "2.5").
_NUMBER = r"(\d+(?:\.\d*)?|\.\d+)"
_PART = re.compile(_NUMBER + "(ns|us|µs|μs|ms|s|m|h)")
_UNITS = {
    "ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0,
}  # fmt: skip


def parse_duration(text: str) -> float:
    """Seconds in *text*: a Go duration (``5s``, ``500ms``, ``1m30s``) or bare seconds.
    :raise ValueError: when *text* is neither."""
    text = text.strip()
    if re.fullmatch(_NUMBER, text):
        return float(text)
    if not re.fullmatch(f"(?:{_PART.pattern})+", text):
        raise ValueError(f"not a duration: {text!r}")
    return sum(float(number) * _UNITS[unit] for number, unit in _PART.findall(text))


def _timeout(value: str) -> float:
    try:
        seconds = parse_duration(value) if value.strip() else DEFAULT_TIMEOUT
    except ValueError:
        seconds = 0.0
    if seconds <= 0:  # as the original agent: warn, keep the default
        log.warning(
            "VAULT_HTTP_REQ_TIMEOUT is not a positive duration (like 5s, 500ms, 1m); using %gs",
            DEFAULT_TIMEOUT,
        )
        return DEFAULT_TIMEOUT
    return seconds
