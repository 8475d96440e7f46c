"""One Vault client: reads over a retrying urllib3 pool, the AppRole login over
hvac and a retrying session, a token, at most one login at a time.

Imported on the first fetch only (it imports hvac and requests). Every error
names the request path and the server, never a token, a secret ID or a value.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import threading
import time
import urllib.parse
import weakref
from collections.abc import Mapping
from concurrent.futures import Future
from typing import Any

import hvac
import hvac.adapters
import requests
import urllib3
import urllib3.exceptions

from envsecrets import ProviderError, SecretNotFound
from envsecrets.values import parse_json
from envsecrets_vault import http11, transport
from envsecrets_vault.config import VaultConfig
from envsecrets_vault.paths import ApiPath

log = logging.getLogger(__name__)

#: Where AppRole logs in (the ``approle`` auth mount, as in the original agent).
LOGIN_PATH = "/v1/auth/approle/login"

#: Log in again this long before the token's TTL runs out (at most 10% of it).
RENEW_MARGIN = 30.0

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


class VaultAuthError(ProviderError):
    """The AppRole login failed (wrong role ID or secret ID, or no token in the answer)."""


class CredentialsRejected(VaultAuthError):
    """Vault refused the AppRole credentials: no later login can succeed with them."""


class VaultClient:
    """Reads API paths of one Vault server with one token.

    Thread-safe. With AppRole, the first read logs in (under a lock, so
    concurrent reads cause one login), the token is reused until its TTL
    nearly runs out, and a 403 causes one more login and one retry (the
    token may have been revoked or outlived its TTL).
    """

    def __init__(self, config: VaultConfig) -> None:
        self.config = config
        self._lock = threading.Lock()  # the hvac client and the closed flag
        # Serialises logins. Not self._lock: close() must not wait for a
        # login hung on a dead server (the deadline has given up on it).
        self._login_lock = threading.Lock()
        self._client: Any = None  # hvac.Client, built on first use
        self._reads: http11.Pool | None = None  # reads, without a proxy
        self._reads_error: str | None = None  # why that pool could not be built
        self._target_prefix = ""  # the path of VAULT_ADDR, before /v1/...
        self._direct_headers: dict[str, str] = {}
        self._pool: Any = None  # urllib3 pool manager for reads through a proxy
        self._base_headers: dict[str, str] = {}
        self._ca_path: str | None = None  # a VAULT_CACERT file requests would check
        self._via_requests = False  # reads go through requests (a SOCKS proxy)
        self._retry = transport.build_retry()
        self._timeout = transport.timeout_for(config.timeout)
        self._token: str | None = config.token
        self._expires: float | None = None  # monotonic time to log in again
        self._generation = 0  # bumped at each login
        self._attempts = 0  # login attempts, successful or not
        self._login_error: ProviderError | None = None
        self._rejected: CredentialsRejected | None = None  # sticky: the env is fixed
        self._ca_file: str | None = None
        self._ca_cleanup: weakref.finalize[[str], VaultClient] | None = None
        self._closed = False
        self._inflight_lock = threading.Lock()
        self._inflight: dict[ApiPath, Future[Mapping[str, object]]] = {}

    def __repr__(self) -> str:
        auth = "approle" if self.config.uses_approle else "token"
        return f"<VaultClient {self.config.where} auth={auth}>"

    # -- reading ---------------------------------------------------------

    def read(self, api: ApiPath) -> Mapping[str, object]:
        """GET *api* and return the JSON body of a 200 answer.

        Concurrent reads of one API path (``app`` and ``secret/data/app``
        name the same one) share a single request.

        :raise SecretNotFound: on 404 (naming a deleted or destroyed KV v2 version).
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
        client = self._hvac()
        token, generation = self._token_for_request(client)
        status, text = self._get(client, api, token)
        if status == 403 and self.config.uses_approle:
            log.debug("HTTP 403 for %s at %s: one more login", api.describe(), self.config.where)
            self._login_again(client, generation)
            token, _ = self._token_for_request(client)
            status, text = self._get(client, api, token)
        return self._body(status, text, api)

    def _body(self, status: int, text: str, api: ApiPath) -> Mapping[str, object]:
        where = f"GET {api.describe()} at Vault {self.config.where}"
        if status == 404:
            raise SecretNotFound(f"{_not_found_reason(text, api)}: {where}")
        if status != 200:
            raise ProviderError(f"{_status_reason(status)}: {where}")
        try:
            body = parse_json(text)
        except ProviderError:
            body = None
        if not isinstance(body, Mapping):
            raise ProviderError(f"Vault answered with something that is not a JSON object: {where}")
        return body

    def _get(self, client: Any, api: ApiPath, token: str | None) -> tuple[int, str]:
        """GET *api*: its status and its body as text.

        Through the direct pool (:mod:`envsecrets_vault.http11`) unless a
        proxy is set: then through urllib3, or requests for a SOCKS proxy.
        The same request hvac and requests would send (headers, retries,
        timeouts, TLS), without their per-request machinery.
        """
        shown = api.describe()
        if self._ca_path is not None and not os.path.exists(self._ca_path):
            # As requests checks the bundle path before connecting.
            raise ProviderError(
                f"{transport.CA_UNREADABLE}: GET {shown} at Vault {self.config.where}"
            )
        if self._reads is not None:
            status, data = self._get_direct(self._reads, api, token)
        elif self._reads_error is not None:
            raise ProviderError(f"{self._reads_error}: GET {shown} at Vault {self.config.where}")
        elif self._pool is not None:
            status, data = self._get_proxied(self._pool, api, token)
        elif self._via_requests:  # a SOCKS proxy
            response = self._send(client, "get", api.url, shown, token, params=api.params)
            return response.status_code, response.text
        else:  # closed meanwhile
            raise ProviderError(f"the Vault client for {self.config.where} is closed")
        log.debug("GET %s at %s: HTTP %d", shown, self.config.where, status)
        try:
            return status, data.decode("utf-8")
        except UnicodeDecodeError:
            # Never "replace": a mangled byte would become a wrong secret.
            raise ProviderError(
                f"Vault answered with bytes that are not UTF-8: GET {shown} at Vault "
                f"{self.config.where}"
            ) from None

    def _get_proxied(self, pool: Any, api: ApiPath, token: str | None) -> tuple[int, bytes]:
        """GET *api* through the urllib3 pool (a proxy is set)."""
        shown = api.describe()
        url = self.config.address + api.url
        if api.version is not None:
            url += f"?version={api.version}"
        headers = self._base_headers.copy()
        if token:
            headers["X-Vault-Token"] = token
        # urllib3 retries up to the headers; a body cut after them surfaces
        # while reading it: one more try for that too.
        try:
            for attempt in (1, 2):
                answer = pool.urlopen(
                    "GET",
                    url,
                    headers=headers,
                    retries=self._retry,
                    timeout=self._timeout,
                    preload_content=False,
                )
                try:
                    data: bytes = answer.read()
                    break
                except urllib3.exceptions.ProtocolError:
                    if attempt == 2:
                        raise
                    log.debug("GET %s at %s: answer cut short, one more try",
                              shown, self.config.where)  # fmt: skip
                finally:
                    answer.release_conn()
        except (urllib3.exceptions.HTTPError, OSError, ValueError) as error:
            why = transport.reason(error, self.config.timeout)
            # from None: the chained exception may hold the request.
            raise ProviderError(f"{why}: GET {shown} at Vault {self.config.where}") from None
        status: int = answer.status
        return status, data

    def _get_direct(self, reads: http11.Pool, api: ApiPath, token: str | None) -> tuple[int, bytes]:
        """GET *api* through the direct pool, with the retries of the urllib3
        path: up to RETRIES more tries for a failed connect or a retryable
        status (with backoff), one more for an answer cut or timed out."""
        shown = api.describe()
        target = self._target_prefix + api.url
        if api.version is not None:
            target += f"?version={api.version}"
        headers = self._direct_headers
        if token:
            headers = {**headers, "X-Vault-Token": token}
        retries = read_retries = 0
        while True:
            try:
                status, data = reads.get(target, headers)
            except http11.HTTPError as error:
                timed_out = isinstance(error, http11.Timeout) and error.sent
                read_error = timed_out or (
                    isinstance(error, http11.CutShort) and not error.before_answer
                )
                retryable = not isinstance(
                    error, (http11.TLSError, http11.BadAnswer, http11.BadRequest)
                )
                if read_error:
                    retryable = read_retries < 1
                    read_retries += 1
                if not retryable or retries >= transport.RETRIES:
                    why = transport.direct_reason(error, self.config.timeout)
                    raise ProviderError(
                        f"{why}: GET {shown} at Vault {self.config.where}"
                    ) from None
                retries += 1
                log.debug("GET %s at %s: %s, try %d", shown, self.config.where, error, retries + 1)
            else:
                if status not in transport.RETRY_STATUSES or retries >= transport.RETRIES:
                    break
                retries += 1
                log.debug("GET %s at %s: HTTP %d, try %d",
                          shown, self.config.where, status, retries + 1)  # fmt: skip
            time.sleep(transport.backoff(retries))
        return status, data

    def _send(
        self,
        client: Any,
        method: str,
        url: str,
        shown: str,
        token: str | None,
        **kwargs: Any,
    ) -> requests.Response:
        headers = {"X-Vault-Token": token} if token else {}
        # urllib3 retries up to the headers; a body cut after them surfaces
        # later, in requests: a GET gets one more try for that too.
        tries = 2 if method == "get" else 1
        try:
            for attempt in range(1, tries + 1):
                try:
                    response: requests.Response = client.adapter.request(
                        method, url, headers=headers, raise_exception=False, **kwargs
                    )
                    break
                except requests.exceptions.ChunkedEncodingError:
                    if attempt == tries:
                        raise
                    log.debug("%s %s at %s: answer cut short, one more try",
                              method.upper(), shown, self.config.where)  # fmt: skip
        except (requests.RequestException, OSError, ValueError) as error:
            why = transport.reason(error, self.config.timeout)
            # from None: the chained exception holds the request, headers included.
            raise ProviderError(
                f"{why}: {method.upper()} {shown} at Vault {self.config.where}"
            ) from None
        status = response.status_code
        log.debug("%s %s at %s: HTTP %d", method.upper(), shown, self.config.where, status)
        return response

    # -- the token -------------------------------------------------------

    def _token_for_request(self, client: Any) -> tuple[str | None, int]:
        attempts_seen = self._attempts  # read before waiting for the lock
        with self._login_lock:
            if self.config.uses_approle and self._needs_login():
                if self._rejected is not None:
                    # Credentials from a fixed environment stay wrong: say
                    # so again without sending them again.
                    raise CredentialsRejected(str(self._rejected))
                if self._attempts != attempts_seen and self._login_error is not None:
                    # A login failed while we waited: share its outcome
                    # instead of sending the same credentials again.
                    raise type(self._login_error)(str(self._login_error))
                self._login(client)
            return self._token, self._generation

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
            self._token, self._expires = self._approle_login(client, started)
            self._generation += 1
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
        where = f"POST {LOGIN_PATH} at Vault {self.config.where}"
        payload = {"role_id": self.config.role_id, "secret_id": self.config.secret_id}
        response = self._send(client, "post", LOGIN_PATH, LOGIN_PATH, None, json=payload)
        status = response.status_code
        if status in (400, 401, 403):
            raise CredentialsRejected(
                f"AppRole login failed: wrong VAULT_APP_ROLE_ID or VAULT_APP_ROLE_SECRET_ID, "
                f"or the secret ID expired (HTTP {status}): {where}"
            )
        if status != 200:
            # A login answer is never retried (POST): one attempt, say none.
            reason = _status_reason(status, retried=False)
            raise VaultAuthError(f"AppRole login failed, {reason}: {where}")
        try:
            auth = response.json().get("auth") or {}
            token = auth["client_token"]
            ttl = float(auth.get("lease_duration") or 0)
        except (ValueError, TypeError, KeyError, AttributeError):
            token = None
        if not isinstance(token, str) or not token:
            raise VaultAuthError(f"AppRole login answered without a client token: {where}")
        log.debug(
            "AppRole login at %s: %s token, TTL %gs",
            self.config.where, auth.get("token_type", "unknown"), ttl,
        )  # fmt: skip
        expires = started + ttl - min(RENEW_MARGIN, ttl / 10) if ttl > 0 else None
        return token, expires

    # -- the hvac client -------------------------------------------------

    def _hvac(self) -> Any:
        with self._lock:
            if self._closed:
                raise ProviderError(f"the Vault client for {self.config.where} is closed")
            if self._client is None:
                self._client = self._build()
            return self._client

    def _build(self) -> Any:
        verify = self._verify()
        session = transport.build_session(verify, self.config.proxy)
        # The headers hvac's RawAdapter and requests would send with a read.
        headers = dict(requests.utils.default_headers())
        headers["X-Vault-Request"] = "true"
        if self.config.namespace:
            headers["X-Vault-Namespace"] = self.config.namespace
        self._base_headers = headers
        self._ca_path = verify if isinstance(verify, str) else None
        tls = self.config.address.lower().startswith("https:")
        if self.config.proxy:
            self._pool = transport.build_pool(verify, self.config.proxy, {}, tls=tls)
            self._via_requests = self._pool is None
        else:
            self._build_direct(verify, tls, headers)
        return hvac.Client(
            url=self.config.address,
            token="",  # never the ambient VAULT_TOKEN or ~/.vault-token: we send ours
            cert=(),  # nor the ambient VAULT_CLIENT_CERT
            verify=verify,
            timeout=self.config.timeout,
            session=session,
            adapter=hvac.adapters.RawAdapter,
            namespace=self.config.namespace,
        )

    def _build_direct(self, verify: bool | str, tls: bool, headers: Mapping[str, str]) -> None:
        """The direct read pool (:mod:`envsecrets_vault.http11`), or why not."""
        parts = urllib.parse.urlsplit(self.config.address)
        self._target_prefix = parts.path.rstrip("/")
        # No Accept-Encoding: the direct pool reads bodies as sent, uncompressed.
        self._direct_headers = {
            name: value
            for name, value in headers.items()
            if name.lower() not in {"accept-encoding", "connection"}
        }
        try:
            context = transport.tls_context(verify) if tls else None
            port = parts.port or (443 if tls else 80)
        except (OSError, ValueError):
            self._reads_error = transport.CA_UNREADABLE
            return
        self._reads = http11.Pool(
            parts.hostname or "",
            port,
            ssl_context=context,
            timeout=self.config.timeout,
            maxsize=transport.POOL_SIZE,
        )

    def _verify(self) -> bool | str:
        if not self.config.verify:
            log.warning(
                "VAULT_SKIP_VERIFY is set: the TLS certificate of %s is not verified",
                self.config.where,
            )
            return False
        ca = self.config.ca
        if ca is None:
            return True
        if ca.path is not None:
            return ca.path
        assert ca.pem is not None
        # requests wants a file: a private one (mkstemp makes it 0600),
        # removed on close() or, failing that, when this client is collected.
        fd, path = tempfile.mkstemp(prefix="envsecrets-vault-ca-", suffix=".pem")
        try:
            os.write(fd, ca.pem.encode("utf-8"))
        finally:
            os.close(fd)
        self._ca_file = path
        self._ca_cleanup = weakref.finalize(self, _remove, path)
        return path

    @property
    def ca_file(self) -> str | None:
        """The private CA file written for an inline or base64 VAULT_CACERT, if any."""
        return self._ca_file

    def close(self) -> None:
        """Close connections, forget the token, remove the private CA file."""
        with self._lock:
            self._closed = True
            client, self._client = self._client, None
            pool, self._pool = self._pool, None
            reads, self._reads = self._reads, None
            self._token = None
        if client is not None:
            client.adapter.close()
        if pool is not None:
            pool.clear()
        if reads is not None:
            reads.close()
        if self._ca_cleanup is not None:
            self._ca_cleanup()
            self._ca_file = None


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)


def _status_reason(status: int, *, retried: bool = True) -> str:
    if status in _STATUS_REASONS:
        reason = _STATUS_REASONS[status]
    elif status >= 500:
        reason = f"server error (HTTP {status})"
    else:
        reason = f"unexpected answer (HTTP {status})"
    if retried and status in transport.RETRY_STATUSES:
        reason += f", {transport.RETRIES + 1} attempts"
    return reason


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
