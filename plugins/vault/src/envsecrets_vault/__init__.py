"""envsecrets provider for HashiCorp Vault and OpenBao KV secrets: ``_vaultkv1:PATH:KEY`` and
``_vaultkv2:PATH[?version=N]:KEY``. hvac and requests load on the first fetch, never on import."""

from __future__ import annotations

from collections.abc import Sequence

import envsecrets
from envsecrets_vault.provider import VaultKV1Provider, VaultKV2Provider, VaultProvider

__all__ = ["VaultKV1Provider", "VaultKV2Provider", "VaultProvider", "envsecrets_providers"]


@envsecrets.hookimpl
def envsecrets_providers() -> Sequence[type[envsecrets.Provider]]:
    """Register the ``_vaultkv1`` and ``_vaultkv2`` providers."""
    return [VaultKV1Provider, VaultKV2Provider]
