"""One Vault client: hvac over the session of :mod:`envsecrets_vault.session`, one token, logins
(:mod:`envsecrets_vault.logins`) one at a time. Errors name the request, the path and the server,
never a token, a secret ID, a JWT or a value. Imported on the first fetch only (it imports hvac and
requests).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

import hvac  # its adapters and exceptions modules come with it
import requests

from envsecrets import AccessDenied, ProviderError, SecretNotFound, redact_logs
from envsecrets.values import parse_json
from envsecrets_vault import reasons
from envsecrets_vault.config import VaultConfig
from envsecrets_vault.logins import METHODS, read_jwt, refused
from envsecrets_vault.paths import ApiPath, ListPath
from envsecrets_vault.session import make_session

log = logging.getLogger(__name__)

#: Lists every mount the token can see (allowed to any token).
MOUNTS = "/v1/sys/internal/ui/mounts"
#: The mount serving a path, its type and options (allowed for paths the token has a capability on).
LOOKUP = MOUNTS + "/"
#: Log in again this long before the token's TTL runs out (at most 10% of it).
RENEW_MARGIN = 30.0

Call = Callable[[], requests.Response]


class VaultAuthError(ProviderError):
    """The login failed (credentials refused, a JWT file unreadable, or no token in the answer)."""


class CredentialsRejected(VaultAuthError):
    """Vault refused the credentials: they are not sent again (a new JWT in the file is)."""


class VaultClient:
    """Reads and lists KV secrets of one Vault server with one token (thread-safe).

    With a login method, the first call logs in (under a lock: the calls waiting for it use its
    token or its failure), the token is reused until its TTL nearly runs out, and a 403 causes one
    more login and one more try (the token may have expired or been revoked). Through
    ``VAULT_AGENT_ADDR`` without a token, requests carry none: the agent adds its own.
    """

    def __init__(self, config: VaultConfig) -> None:
        self.config = config
        self._where = config.where
        self._token: str | None = config.token
        self._expires: float | None = None  # monotonic time to log in again
        self._login_lock = threading.Lock()
        self._failed: tuple[ProviderError, float] | None = None  # the last login's failure
        self._login_what = f"POST /v1/auth/{config.auth_mount}/login"
        self._jwt: str | None = None  # during a login only: hidden from Vault's error text
        self._refused = b""  # the SHA-256 of the JWT Vault refused
        if not config.verify:
            log.warning(
                "VAULT_SKIP_VERIFY is set: %s's TLS certificate is not verified", self._where
            )
        try:
            session = make_session(config)
        except OSError:
            unreadable = config.tls.client is not None and config.tls.ca is None
            why = reasons.CLIENT_CERT_UNREADABLE if unreadable else reasons.CA_UNREADABLE
            raise ProviderError(f"{why}: Vault {self._where}") from None
        # The token, the secret ID and X-Vault-Token headers: out of every log line (-vv too).
        redact_logs(sdks=["requests", "hvac"], values=(config.token, config.secret_id))
        self._hvac = hvac.Client(
            url=config.address,
            token=self._token or "",  # never VAULT_TOKEN or ~/.vault-token of os.environ
            verify=config.verify,
            cert=(),  # nor the ambient VAULT_CLIENT_CERT: the session's context holds ours
            timeout=config.timeout,
            session=session,
            namespace=config.namespace,
            allow_redirects=False,  # the session's hook follows one, as Vault's client
            adapter=hvac.adapters.RawAdapter,  # our JSON parsing keeps numbers as written
        )
        self._mounts: dict[str, tuple[str, str]] = {}  # "kv/" -> (type, KV version)
        self._lookup_locks: dict[str, threading.Lock] = {}  # by first segment: one per mount

    def __repr__(self) -> str:
        config = self.config
        auth = config.method if config.logs_in or config.token else "agent"
        return f"<VaultClient {self._where} auth={auth}>"

    def read(self, api: ApiPath) -> Mapping[str, object]:
        """GET *api*: the JSON body of the answer.

        :raise SecretNotFound: on 404 (naming a deleted or destroyed KV v2 version).
        :raise AccessDenied: on 403; :raise ProviderError: on any other failure.
        """
        self._confine(api.path, api.engine, f"GET {api.describe()}", api)
        kv, where = self._hvac.secrets.kv, {"path": api.secret, "mount_point": api.mount}
        call: Call = functools.partial(kv.v1.read_secret, **where)
        if api.engine == 2:
            version = {"version": api.version, "raise_on_deleted_version": True}
            call = functools.partial(kv.v2.read_secret_version, **where, **version)
        return self._json(f"GET {api.describe()}", call, api=api)

    def list_keys(self, listing: ListPath, engine: int) -> list[str]:
        """LIST a folder: its keys, ``[]`` for none (404). :raise AccessDenied: on 403."""
        kv, what = self._hvac.secrets.kv, listing.describe(engine)
        call = (kv.v2 if engine == 2 else kv.v1).list_secrets
        self._confine(what.removeprefix("LIST /v1/").rstrip("/"), engine, what)
        try:
            body = self._json(what, functools.partial(call, listing.folder, listing.mount))
        except SecretNotFound:
            return []
        data = body.get("data")
        keys = data.get("keys") if isinstance(data, Mapping) else None
        if not isinstance(keys, list):
            raise ProviderError(f"the LIST answer holds no keys: {self._at(what)}")
        return [key for key in keys if isinstance(key, str)]

    def _confine(self, path: str, engine: int, what: str, api: ApiPath | None = None) -> None:
        """Confinement: before *what*, look up the mount serving *path* (once per mount).
        :raise ProviderError: unless it is a KV mount of *engine*, :raise AccessDenied: if the
        lookup is denied (no mount serves *path*, or the token has no capability on it)."""
        self._token_now(time.monotonic())  # log in first: a failed login fails waiting lookups
        with self._lookup_locks.setdefault(path.partition("/")[0], threading.Lock()):
            mount = next((m for m in list(self._mounts) if (path + "/").startswith(m)), "")
            kind, version = self._mounts[mount] if mount else ("", "")
            if not mount:
                mount, kind, version = self._look_up(path, f"{what} while checking its mount", api)
                if mount and (path + "/").startswith(mount):  # else an odd answer: not reused
                    self._mounts[mount] = (kind, version)
        not_kv = f"the Vault path {path} is not in a KV v{engine} mount ({mount} is"
        if kind not in ("kv", "generic"):
            raise ProviderError(f"{not_kv} a {kind or 'unknown'} mount)")
        if version != str(engine):
            raise ProviderError(f"{not_kv} KV v{version}: use _vaultkv{version})")

    def _look_up(self, path: str, what: str, api: ApiPath | None) -> tuple[str, str, str]:
        """The mount serving *path*: its path, type and KV version, as the lookup answers."""
        url = LOOKUP + urllib.parse.quote(path, safe="/")
        try:
            body = self._json(what, functools.partial(self._hvac.adapter.get, url), api=api)
        except AccessDenied as error:  # OpenBao answers 403 for a path under no mount too
            why = f"is not in a KV mount, or the token may not read it ({error})"
            raise AccessDenied(f"the Vault path {path} {why}") from None
        except SecretNotFound:  # a server that does not answer the lookup: fail closed
            raise ProviderError(f"the mount lookup is not answered: {self._at(what)}") from None
        data = body.get("data")
        info: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
        options = info.get("options")
        version = options.get("version", "1") if isinstance(options, Mapping) else "1"
        return str(info.get("path", "")), str(info.get("type", "")), str(version)

    def kv_mounts(self, engine: int) -> list[str]:
        """The KV mounts of *engine* the token can see, as ``mount/``."""
        body = self._json(f"GET {MOUNTS}", functools.partial(self._hvac.adapter.get, MOUNTS))
        data = body.get("data")
        mounts = data.get("secret") if isinstance(data, Mapping) else None
        return [
            mount.rstrip("/") + "/"
            for mount, info in (mounts if isinstance(mounts, Mapping) else {}).items()
            if isinstance(info, Mapping)
            and info.get("type") in ("kv", "generic")
            and str((info.get("options") or {}).get("version", "1")) == str(engine)
        ]

    def _json(
        self, what: str, call: Call, *, api: ApiPath | None = None, login: bool = False
    ) -> Mapping[str, object]:
        """Run *call* (with the token, unless it logs in); return the JSON object it answered."""
        try:
            response = call() if login else self._authorised(call)
        except hvac.exceptions.VaultError as error:
            raise self._failure(error, what, api) from None
        except (requests.RequestException, OSError) as error:
            # from None: the chained exception holds the request, headers included.
            retried = not what.startswith("POST")
            why = reasons.transport_reason(error, self.config.timeout, retried=retried)
            raise ProviderError(f"{why}: {self._at(what)}") from None
        log.debug("%s at %s: HTTP %d", what, self._where, response.status_code)
        try:
            # Never "replace" a byte: a mangled byte would become a wrong secret.
            body = parse_json(response.content.decode("utf-8"))
        except (UnicodeDecodeError, ProviderError):
            body = None
        if not isinstance(body, Mapping):
            raise ProviderError(f"Vault answered with something that is not a JSON object: "
                                f"{self._at(what)}")  # fmt: skip
        return body

    def _authorised(self, call: Call) -> requests.Response:
        """*call* with the token; after a 403 with a login method, one more login and one more
        try."""
        token = self._token_now(time.monotonic())
        try:
            return call()
        except hvac.exceptions.Forbidden:
            if not self.config.logs_in:
                raise
        log.debug("HTTP 403 at %s: one more login", self._where)
        with self._login_lock:
            if self._token == token:  # nobody logged in again meanwhile
                self._login()
        return call()

    def _failure(
        self, error: hvac.exceptions.VaultError, what: str, api: ApiPath | None
    ) -> ProviderError:
        config = self.config
        hide = (self._token, config.token, config.role_id, config.secret_id, self._jwt)
        hide_ = [secret for secret in hide if secret]
        login = what == self._login_what
        if login and isinstance(error, _REJECTED):
            said = reasons.vault_errors(error.errors, hide_)
            return CredentialsRejected(
                f"{METHODS[config.method][0]} login failed: {refused(config)}"
                f"{f' [Vault: {said}]' if said else ''}: {self._at(what)}"
            )
        own = api.path if api else ""  # the role's own words: never blanked (no oracle)
        why = reasons.answer_reason(error, hide_, own, retried=not what.startswith("POST"))
        if login:
            return VaultAuthError(
                f"{METHODS[config.method][0]} login failed, {why}: {self._at(what)}"
            )
        if isinstance(error, hvac.exceptions.InvalidPath):
            return SecretNotFound(f"{_not_found_reason(error, api) or why}: {self._at(what)}")
        if isinstance(error, hvac.exceptions.Forbidden):
            if what.startswith("LIST"):
                why += " (listing needs the 'list' capability on this path)"
            return AccessDenied(f"{why}: {self._at(what)}")
        return ProviderError(f"{why}: {self._at(what)}")

    def _at(self, what: str) -> str:
        return f"{what} at Vault {self._where}"

    def _token_now(self, started: float) -> str | None:
        """The token to send, after a login if none is valid; a login that failed after *started*
        fails this call too (the same credentials are not sent again for it)."""
        if not self.config.logs_in or self._valid():
            return self._token
        with self._login_lock:
            if self._valid():
                return self._token
            if self._failed is not None:
                error, when = self._failed
                static = isinstance(error, CredentialsRejected) and not self.config.jwt_file
                if static or when >= started:
                    raise type(error)(str(error))
            self._login()
            return self._token

    def _valid(self) -> bool:
        expires = self._expires
        return self._token is not None and (expires is None or time.monotonic() < expires)

    def _login(self) -> None:
        """Log in with the configured method; the caller holds the login lock."""
        started, self._token = time.monotonic(), None
        title, call = METHODS[self.config.method]
        what = self._login_what
        failed, digest = self._failed, b""
        try:
            try:
                self._jwt = read_jwt(self.config) if self.config.jwt_file else ""
            except ValueError as error:
                raise VaultAuthError(f"{title} login failed: {error}: {self._at(what)}") from None
            digest = hashlib.sha256(self._jwt.encode()).digest()
            if failed and isinstance(failed[0], CredentialsRejected) and digest == self._refused:
                raise CredentialsRejected(str(failed[0]))  # the same JWT: not sent again
            login = functools.partial(call, self._hvac, self.config, self._jwt)
            auth = self._json(what, login, login=True).get("auth")
            token = auth.get("client_token") if isinstance(auth, Mapping) else None
            if not isinstance(token, str) or not token:
                raise VaultAuthError(f"{title} login answered without a client token: "
                                     f"{self._at(what)}")  # fmt: skip
        except ProviderError as error:
            self._failed, self._refused = (error, time.monotonic()), digest
            raise
        finally:
            self._jwt = None  # read at every login, kept by none
        assert isinstance(auth, Mapping)
        try:
            ttl = float(auth.get("lease_duration") or 0)  # a JSONNumber: str
        except (TypeError, ValueError):
            ttl = 0.0
        log.debug("%s login at %s: %s token, TTL %gs",
                  title, self._where, auth.get("token_type", "unknown"), ttl)  # fmt: skip
        self._hvac.token = token
        self._expires = started + ttl - min(RENEW_MARGIN, ttl / 10) if ttl > 0 else None
        self._token, self._failed = token, None

    def close(self) -> None:
        """Close connections and forget the token."""
        self._token = None
        self._hvac.token = ""
        self._hvac.adapter.close()


#: Login answers that mean the credentials are wrong: sending them again cannot help.
_REJECTED = (
    hvac.exceptions.InvalidRequest,
    hvac.exceptions.Unauthorized,
    hvac.exceptions.Forbidden,
)


def _not_found_reason(error: hvac.exceptions.VaultError, api: ApiPath | None) -> str:
    """Tell a deleted or destroyed KV v2 version from a missing secret."""
    body: Any = error.json
    try:
        metadata = body["data"]["metadata"]
        version = metadata.get("version", api.version if api else None)
    except (TypeError, KeyError, AttributeError):
        return ""
    if metadata.get("destroyed") is True:
        return f"version {version} was destroyed (HTTP 404)"
    if metadata.get("deletion_time"):
        return f"version {version} was deleted (HTTP 404; it can be undeleted)"
    return ""
