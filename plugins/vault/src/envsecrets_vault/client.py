"""One Vault client: every call through hvac over one requests session
(:mod:`envsecrets_vault.session`), one token, at most one login at a time.

Imported on the first fetch only (it imports hvac and requests). Every error
names the request, the path and the server, never a token, a secret ID or a
value.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from typing import Any

import hvac
import hvac.adapters
import requests

from envsecrets import ProviderError, SecretNotFound
from envsecrets.errors import AccessDenied
from envsecrets.values import parse_json
from envsecrets_vault import reasons
from envsecrets_vault.config import VaultConfig
from envsecrets_vault.deadline import watchdog
from envsecrets_vault.paths import ApiPath
from envsecrets_vault.session import (
    REDIRECT_STATUSES,
    VaultSession,
    ensure_trust,
    origin,
    tls_context,
)

log = logging.getLogger(__name__)

#: Where AppRole logs in (the ``approle`` auth mount, as in the original agent).
LOGIN_PATH = "/v1/auth/approle/login"
APPROLE_MOUNT = "approle"

#: Seconds the socket read timeout exceeds VAULT_HTTP_REQ_TIMEOUT by.
SOCKET_MARGIN = 0.25

#: Log in again this long before the token's TTL runs out (at most 10% of it).
RENEW_MARGIN = 30.0


class VaultAuthError(ProviderError):
    """The AppRole login failed (wrong role ID or secret ID, or no token in the answer)."""


class CredentialsRejected(VaultAuthError):
    """Vault refused the AppRole credentials: no later login can succeed with them."""


class VaultClient:
    """Reads and lists API paths of one Vault server with one token.

    Thread-safe. With AppRole, the first call logs in (under a lock, so
    concurrent reads cause one login), the token is reused until its TTL
    nearly runs out, and a 403 causes one more login and one retry (the
    token may have been revoked or outlived its TTL). Through
    ``VAULT_AGENT_ADDR`` without a token, requests carry none: the agent
    adds its own.
    """

    def __init__(self, config: VaultConfig) -> None:
        self.config = config
        # The server as messages name it (config.where parses the address:
        # once, not on every request's log call).
        self._where = config.where
        self._lock = threading.Lock()  # the hvac client and the closed flag
        # Serialises logins. Not self._lock: close() must not wait for a
        # login hung on a dead server (the deadline has given up on it).
        self._login_lock = threading.Lock()
        self._client: Any = None  # hvac.Client, built on first use
        self._watchdog = watchdog()
        self._token: str | None = config.token
        self._expires: float | None = None  # monotonic time to log in again
        self._generation = 0  # bumped at each login
        self._attempts = 0  # login attempts, successful or not
        self._login_error: ProviderError | None = None
        self._rejected: CredentialsRejected | None = None  # sticky: the env is fixed
        self._closed = False
        self._inflight_lock = threading.Lock()
        self._inflight: dict[ApiPath, Future[Mapping[str, object]]] = {}

    def __repr__(self) -> str:
        auth = "approle" if self.config.uses_approle else "token"
        if self.config.via_agent and not self.config.uses_approle and not self.config.token:
            auth = "agent"
        return f"<VaultClient {self._where} auth={auth}>"

    @property
    def _secrets(self) -> tuple[str, ...]:
        """Credentials that must never appear in a message."""
        found = (self._token, self.config.token, self.config.role_id, self.config.secret_id)
        return tuple(secret for secret in found if secret)

    # -- reading ---------------------------------------------------------

    def read(self, api: ApiPath) -> Mapping[str, object]:
        """GET *api* and return the JSON body of a 200 answer.

        Concurrent reads of one API path (``app`` and ``secret/data/app``
        name the same one) share a single request.

        :raise SecretNotFound: on 404 (naming a deleted or destroyed KV v2 version).
        :raise AccessDenied: on 403.
        :raise ProviderError: on any other failure.
        """
        with self._inflight_lock:
            shared = self._inflight.get(api)
            if shared is None:
                shared = self._inflight[api] = Future()
                owner = True
            else:
                owner = False
        if not owner:
            return shared.result()
        try:
            body = self._read(api)
        except BaseException as error:
            shared.set_exception(error)
            raise
        else:
            shared.set_result(body)
            return body
        finally:
            with self._inflight_lock:
                del self._inflight[api]

    def _read(self, api: ApiPath) -> Mapping[str, object]:
        what = f"GET {api.describe()}"
        response = self._authorised(what, lambda client: self._get(client, api))
        status = response.status_code
        text = self._text(response, what)
        if status == 404:
            raise SecretNotFound(f"{_not_found_reason(text, api)}: {self._at(what)}")
        if status != 200:
            raise self._failure(response, text, what)
        try:
            body = parse_json(text)
        except ProviderError:
            body = None
        if not isinstance(body, Mapping):
            raise ProviderError(
                f"Vault answered with something that is not a JSON object: {self._at(what)}"
            )
        return body

    @staticmethod
    def _get(client: Any, api: ApiPath) -> requests.Response:
        """The hvac call for *api*: the KV methods, or a plain GET for a path
        read as written."""
        if api.mount is None or api.secret is None:
            response: requests.Response = client.adapter.get(api.url, params=api.params)
        elif api.engine == 2:
            response = client.secrets.kv.v2.read_secret_version(
                path=api.secret,
                version=api.version,
                mount_point=api.mount,
                raise_on_deleted_version=True,  # no effect with ignore_exceptions
            )
        else:
            response = client.secrets.kv.v1.read_secret(path=api.secret, mount_point=api.mount)
        return response

    # -- listing ---------------------------------------------------------

    def list_keys(self, path: str) -> list[str]:
        """LIST ``/v1/PATH`` (a folder ending with ``/``): its keys; ``[]`` when
        there is nothing there (404).

        :raise AccessDenied: on 403 (the policy lacks ``list`` on the path).
        """
        what = f"LIST /v1/{path}"
        url = "/v1/" + urllib.parse.quote(path, safe="/")
        response = self._authorised(what, lambda client: client.adapter.list(url))
        text = self._text(response, what)
        if response.status_code == 404:
            return []
        if response.status_code != 200:
            raise self._failure(response, text, what, listing=True)
        try:
            keys = json.loads(text)["data"]["keys"]
        except (ValueError, TypeError, KeyError):
            keys = None
        if not isinstance(keys, list):
            raise ProviderError(f"the LIST answer holds no keys: {self._at(what)}")
        return [key for key in keys if isinstance(key, str)]

    def kv_mounts(self, version: int) -> list[str]:
        """The KV mounts of *version* the token can see (``GET
        sys/internal/ui/mounts``, allowed to any token), as ``mount/``."""
        what = "GET /v1/sys/internal/ui/mounts"
        response = self._authorised(
            what, lambda client: client.adapter.get("/v1/sys/internal/ui/mounts")
        )
        text = self._text(response, what)
        if response.status_code != 200:
            raise self._failure(response, text, what, listing=True)
        try:
            secret = json.loads(text)["data"]["secret"]
        except (ValueError, TypeError, KeyError):
            return []
        found = []
        for mount, info in (secret or {}).items():
            if not isinstance(info, dict) or info.get("type") not in ("kv", "generic"):
                continue
            options = info.get("options") or {}
            if str(options.get("version", "1")) == str(version):
                found.append(mount if mount.endswith("/") else mount + "/")
        return found

    # -- one call --------------------------------------------------------

    def _authorised(self, what: str, call: Callable[[Any], requests.Response]) -> requests.Response:
        """Run *call* with the token (logging in first with AppRole); after a
        403 with AppRole, log in once more and run it again."""
        client = self._hvac()
        generation = self._token_for_request(client)
        response = self._call(what, lambda: call(client))
        if response.status_code == 403 and self.config.uses_approle:
            log.debug("HTTP 403 for %s at %s: one more login", what, self._where)
            self._login_again(client, generation)
            self._token_for_request(client)
            response = self._call(what, lambda: call(client))
        return response

    def _call(self, what: str, call: Callable[[], requests.Response]) -> requests.Response:
        """Run one hvac call under the total deadline; explain transport failures.

        A GET or LIST whose answer was cut after its head (the adapter's
        retries end at the head) is sent once more, within the same deadline.
        """
        timeout = self.config.timeout
        tries = 1 if what.startswith("POST") else 2
        with self._watchdog.watch(timeout) as watch:
            for attempt in range(1, tries + 1):
                try:
                    response = call()
                    break
                except requests.exceptions.ChunkedEncodingError as error:
                    if attempt < tries and not watch.fired:
                        log.debug("%s at %s: answer cut short, one more try",
                                  what, self._where)  # fmt: skip
                        continue
                    raise self._transport_failure(error, what, watch.fired) from None
                except (requests.RequestException, OSError, ValueError) as error:
                    # from None: the chained exception holds the request, headers included.
                    raise self._transport_failure(error, what, watch.fired) from None
            if watch.fired:  # the answer may be cut short: never use it
                raise ProviderError(f"{reasons.timed_out(timeout)}: {self._at(what)}")
        log.debug("%s at %s: HTTP %d", what, self._where, response.status_code)
        return response

    def _transport_failure(self, error: BaseException, what: str, fired: bool) -> ProviderError:
        timeout = self.config.timeout
        why = reasons.timed_out(timeout) if fired else reasons.transport_reason(error, timeout)
        return ProviderError(f"{why}: {self._at(what)}")

    def _text(self, response: requests.Response, what: str) -> str:
        try:
            return response.content.decode("utf-8")
        except UnicodeDecodeError:
            # Never "replace": a mangled byte would become a wrong secret.
            raise ProviderError(
                f"Vault answered with bytes that are not UTF-8: {self._at(what)}"
            ) from None

    def _failure(
        self, response: requests.Response, text: str, what: str, *, listing: bool = False
    ) -> ProviderError:
        status = response.status_code
        if status in REDIRECT_STATUSES:
            target = origin(
                urllib.parse.urljoin(response.url, response.headers.get("location", ""))
            )
            if self.config.disable_redirects:
                why = (
                    f"redirect not followed (HTTP {status} to {target}): "
                    "VAULT_DISABLE_REDIRECTS is set"
                )
            else:
                why = (
                    f"redirected more than once (HTTP {status} to {target}): "
                    "Vault's client follows one redirect"
                )
            return ProviderError(f"{why}: {self._at(what)}")
        why = reasons.answer_reason(status, text, self._secrets)
        if status == 403:
            if listing:
                why += " (listing needs the 'list' capability on this path)"
            return AccessDenied(f"{why}: {self._at(what)}")
        return ProviderError(f"{why}: {self._at(what)}")

    def _at(self, what: str) -> str:
        return f"{what} at Vault {self._where}"

    # -- the token -------------------------------------------------------

    def _token_for_request(self, client: Any) -> int:
        """Make sure the hvac client holds a usable token; return its generation."""
        if not self.config.uses_approle:
            return self._generation  # a fixed token (or none): nothing to renew
        attempts_seen = self._attempts  # read before waiting for the lock
        if not self._needs_login():
            # The usual case: a token that is still good, read without the
            # lock that every concurrent read would otherwise queue on.
            return self._generation
        with self._login_lock:
            if self._needs_login():
                if self._rejected is not None:
                    # Credentials from a fixed environment stay wrong: say
                    # so again without sending them again.
                    raise CredentialsRejected(str(self._rejected))
                if self._attempts != attempts_seen and self._login_error is not None:
                    # A login failed while we waited: share its outcome
                    # instead of sending the same credentials again.
                    raise type(self._login_error)(str(self._login_error))
                self._login(client)
            return self._generation

    def _needs_login(self) -> bool:
        if self._token is None:
            return True
        return self._expires is not None and time.monotonic() >= self._expires

    def _login_again(self, client: Any, stale_generation: int) -> None:
        with self._login_lock:
            if self._generation == stale_generation:  # nobody renewed it meanwhile
                self._login(client)

    def _login(self, client: Any) -> None:
        """AppRole login; the caller holds the login lock."""
        started = time.monotonic()
        try:
            token, expires = self._approle_login(client, started)
            # Published last: a read that sees the new token without the
            # lock (_token_for_request) finds the client holding it already.
            client.token = token
            self._expires = expires
            self._generation += 1
            self._token = token
            self._login_error = None
        except ProviderError as error:
            self._token = None
            self._login_error = error
            if isinstance(error, CredentialsRejected):
                self._rejected = error
            raise
        finally:
            self._attempts += 1

    def _approle_login(self, client: Any, started: float) -> tuple[str, float | None]:
        what = f"POST {LOGIN_PATH}"
        response = self._call(
            what,
            lambda: client.auth.approle.login(
                role_id=self.config.role_id,
                secret_id=self.config.secret_id,
                use_token=False,
                mount_point=APPROLE_MOUNT,
            ),
        )
        status = response.status_code
        text = self._text(response, what)
        if status in (400, 401, 403):
            said = reasons.vault_errors(text, self._secrets)
            said = f" [Vault: {said}]" if said else ""
            raise CredentialsRejected(
                f"AppRole login failed: wrong VAULT_APP_ROLE_ID or VAULT_APP_ROLE_SECRET_ID, "
                f"or the secret ID expired (HTTP {status}){said}: {self._at(what)}"
            )
        if status != 200:
            if status in REDIRECT_STATUSES:
                raise VaultAuthError(f"AppRole login failed, {self._failure(response, text, what)}")
            # A login answer is never retried (POST): one attempt, say none.
            reason = reasons.answer_reason(status, text, self._secrets, retried=False)
            raise VaultAuthError(f"AppRole login failed, {reason}: {self._at(what)}")
        try:
            auth = json.loads(text).get("auth") or {}
            token = auth["client_token"]
            ttl = float(auth.get("lease_duration") or 0)
        except (ValueError, TypeError, KeyError, AttributeError):
            token = None
        if not isinstance(token, str) or not token:
            raise VaultAuthError(f"AppRole login answered without a client token: {self._at(what)}")
        log.debug(
            "AppRole login at %s: %s token, TTL %gs",
            self._where, auth.get("token_type", "unknown"), ttl,
        )  # fmt: skip
        expires = started + ttl - min(RENEW_MARGIN, ttl / 10) if ttl > 0 else None
        return token, expires

    # -- the hvac client -------------------------------------------------

    def _hvac(self) -> Any:
        client = self._client
        if client is not None and not self._closed:
            return client  # built already: no lock
        with self._lock:
            if self._closed:
                raise ProviderError(f"the Vault client for {self._where} is closed")
            if self._client is None:
                self._client = self._build()
            return self._client

    def _build(self) -> Any:
        config = self.config
        if not config.verify:
            log.warning(
                "VAULT_SKIP_VERIFY is set: the TLS certificate of %s is not verified",
                config.where,
            )
        try:
            context = tls_context(config.tls)
            if config.address.lower().startswith("https:"):
                ensure_trust(context)  # a bad CA file fails here, named
        except (OSError, ValueError) as error:
            why = (
                reasons.CLIENT_CERT_UNREADABLE
                if config.tls.client is not None and "PEM" in str(error) and config.tls.ca is None
                else reasons.CA_UNREADABLE
            )
            raise ProviderError(f"{why}: Vault {config.where}") from None
        session = VaultSession(config, context)
        return hvac.Client(
            url=config.address,
            # Never the ambient VAULT_TOKEN or ~/.vault-token: ours, or none
            # (an agent adds its own).
            token=self._token or "",
            cert=(),  # nor the ambient VAULT_CLIENT_CERT: the context holds ours
            verify=config.verify,
            # Socket timeouts a little beyond the call's total deadline: the
            # watchdog ends a slow call first, so that a read timeout never
            # starts a retry the deadline would cut anyway.
            timeout=(config.timeout, config.timeout + SOCKET_MARGIN),
            session=session,
            adapter=hvac.adapters.RawAdapter,
            namespace=config.namespace,
            ignore_exceptions=True,  # every status is explained here
        )

    def close(self) -> None:
        """Close connections and forget the token."""
        with self._lock:
            self._closed = True
            client, self._client = self._client, None
            self._token = None
        if client is not None:
            client.token = ""
            client.adapter.close()


def _not_found_reason(text: str, api: ApiPath) -> str:
    """Tell apart a missing secret from a deleted or destroyed KV v2 version."""
    try:
        body = json.loads(text)
        metadata = body["data"]["metadata"]
        version = metadata.get("version", api.version)
        destroyed = metadata.get("destroyed") is True
        deleted = bool(metadata.get("deletion_time"))
    except (ValueError, TypeError, KeyError, AttributeError):
        return "not found (HTTP 404)"
    if destroyed:
        return f"version {version} was destroyed (HTTP 404)"
    if deleted:
        return f"version {version} was deleted (HTTP 404; it can be undeleted)"
    return "not found (HTTP 404)"
