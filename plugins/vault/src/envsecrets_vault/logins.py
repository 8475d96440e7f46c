"""How each ``VAULT_AUTH_METHOD`` logs in: one hvac call each, in a table. The JWT of ``jwt`` and
``kubernetes`` is read from its file at every login (projected tokens rotate), never kept after it
and never logged. Imported on the first fetch only (it imports hvac)."""

from __future__ import annotations

from collections.abc import Callable

import hvac
import requests

from envsecrets_vault.config import VaultConfig

Login = Callable[[hvac.Client, VaultConfig, str], requests.Response]


def _cert(client: hvac.Client, config: VaultConfig, _: str) -> requests.Response:
    # The session's TLS context presents VAULT_CLIENT_CERT; hvac wants the files named too.
    cert = config.tls.client
    assert cert is not None  # load_config refuses cert without one
    return client.auth.cert.login(  # type: ignore[no-any-return]
        name=config.auth_role or "", cert_pem=cert.cert_file, key_pem=cert.key_file or "",
        mount_point=config.auth_mount, use_token=False,
    )  # fmt: skip


#: Method -> (its name in messages, what a refusal means, the hvac call).
METHODS: dict[str, tuple[str, str, Login]] = {
    "approle": (
        "AppRole",
        "wrong VAULT_APP_ROLE_ID or VAULT_APP_ROLE_SECRET_ID, or the secret ID expired",
        lambda client, config, _: client.auth.approle.login(
            role_id=config.role_id, secret_id=config.secret_id,
            mount_point=config.auth_mount, use_token=False,
        ),
    ),
    "jwt": (
        "JWT",
        "Vault refused the JWT of VAULT_AUTH_JWT_FILE ({jwt_file}) for role {role!r}",
        lambda client, config, jwt: client.auth.jwt.jwt_login(
            role=config.auth_role, jwt=jwt, path=config.auth_mount, use_token=False
        ),
    ),
    "kubernetes": (
        "Kubernetes",
        "Vault refused the service-account token of {jwt_file} for role {role!r}",
        lambda client, config, jwt: client.auth.kubernetes.login(
            role=config.auth_role, jwt=jwt, mount_point=config.auth_mount, use_token=False
        ),
    ),
    "cert": (
        "TLS certificate",
        "Vault refused the client certificate of VAULT_CLIENT_CERT ({cert}) for {role}",
        _cert,
    ),
}  # fmt: skip


def refused(config: VaultConfig) -> str:
    """What a refused login of *config*'s method means, with its role and files."""
    client = config.tls.client
    return METHODS[config.method][1].format(
        jwt_file=config.jwt_file,
        role=config.auth_role if config.method != "cert" else
        f"role {config.auth_role!r}" if config.auth_role else "any role",
        cert=client.cert_file if client else "",
    )  # fmt: skip


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
