"""Redaction: the last pass that masks fetched secret values in error
messages, in case a provider broke its promise of value-free messages."""

from __future__ import annotations

from collections.abc import Mapping

from envsecrets.errors import EnvsecretsError, Failure, ProviderError
from envsecrets.provider import FetchResult
from envsecrets.results import Reference, SecretId

#: Shorter values are not masked: masking "1" would garble every message.
MIN_MASKED = 4


def redacted(
    failures: list[Failure],
    documents: Mapping[SecretId, FetchResult],
    result: Mapping[str, str],
    references: Mapping[str, Reference],
) -> list[Failure]:
    """Return *failures* with every known secret value masked as ``***``:
    the values extracted for *references* (in *result*) and the documents
    fetched as text."""
    secrets = {value for variable, value in result.items() if variable in references}
    secrets.update(doc for doc in documents.values() if isinstance(doc, str))
    secrets = {secret for secret in secrets if len(secret) >= MIN_MASKED}
    if not secrets:
        return failures
    ordered = sorted(secrets, key=len, reverse=True)  # "abcd1" before "abcd"
    cleaned = []
    for failure in failures:
        message = str(failure.error)
        scrubbed = message
        for secret in ordered:
            scrubbed = scrubbed.replace(secret, "***")
        if scrubbed == message:
            cleaned.append(failure)
            continue
        try:
            error: EnvsecretsError = type(failure.error)(scrubbed)
        except Exception:  # an error class that takes other arguments
            error = ProviderError(scrubbed)
        cleaned.append(Failure(failure.variable, failure.reference, error))
    return cleaned
