"""``vault-env-loader`` (PyPI), a Python Vault exec wrapper and library.

It cannot map a variable to one key of a secret; it imports whole secrets,
each key becoming a variable (``vault://secret/s000?prefix=S000_`` gives
``S000_K0``...). That expresses the fan-out data set exactly: 100 imports
give the same 1,000 variables and values. ``kv=2`` is given so that it skips
its per-import mount probe (the configuration most favourable to it). It
reads the imports one after another over ``urllib`` (a new connection per
request), after a ``lookup-self``; with AppRole it logs in once and revokes
the token at the end.
"""

from __future__ import annotations

from collections.abc import Mapping


def imports(secret_names: list[str]) -> list[str]:
    return [
        f"vault://secret/{name}?prefix={name.upper()}_&name=upper&kv=2" for name in secret_names
    ]


def resolve(secret_names: list[str], environ: Mapping[str, str]) -> dict[str, str]:
    import vault_env_loader

    options: dict[str, object] = {"addr": environ["VAULT_ADDR"], "imports": imports(secret_names)}
    if environ.get("VAULT_TOKEN"):
        options["token"] = environ["VAULT_TOKEN"]
    else:
        options["role_id"] = environ["VAULT_APP_ROLE_ID"]
        options["secret_id"] = environ["VAULT_APP_ROLE_SECRET_ID"]
    values: dict[str, str] = vault_env_loader.fetch(env={}, **options)
    return values
