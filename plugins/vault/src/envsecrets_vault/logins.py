"""How each ``VAULT_AUTH_METHOD`` logs in: one hvac call each, in a table. The JWT of ``jwt`` and
``kubernetes`` is read from its file at every login (projected tokens rotate), never kept after it
and never logged. Imported on the first fetch only (it imports hvac)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import hvac
import requests

from envsecrets_vault.config import VaultConfig

Login = Callable[[hvac.Client, VaultConfig, str], requests.Response]


def _files(config: VaultConfig) -> dict[str, Any]:
    # The session's TLS context presents VAULT_CLIENT_CERT: hvac wants its files named too.
    client = config.tls.client
    return {"cert_pem": client.cert_file, "key_pem": client.key_file or ""} if client else {}


#: Method -> (its name in messages, its hvac call; the call's third argument is the file's JWT, or
#: "" for the methods without one).
# fmt: off
METHODS: dict[str, tuple[str, Login]] = {
    "approle": ("AppRole", lambda client, c, _: client.auth.approle.login(
        role_id=c.role_id, secret_id=c.secret_id, mount_point=c.auth_mount, use_token=False)),
    "jwt": ("JWT", lambda client, c, jwt: client.auth.jwt.jwt_login(
        role=c.auth_role, jwt=jwt, path=c.auth_mount, use_token=False)),
    "kubernetes": ("Kubernetes", lambda client, c, jwt: client.auth.kubernetes.login(
        role=c.auth_role, jwt=jwt, mount_point=c.auth_mount, use_token=False)),
    "cert": ("TLS certificate", lambda client, c, _: client.auth.cert.login(
        name=c.auth_role or "", mount_point=c.auth_mount, use_token=False, **_files(c))),
}
# fmt: on


def refused(config: VaultConfig) -> str:
    """What a refused login means, naming the variables, files and role (never a credential)."""
    if config.method == "approle":
        return "wrong VAULT_APP_ROLE_ID or VAULT_APP_ROLE_SECRET_ID, or the secret ID expired"
    files, role = _files(config), config.auth_role
    what = f"the client certificate of VAULT_CLIENT_CERT ({files['cert_pem']})" if files else \
        f"the JWT of VAULT_AUTH_JWT_FILE ({config.jwt_file})"  # fmt: skip
    return f"Vault refused {what} for {f'role {role!r}' if role else 'any role'}"


def read_jwt(config: VaultConfig) -> str:
    """The JWT in *config*'s file, read now. :raise ValueError: naming the variable and the path
    (never the contents)."""
    named = f"the JWT file {config.jwt_file} (VAULT_AUTH_JWT_FILE)"
    try:
        with open(config.jwt_file or "", encoding="utf-8") as file:
            jwt = file.read().strip()
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"{named} cannot be read ({type(error).__name__})") from None
    if not jwt:
        raise ValueError(f"{named} is empty")
    return jwt
