"""Client settings, read from the agent's environment (never ``os.environ``).

Nothing here imports boto3: reading settings is cheap and happens before
the first request.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from envsecrets import ProviderError

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_MAX_ATTEMPTS",
    "DEFAULT_READ_TIMEOUT",
    "AWSConfigurationError",
    "Settings",
]

DEFAULT_CONNECT_TIMEOUT = 3.0
DEFAULT_READ_TIMEOUT = 10.0
DEFAULT_MAX_ATTEMPTS = 3

_FALSE = {"0", "false", "no", "off"}
_TRUE = {"1", "true", "yes", "on"}


class AWSConfigurationError(ProviderError):
    """The AWS client cannot be built: no region, half a key pair, a bad option."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything needed to build the Secrets Manager client."""

    region: str | None
    endpoint_url: str | None
    access_key_id: str | None = field(default=None, repr=False)
    secret_access_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)
    profile: str | None = None
    config_file: str | None = None
    credentials_file: str | None = None
    ca_bundle: str | None = None
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    batch: bool = True

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Settings:
        """Read the settings from *environ*.

        :raise AWSConfigurationError: for half a key pair or a bad option.
        """
        access_key = _get(environ, "AWS_ACCESS_KEY_ID")
        secret_key = _get(environ, "AWS_SECRET_ACCESS_KEY")
        if (access_key is None) != (secret_key is None):
            present, missing = (
                ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
                if access_key is not None
                else ("AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID")
            )
            raise AWSConfigurationError(
                f"{present} is set but {missing} is not: set both or neither"
            )
        return cls(
            region=_get(environ, "AWS_REGION") or _get(environ, "AWS_DEFAULT_REGION"),
            endpoint_url=_get(environ, "AWS_ENDPOINT_URL_SECRETS_MANAGER")
            or _get(environ, "AWS_ENDPOINT_URL"),
            access_key_id=access_key,
            secret_access_key=secret_key,
            session_token=_get(environ, "AWS_SESSION_TOKEN") if access_key else None,
            profile=_get(environ, "AWS_PROFILE"),
            config_file=_get(environ, "AWS_CONFIG_FILE"),
            credentials_file=_get(environ, "AWS_SHARED_CREDENTIALS_FILE"),
            ca_bundle=_get(environ, "AWS_CA_BUNDLE"),
            connect_timeout=_seconds(
                environ, "ENVSECRETS_AWS_CONNECT_TIMEOUT", DEFAULT_CONNECT_TIMEOUT
            ),
            read_timeout=_seconds(environ, "ENVSECRETS_AWS_READ_TIMEOUT", DEFAULT_READ_TIMEOUT),
            max_attempts=_attempts(environ, "ENVSECRETS_AWS_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS),
            batch=_flag(environ, "ENVSECRETS_AWS_BATCH", default=True),
        )


def _get(environ: Mapping[str, str], variable: str) -> str | None:
    value = environ.get(variable, "").strip()
    return value or None


def _seconds(environ: Mapping[str, str], variable: str, default: float) -> float:
    raw = _get(environ, variable)
    if raw is None:
        return default
    try:
        seconds = float(raw.removesuffix("s"))
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds <= 0:
        raise AWSConfigurationError(f"{variable} must be a positive number of seconds")
    return seconds


def _attempts(environ: Mapping[str, str], variable: str, default: int) -> int:
    raw = _get(environ, variable)
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= 10:
        raise AWSConfigurationError(f"{variable} must be a whole number from 1 to 10")
    return int(raw)


def _flag(environ: Mapping[str, str], variable: str, *, default: bool) -> bool:
    raw = _get(environ, variable)
    if raw is None:
        return default
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise AWSConfigurationError(f"{variable} must be true or false")
