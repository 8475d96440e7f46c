"""The ``_vaultkv1`` and ``_vaultkv2`` providers. Both share one client per resolver (the core's
:class:`~envsecrets.SharedState`), built on the first fetch (which imports hvac and requests); attrs
(the settings) loads when a provider is built."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, ClassVar

import envsecrets
from envsecrets import ProviderError, SecretNotFound
from envsecrets.errors import AccessDenied
from envsecrets.registry import FIRST_PARTY_CREDENTIALS
from envsecrets_vault.paths import DEFAULT_KV2_MOUNT, ApiPath, kv1_path, kv2_path, list_path

if TYPE_CHECKING:
    from envsecrets_vault.client import VaultClient
    from envsecrets_vault.config import VaultConfig

#: Every variable the providers read as configuration (from the process environment only), proxies
#: and OpenSSL's trust variables included.
# fmt: off
SETTINGS = frozenset({
    "VAULT_ADDR", "VAULT_AGENT_ADDR", "VAULT_TOKEN", "VAULT_APP_ROLE_ID",
    "VAULT_APP_ROLE_SECRET_ID", "VAULT_CACERT", "VAULT_CAPATH", "VAULT_CLIENT_CERT",
    "VAULT_CLIENT_KEY", "VAULT_SKIP_VERIFY", "VAULT_NAMESPACE", "VAULT_HTTP_REQ_TIMEOUT",
    "VAULT_DISABLE_REDIRECTS", "VAULT_AUTH_METHOD", "VAULT_AUTH_PATH", "VAULT_AUTH_ROLE",
    "VAULT_AUTH_JWT_FILE", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY",
    "http_proxy", "https_proxy", "all_proxy", "no_proxy", "SSL_CERT_FILE", "SSL_CERT_DIR",
})
# fmt: on
#: Among them, the credentials (kept from `envsecrets run`'s child): the core's list, which keeps
#: them from the child even when this plugin is not loaded.
CREDENTIALS = FIRST_PARTY_CREDENTIALS["envsecrets-vault"]


class VaultProvider(envsecrets.Provider):
    """Common part of the KV v1 and KV v2 providers: configuration and client."""

    #: KV engine version served: 1 or 2.
    kv_version: ClassVar[int]
    settings: ClassVar[frozenset[str]] = SETTINGS
    credentials: ClassVar[frozenset[str]] = CREDENTIALS
    name_hint: ClassVar[str] = "database/pg"
    key_hint: ClassVar[str] = "password"

    def __init__(self, environ: Mapping[str, str]) -> None:
        super().__init__(environ)  # the core's variables and shared state come with it
        from envsecrets_vault.config import load_config  # imports attrs

        # Read now so that a missing VAULT_ADDR fails `envsecrets check` too.
        self.config: VaultConfig = load_config(environ)
        self._client: VaultClient | None = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} prefix={self.prefix!r} vault={self.config.where}>"

    @classmethod
    def api_path(cls, name: str) -> ApiPath:
        """The API path a NAME reads (see :mod:`envsecrets_vault.paths`)."""
        return kv2_path(name) if cls.kv_version == 2 else kv1_path(name)

    @classmethod
    def split(cls, rest: str) -> tuple[str, str | None]:
        name, key = super().split(rest)
        # A bad path or version fails at parse time; aliases become one NAME.
        return cls.api_path(name).name, key

    def fetch(self, name: str) -> envsecrets.Document:
        api = self.api_path(name)
        return self.data(self.client().read(api), api)

    def data(self, body: Mapping[str, object], api: ApiPath) -> Mapping[str, object]:
        """The secret document in a 200 answer of Vault."""
        data = body.get("data")
        if not isinstance(data, Mapping):
            raise ProviderError(f"the answer holds no KV data object: {self._where(api)}")
        return data

    def prepare(self) -> None:
        """Import hvac and requests and build the client; the login waits
        for the first read."""
        self.client()

    def client(self) -> VaultClient:
        """The client of this provider, built on first use."""
        if self._client is None:
            from envsecrets_vault.client import VaultClient

            # Both prefixes read one environment, so one client serves both.
            make = functools.partial(VaultClient, self.config)
            self._client = self.shared.get_or_create(f"client:{self.config.where}", make)
        return self._client

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def list_names(self, prefix: str) -> Iterable[str]:
        """NAMEs under *prefix* (folders end with ``/``): one folder LISTed (a missing one lists
        nothing); without ``/``, the KV mounts the token sees (KV v2: the default mount's root too).

        :raise envsecrets.AccessDenied: when the policy does not allow LIST.
        """
        listing = list_path(prefix, self.kv_version)
        client = self.client()
        if listing is not None:
            keys = client.list_keys(listing, self.kv_version)
            return sorted(
                listing.name_prefix + key for key in keys if key.startswith(listing.start)
            )
        return sorted(name for name in self.root_names(client) if name.startswith(prefix))

    def root_names(self, client: VaultClient) -> list[str]:
        """What a prefix without ``/`` can complete to."""
        try:
            return client.kv_mounts(self.kv_version)
        except AccessDenied:  # a token without the default policy
            return []

    def _where(self, api: ApiPath) -> str:
        return f"GET {api.describe()} at Vault {self.config.where}"


class VaultKV1Provider(VaultProvider):
    """``_vaultkv1:PATH:KEY`` reads ``/v1/PATH``."""

    prefix = "vaultkv1"
    description = "HashiCorp Vault / OpenBao KV v1 (_vaultkv1:PATH:KEY)."
    kv_version = 1


class VaultKV2Provider(VaultProvider):
    """``_vaultkv2:PATH[?version=N]:KEY`` reads the KV v2 API path PATH maps to."""

    prefix = "vaultkv2"
    description = "HashiCorp Vault / OpenBao KV v2 (_vaultkv2:PATH[?version=N]:KEY)."
    kv_version = 2

    def root_names(self, client: VaultClient) -> list[str]:
        # A NAME without "/" reads the default mount: its secrets are named bare ("app"), its
        # folders in full ("secret/team/"), as the path rule reads them; the other KV v2 mounts are
        # folders ("kv/").
        listing = list_path(f"{DEFAULT_KV2_MOUNT}/", 2)
        assert listing is not None
        keys = client.list_keys(listing, 2)
        names = [f"{DEFAULT_KV2_MOUNT}/{key}" if key.endswith("/") else key for key in keys]
        # A nested mount ("team/kv/") is named in the form written out ("team/kv/data/app"): its
        # first segment alone is not the mount.
        mounts = [m if m.count("/") == 1 else m + "data/" for m in super().root_names(client)]
        return names + mounts

    def data(self, body: Mapping[str, object], api: ApiPath) -> Mapping[str, object]:
        envelope = body.get("data")
        if not isinstance(envelope, Mapping) or "data" not in envelope:
            raise ProviderError(
                f"the answer is not a KV v2 secret (is the mount KV v1? use _vaultkv1): "
                f"{self._where(api)}"
            )
        data = envelope["data"]
        if data is None:  # a deleted version, where Vault answers 200
            raise SecretNotFound(f"the version was deleted or destroyed: {self._where(api)}")
        if not isinstance(data, Mapping):
            raise ProviderError(f"the answer holds no KV data object: {self._where(api)}")
        return data
