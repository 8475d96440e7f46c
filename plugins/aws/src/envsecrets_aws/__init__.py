"""envsecrets providers for ``_aws:NAME[:KEY]`` (AWS Secrets Manager) and
``_aws_iam_rds`` (RDS IAM authentication tokens, signed locally).

    _aws:app/db:password                      KEY of a JSON secret
    _aws:app/db:/replicas/0/host              a JSON Pointer key
    _aws:app/token                            the whole secret string
    _aws:arn:aws:secretsmanager:REGION:ACCOUNT:secret:app/db-AbCdEf:password
    _aws:app/db?version_stage=AWSPREVIOUS:password
    _aws_iam_rds:app@mydb.abc123.us-east-1.rds.amazonaws.com:5432
    USER=_aws_iam_rds:app  PASS=_aws_iam_rds:authtoken  (with HOST and PORT)

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
from envsecrets_aws.rds import RDSEndpointError, RDSIAMProvider
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
    "RDSEndpointError",
    "RDSIAMProvider",
    "SecretDeleted",
    "envsecrets_providers",
]


@envsecrets.hookimpl
def envsecrets_providers() -> Sequence[type[envsecrets.Provider]]:
    """Register the ``_aws`` and ``_aws_iam_rds`` providers."""
    return [AWSProvider, RDSIAMProvider]
