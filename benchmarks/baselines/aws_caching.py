"""AWS's official caching client, ``aws-secretsmanager-caching``.

A new ``SecretCache`` per session (a process start is a cold cache), asked
for each variable's secret in turn, as its documentation shows; the cache
makes each distinct secret cost one fetch (``DescribeSecret`` then
``GetSecretValue`` of the current version).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

_REFERENCE = re.compile(r"^_aws:(.+):([^:]+)$")


def resolve(env: Mapping[str, str], environ: Mapping[str, str]) -> dict[str, str]:
    import boto3
    from aws_secretsmanager_caching import SecretCache, SecretCacheConfig

    client = boto3.client(
        "secretsmanager",
        endpoint_url=environ["AWS_ENDPOINT_URL"],
        region_name=environ["AWS_REGION"],
        aws_access_key_id=environ["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=environ["AWS_SECRET_ACCESS_KEY"],
    )
    cache = SecretCache(config=SecretCacheConfig(), client=client)
    result: dict[str, str] = {}
    try:
        for variable, value in env.items():
            match = _REFERENCE.match(value)
            if match is None:
                result[variable] = value
                continue
            name, key = match.groups()
            result[variable] = str(json.loads(cache.get_secret_string(name))[key])
    finally:
        client.close()
    return result
