"""AWS failures as envsecrets errors.

Every message names the secret and the AWS error code, never the server's
own message: botocore messages can echo request or response text, so they
are read (to tell a deleted secret from other invalid requests) but never
quoted.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping
from typing import Any

from envsecrets import ProviderError, SecretNotFound
from envsecrets_aws.reference import SecretRef

__all__ = [
    "AWSAccessDenied",
    "AWSCredentialsError",
    "AWSDecryptionFailure",
    "AWSEndpointUnreachable",
    "AWSThrottled",
    "AWSTimeout",
    "SecretDeleted",
    "client_error",
    "error_for_code",
    "transport_error",
]

SERVICE = "AWS Secrets Manager"


class AWSAccessDenied(ProviderError):
    """The caller may not read the secret (AccessDeniedException)."""


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
    secret: SecretRef,
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


def client_error(error: Any, secret: SecretRef) -> ProviderError:
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
    error: BaseException, secret: SecretRef, endpoint: str | None
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
