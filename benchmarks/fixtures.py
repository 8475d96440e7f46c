"""The fan-out data set: K secrets of 10 keys each, seeded straight into moto
and OpenBao (not through the proxy), and the environments that reference them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from testservers.moto import secretsmanager
from testservers.openbao import OpenBao

KEYS_PER_SECRET = 10
ROLE = "bench"
POLICY = 'path "secret/data/*" { capabilities = ["read"] }\n'


def secret_name(index: int) -> str:
    return f"s{index:03d}"


def document(index: int) -> dict[str, str]:
    """Secret *index*: keys k0..k9, each value unique to (secret, key)."""
    return {f"k{key}": f"value-{index}-{key}" for key in range(KEYS_PER_SECRET)}


def variable(index: int, key: int) -> str:
    return f"S{index:03d}_K{key}"


@dataclass(frozen=True)
class FanOut:
    """K distinct secrets and the K * 10 variables that reference them."""

    secrets: int

    @property
    def variables(self) -> int:
        return self.secrets * KEYS_PER_SECRET

    def expected(self) -> dict[str, str]:
        """Variable name -> the value it must resolve to."""
        return {
            variable(i, k): f"value-{i}-{k}"
            for i in range(self.secrets)
            for k in range(KEYS_PER_SECRET)
        }

    def env(self, prefix: str) -> dict[str, str]:
        """The references: ``_aws:bench/s000:k0`` or ``_vaultkv2:secret/data/s000:k0``."""
        names = {
            "aws": lambda i: f"bench/{secret_name(i)}",
            # The KV v2 form the original agent requires (mount/data/path),
            # which envsecrets reads as written: every contender reads
            # /v1/secret/data/sNNN.
            "vaultkv2": lambda i: f"secret/data/{secret_name(i)}",
        }[prefix]
        return {
            variable(i, k): f"_{prefix}:{names(i)}:k{k}"
            for i in range(self.secrets)
            for k in range(KEYS_PER_SECRET)
        }

    def seed_aws(self, moto_url: str) -> None:
        client = secretsmanager(moto_url)
        for i in range(self.secrets):
            client.create_secret(
                Name=f"bench/{secret_name(i)}", SecretString=json.dumps(document(i))
            )

    def seed_vault(self, bao: OpenBao) -> tuple[str, str]:
        """Write the secrets under mount ``secret``; return an AppRole (role_id, secret_id)."""
        for i in range(self.secrets):
            bao.kv_put("secret", secret_name(i), document(i))
        bao.put_policy(ROLE, POLICY)
        return bao.approle(ROLE, token_policies=[ROLE], token_ttl="1h", secret_id_num_uses=0)
