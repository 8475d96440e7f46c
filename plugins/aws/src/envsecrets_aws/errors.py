"""AWS failures as envsecrets errors.

Every message names the secret and the AWS error code, never the server's
own message: botocore messages can echo request or response text, so they
are read (to tell a deleted secret from other invalid requests) but never
quoted.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from envsecrets import AccessDenied, ProviderError, SecretNotFound
from envsecrets.errors import quote_reference
from envsecrets_aws.settings import AWSConfigurationError

if TYPE_CHECKING:
    from envsecrets_aws.settings import Settings

__all__ = [
    "AWSAccessDenied",
    "AWSCredentialsError",
    "AWSDecryptionFailure",
    "AWSEndpointUnreachable",
    "AWSThrottled",
    "AWSTimeout",
    "NameListing",
    "SecretDeleted",
    "client_error",
    "config_error",
    "error_for_code",
    "listing_error",
    "transport_error",
]

SERVICE = "AWS Secrets Manager"


class Subject(Protocol):
    """What a request is about: a secret (SecretRef) or a listing."""

    @property
    def versioned(self) -> bool: ...

    def describe(self) -> str: ...


class NameListing:
    """The subject of a ListSecrets request: the names under a prefix."""

    versioned = False

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def describe(self) -> str:
        if not self.prefix:
            return "the secret names"
        return f"the secret names starting with '{quote_reference(self.prefix)}'"


class AWSAccessDenied(AccessDenied):
    """The caller may not read the secret, or list (AccessDeniedException)."""


class SecretDeleted(SecretNotFound):
    """The secret is scheduled for deletion; RestoreSecret brings it back."""


class AWSDecryptionFailure(ProviderError):
    """Secrets Manager could not decrypt the secret with its KMS key."""


class AWSThrottled(ProviderError):
    """Requests were throttled, still after the bounded retries."""


class AWSCredentialsError(ProviderError):
    """No credentials were found, or AWS rejected them."""


class AWSEndpointUnreachable(ProviderError):
    """The Secrets Manager endpoint could not be reached."""


class AWSTimeout(AWSEndpointUnreachable):
    """The endpoint did not answer within the configured timeout."""


_THROTTLING = {
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "ProvisionedThroughputExceededException",
}
_CREDENTIALS = {
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "MissingAuthenticationToken",
    "ExpiredToken",
    "ExpiredTokenException",
    "RequestExpired",
}
_SERVER = {"InternalServiceError", "InternalFailure", "ServiceUnavailable", "InternalServerError"}
_BAD_ID = {"InvalidParameterException", "ValidationException"}

# Error codes come from the server: quote them only when they look like one.
_CODE = re.compile(r"[A-Za-z][A-Za-z0-9.]{0,63}")


def safe_code(code: object) -> str:
    """Return *code* if it looks like an AWS error code, else a placeholder."""
    if isinstance(code, str) and _CODE.fullmatch(code):
        return code
    return "unrecognised error code"


def error_for_code(  # noqa: PLR0911 (one return per error family)
    code: object,
    secret: Subject,
    message: object = "",
    attempts: int = 1,
    status: int | None = None,
) -> ProviderError:
    """Return the error for an AWS error *code* about *secret*.

    :param message: the server's message; inspected, never quoted.
    :param attempts: requests made, retries included.
    :param status: the HTTP status, shown when the code says nothing (a proxy's 429).
    """
    what = secret.describe()
    shown = safe_code(code)
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    if code == "ResourceNotFoundException":
        if secret.versioned:
            return SecretNotFound(f"{SERVICE} has no {what}: no such secret or version ({shown})")
        return SecretNotFound(f"{SERVICE} has no {what} ({shown})")
    if code == "AccessDeniedException":
        return AWSAccessDenied(f"{SERVICE} denied access to {what} ({shown})")
    if code == "DecryptionFailure":
        return AWSDecryptionFailure(
            f"{SERVICE} could not decrypt {what} with its KMS key ({shown}); "
            "the caller needs kms:Decrypt on that key"
        )
    if code == "InvalidRequestException":
        if "delet" in str(message).lower():
            return SecretDeleted(
                f"{what} is scheduled for deletion in {SERVICE} ({shown}); "
                "restore it (RestoreSecret) or stop referencing it"
            )
        return ProviderError(f"{SERVICE} refused the request for {what} ({shown})")
    if code in _BAD_ID:
        return ProviderError(
            f"{SERVICE} rejected the id of {what} ({shown}); check the name or ARN"
        )
    if code in _THROTTLING:
        return AWSThrottled(f"{SERVICE} throttled the request for {what}{tries} ({shown})")
    if code in _CREDENTIALS:
        return AWSCredentialsError(f"AWS rejected the credentials used to read {what} ({shown})")
    if code in _SERVER:
        return ProviderError(f"{SERVICE} failed to serve {what}{tries} ({shown})")
    if status and shown != code:  # no AWS error code: the HTTP status is all there is
        return ProviderError(f"{SERVICE} could not return {what}{tries} (HTTP {status})")
    return ProviderError(f"{SERVICE} could not return {what} ({shown})")


def client_error(error: Any, secret: Subject) -> ProviderError:
    """Translate a botocore ``ClientError`` about *secret*."""
    response: Mapping[str, Any] = getattr(error, "response", None) or {}
    details = response.get("Error") or {}
    metadata = response.get("ResponseMetadata") or {}
    attempts = int(metadata.get("RetryAttempts") or 0) + 1
    status = metadata.get("HTTPStatusCode")
    return error_for_code(
        details.get("Code"),
        secret,
        details.get("Message", ""),
        attempts,
        status if isinstance(status, int) else None,
    )


def transport_error(  # noqa: PLR0911 (one return per error family)
    error: BaseException, secret: Subject, endpoint: str | None, settings: Settings | None = None
) -> ProviderError:
    """Translate a failure that is not an AWS answer (network, credentials...)."""
    from botocore import exceptions  # botocore is loaded by now: a client exists

    what = secret.describe()
    kind = type(error).__name__
    where = f" at {_display(endpoint)}" if endpoint else ""
    if isinstance(error, exceptions.ConnectTimeoutError):
        return AWSTimeout(f"could not connect to {SERVICE}{where} in time to read {what} ({kind})")
    if isinstance(error, exceptions.ReadTimeoutError):
        return AWSTimeout(f"{SERVICE}{where} did not answer in time for {what} ({kind})")
    if isinstance(error, (exceptions.ConnectionError, exceptions.HTTPClientError)):
        return AWSEndpointUnreachable(f"could not reach {SERVICE}{where} to read {what} ({kind})")
    if isinstance(error, exceptions.NoCredentialsError):
        return AWSCredentialsError(
            f"no AWS credentials found to read {what}: set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run with an instance or container role"
        )
    if isinstance(
        error,
        (
            exceptions.PartialCredentialsError,
            exceptions.CredentialRetrievalError,
            exceptions.TokenRetrievalError,
            exceptions.SSOError,
        ),
    ):
        return AWSCredentialsError(f"AWS credentials could not be loaded to read {what} ({kind})")
    if isinstance(error, exceptions.ParamValidationError):
        return ProviderError(
            f"the request to {SERVICE} for {what} is invalid ({kind}); check the name or ARN"
        )
    if settings is not None and isinstance(
        error,
        (exceptions.ProfileNotFound, exceptions.ConfigParseError, exceptions.InvalidConfigError),
    ):
        return config_error(error, settings)
    if isinstance(error, exceptions.ProfileNotFound):
        return AWSCredentialsError(f"the AWS profile in AWS_PROFILE does not exist ({kind})")
    return ProviderError(f"the request to {SERVICE} for {what} failed ({kind})")


def _display(endpoint: str) -> str:
    """The endpoint without any user:password part."""
    parts = urllib.parse.urlsplit(endpoint)
    if parts.username is None and parts.password is None:
        return endpoint
    host = parts.hostname or ""
    if parts.port is not None:
        host += f":{parts.port}"
    return urllib.parse.urlunsplit(parts._replace(netloc=host))


#: botocore configuration errors, by class name, and the variable that
#: causes each (what the user has to look at).
_CONFIG_CAUSES = {
    "ConfigNotFound": "AWS_CONFIG_FILE names a file that does not exist",
    "NoRegionError": "no region: set AWS_REGION or AWS_DEFAULT_REGION",
    "InvalidDefaultsMode": "AWS_DEFAULTS_MODE (or defaults_mode in AWS_CONFIG_FILE) is invalid",
    "InvalidSTSRegionalEndpointsConfigError": (
        "AWS_STS_REGIONAL_ENDPOINTS (or sts_regional_endpoints in AWS_CONFIG_FILE) "
        "must be legacy or regional"
    ),
    "InvalidIMDSEndpointError": "AWS_EC2_METADATA_SERVICE_ENDPOINT is not a valid URL",
    "InvalidIMDSEndpointModeError": "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE must be IPv4 or IPv6",
    "InvalidRetryModeError": "AWS_RETRY_MODE (or retry_mode in AWS_CONFIG_FILE) is invalid",
    "InvalidMaxRetryAttemptsError": (
        "AWS_MAX_ATTEMPTS (or max_attempts in AWS_CONFIG_FILE) is not a valid number"
    ),
    "DataNotFoundError": "the service model was not found: check AWS_DATA_PATH",
    "UnknownServiceError": "the service model was not found: check AWS_DATA_PATH",
    "InvalidProxiesConfigError": "the proxy configuration is invalid: check HTTPS_PROXY",
}

#: Credential-chain failures met while the client is built (botocore
#: resolves the credentials then when none are given).
_CREDENTIAL_ERRORS = {
    "PartialCredentialsError",
    "CredentialRetrievalError",
    "TokenRetrievalError",
    "SSOError",
    "SSOTokenLoadError",
    "UnauthorizedSSOTokenError",
    "InvalidConfigError",
}

_LOADED = "the AWS configuration could not be loaded"


def config_error(  # noqa: PLR0911 (one return per cause)
    error: BaseException, settings: Settings
) -> ProviderError:
    """Translate a botocore failure to load the configuration or build the
    client, naming the variable that causes it; botocore's text is never
    quoted (it may hold an endpoint's user:password)."""
    kind = type(error).__name__
    names = {cls.__name__ for cls in type(error).__mro__}
    if "ProfileNotFound" in names:
        variable = settings.profile_variable or "AWS_PROFILE"
        return AWSConfigurationError(
            f"{_LOADED} ({kind}): {variable} names profile "
            f"'{quote_reference(settings.profile or '')}', which neither AWS_CONFIG_FILE "
            "nor AWS_SHARED_CREDENTIALS_FILE defines"
        )
    if "ConfigParseError" in names:
        return AWSConfigurationError(
            f"{_LOADED} ({kind}): the file in {_file_variable(error, settings)} "
            "is not a valid AWS configuration file"
        )
    if "InvalidRegionError" in names:
        variable = settings.region_variable or "the region of the profile in AWS_CONFIG_FILE"
        return AWSConfigurationError(f"{_LOADED} ({kind}): {variable} is not a valid region name")
    for name in names:
        if name in _CONFIG_CAUSES:
            return AWSConfigurationError(f"{_LOADED} ({kind}): {_CONFIG_CAUSES[name]}")
    if isinstance(error, ValueError):
        text = str(error)
        if "not a legal header value" in text:  # botocore's check of the container token
            variable = settings.container_token_variable or "AWS_CONTAINER_AUTHORIZATION_TOKEN"
            return AWSCredentialsError(
                f"AWS credentials could not be loaded ({kind}): {variable} holds a line break "
                "(CR or LF; a file ending in a newline?), which the Authorization header of the "
                "container credentials request cannot carry: write the token without one"
            )
        if "Unsupported host" in text:
            return AWSConfigurationError(
                f"{_LOADED} ({kind}): AWS_CONTAINER_CREDENTIALS_FULL_URI must name a "
                "loopback address or the container credentials endpoint"
            )
        variable = (
            settings.endpoint_variable or "the endpoint_url of the profile in AWS_CONFIG_FILE"
        )
        return AWSConfigurationError(f"{_LOADED} ({kind}): {variable} is not a valid endpoint URL")
    if names & _CREDENTIAL_ERRORS:
        return AWSCredentialsError(
            f"AWS credentials could not be loaded ({kind}); check AWS_PROFILE and its "
            "profile in AWS_CONFIG_FILE, or the AWS_CONTAINER_*, AWS_WEB_IDENTITY_TOKEN_FILE "
            "and AWS_ROLE_ARN variables"
        )
    return AWSConfigurationError(
        f"{_LOADED} ({kind}); check the AWS_* variables and AWS_CONFIG_FILE"
    )


def _file_variable(error: BaseException, settings: Settings) -> str:
    """Which variable names the file botocore could not parse."""
    path = str(getattr(error, "kwargs", {}).get("path") or "")
    if settings.credentials_file and path == os.path.expanduser(settings.credentials_file):
        return "AWS_SHARED_CREDENTIALS_FILE"
    if settings.config_file and path == os.path.expanduser(settings.config_file):
        return "AWS_CONFIG_FILE"
    if os.path.basename(path) == "credentials":
        return "AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/credentials)"
    return "AWS_CONFIG_FILE (default ~/.aws/config)"


def listing_error(error: Any, listing: NameListing) -> ProviderError:
    """Translate a botocore ``ClientError`` of ListSecrets."""
    response: Mapping[str, Any] = getattr(error, "response", None) or {}
    code = (response.get("Error") or {}).get("Code")
    what = listing.describe()
    if code == "AccessDeniedException":
        return AWSAccessDenied(
            f"{SERVICE} denied listing {what} ({safe_code(code)}); listing needs "
            "secretsmanager:ListSecrets, which reading secrets does not"
        )
    if code in _THROTTLING or code in _CREDENTIALS or code in _SERVER:
        return client_error(error, listing)
    return ProviderError(f"{SERVICE} could not list {what} ({safe_code(code)})")
