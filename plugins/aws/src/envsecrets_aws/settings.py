"""Client settings, read from the provider's ``environ`` (the process
environment for the CLI), and the variables the provider declares.

Nothing here imports botocore: reading settings is cheap and happens before
the first request.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from envsecrets import ProviderError
from envsecrets.registry import FIRST_PARTY_CREDENTIALS

__all__ = [
    "CREDENTIALS",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_MAX_ATTEMPTS",
    "DEFAULT_READ_TIMEOUT",
    "SETTINGS",
    "AWSConfigurationError",
    "Settings",
]

DEFAULT_CONNECT_TIMEOUT = 3.0
DEFAULT_READ_TIMEOUT = 10.0
DEFAULT_MAX_ATTEMPTS = 3

#: The variables that are credentials, or point at them: ``envsecrets run``
#: keeps them from the child, and the provider keeps them out of every log
#: line. With a pointer (a container credentials URI, a web identity token
#: file, a role, a profile or its files) botocore in the child would obtain
#: the agent's own keys. The list is the core's
#: (``envsecrets.registry.FIRST_PARTY_CREDENTIALS``): one list, which keeps
#: them from the child even when this plugin is not loaded.
CREDENTIALS = FIRST_PARTY_CREDENTIALS["envsecrets-aws"]

#: Every variable that configures the client: those read here, and those
#: botocore reads itself for the credential chain (profiles, SSO, web
#: identity, container and instance roles, the STS client of an assumed
#: role), endpoints, TLS and proxies. A pattern ends with "*".
SETTINGS = CREDENTIALS | frozenset(
    {
        # region, endpoint, profile and files
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ENDPOINT_URL*",
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
        "AWS_USE_FIPS_ENDPOINT",
        "AWS_USE_DUALSTACK_ENDPOINT",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
        "AWS_DATA_PATH",
        "AWS_DEFAULTS_MODE",
        "AWS_CA_BUNDLE",
        # how requests are shaped and sent
        "AWS_DISABLE_HOST_PREFIX_INJECTION",
        "AWS_DISABLE_REQUEST_COMPRESSION",
        "AWS_REQUEST_MIN_COMPRESSION_SIZE_BYTES",
        "AWS_REQUEST_CHECKSUM_CALCULATION",
        "AWS_RESPONSE_CHECKSUM_VALIDATION",
        "AWS_ENDPOINT_DISCOVERY_ENABLED",
        "AWS_SDK_UA_APP_ID",
        "AWS_CSM_*",
        "BOTOCORE_TCP_KEEPALIVE",
        # the credential chain
        "AWS_CREDENTIAL_EXPIRATION",
        "AWS_ACCOUNT_ID",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE",
        "AWS_ROLE_ARN",
        "AWS_ROLE_SESSION_NAME",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_*",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
        "AWS_EC2_METADATA_*",
        "AWS_METADATA_SERVICE_*",
        "AWS_IMDS_USE_IPV6",
        "AWS_STS_REGIONAL_ENDPOINTS",
        "AWS_LOGIN_CACHE_DIRECTORY",
        "AWS_AUTH_SCHEME_PREFERENCE",
        "AWS_SIGV4A_SIGNING_REGION_SET",
        # retries of the credential chain's own clients (STS, SSO); the
        # Secrets Manager client uses the ENVSECRETS_AWS_* values instead
        "AWS_MAX_ATTEMPTS",
        "AWS_RETRY_MODE",
        # botocore sends through the proxies urllib names
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "NO_PROXY",
        "http_proxy",
        "https_proxy",
        "no_proxy",
        # this plugin's own
        "ENVSECRETS_AWS_CONNECT_TIMEOUT",
        "ENVSECRETS_AWS_READ_TIMEOUT",
        "ENVSECRETS_AWS_MAX_ATTEMPTS",
        "ENVSECRETS_AWS_BATCH",
    }
)

_CONTAINER_TOKEN = ("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_CONTAINER_AUTHORIZATION_TOKEN")
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
    #: The variables the region, endpoint and profile came from, for messages.
    region_variable: str | None = None
    endpoint_variable: str | None = None
    profile_variable: str | None = None
    #: Where botocore reads the container credentials token (the file wins, as in botocore).
    container_token_variable: str | None = None

    @property
    def longest_call(self) -> float:
        """Seconds one call may last against a server that stalls: each
        attempt waits up to connect_timeout, then read_timeout for each read,
        with botocore's standard backoff between attempts (at most 2**i s,
        plus 5 s when the answer asks for a later retry)."""
        backoff = sum(min(2.0**i, 20.0) + 5.0 for i in range(self.max_attempts - 1))
        return self.max_attempts * (self.connect_timeout + self.read_timeout) + backoff

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
        region_variable, region = _first(environ, "AWS_REGION", "AWS_DEFAULT_REGION")
        endpoint_variable, endpoint = _first(
            environ, "AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL"
        )
        # botocore's order for both: the older name wins when both are set.
        profile_variable, profile = _first(environ, "AWS_DEFAULT_PROFILE", "AWS_PROFILE")
        _, token = _first(environ, "AWS_SECURITY_TOKEN", "AWS_SESSION_TOKEN")
        return cls(
            region=region,
            endpoint_url=endpoint,
            access_key_id=access_key,
            secret_access_key=secret_key,
            session_token=token if access_key else None,
            profile=profile,
            config_file=_get(environ, "AWS_CONFIG_FILE"),
            credentials_file=_get(environ, "AWS_SHARED_CREDENTIALS_FILE"),
            ca_bundle=_get(environ, "AWS_CA_BUNDLE"),
            connect_timeout=_seconds(
                environ, "ENVSECRETS_AWS_CONNECT_TIMEOUT", DEFAULT_CONNECT_TIMEOUT
            ),
            read_timeout=_seconds(environ, "ENVSECRETS_AWS_READ_TIMEOUT", DEFAULT_READ_TIMEOUT),
            max_attempts=_attempts(environ, "ENVSECRETS_AWS_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS),
            batch=_flag(environ, "ENVSECRETS_AWS_BATCH", default=True),
            region_variable=region_variable,
            endpoint_variable=endpoint_variable,
            profile_variable=profile_variable,
            container_token_variable=next(
                (name for name in _CONTAINER_TOKEN if name in environ), None
            ),
        )


def _get(environ: Mapping[str, str], variable: str) -> str | None:
    value = environ.get(variable, "").strip()
    return value or None


def _first(environ: Mapping[str, str], *variables: str) -> tuple[str | None, str | None]:
    """The first of *variables* set in *environ*: its name and value."""
    for variable in variables:
        value = _get(environ, variable)
        if value is not None:
            return variable, value
    return None, None


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
