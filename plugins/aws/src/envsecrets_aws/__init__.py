"""envsecrets provider for ``_aws:NAME[:KEY]``: AWS Secrets Manager.

    _aws:app/db:password                      KEY of a JSON secret
    _aws:app/db:/replicas/0/host              a JSON Pointer key
    _aws:app/token                            the whole secret string
    _aws:arn:aws:secretsmanager:REGION:ACCOUNT:secret:app/db-AbCdEf:password
    _aws:app/db?version_stage=AWSPREVIOUS:password

This module imports no boto3: the client is built on the first fetch.
"""

from __future__ import annotations

from collections.abc import Sequence

import envsecrets
from envsecrets_aws.errors import (
    AWSAccessDenied,
    AWSCredentialsError,
    AWSDecryptionFailure,
    AWSEndpointUnreachable,
    AWSThrottled,
    AWSTimeout,
    SecretDeleted,
)
from envsecrets_aws.provider import AWSProvider
from envsecrets_aws.settings import AWSConfigurationError

__all__ = [
    "AWSAccessDenied",
    "AWSConfigurationError",
    "AWSCredentialsError",
    "AWSDecryptionFailure",
    "AWSEndpointUnreachable",
    "AWSProvider",
    "AWSThrottled",
    "AWSTimeout",
    "SecretDeleted",
    "envsecrets_providers",
]


@envsecrets.hookimpl
def envsecrets_providers() -> Sequence[type[envsecrets.Provider]]:
    """Register the ``_aws`` provider."""
    return [AWSProvider]
