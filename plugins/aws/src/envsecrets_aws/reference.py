"""The ``_aws:`` reference grammar: NAME (or ARN), an optional version, KEY.

    _aws:app/db:password                          KEY of a JSON secret
    _aws:app/token                                the whole secret string
    _aws:arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-AbCdEf:password
    _aws:app/db?version_stage=AWSPREVIOUS:password
    _aws:app/db?version_id=EXAMPLE1-90ab-cdef-fedc-ba987EXAMPLE

Secret names never hold a colon (AWS allows letters, digits and
``/_+=.@-``), so NAME ends at the first colon, or after the seven fields of
an ARN; everything after it is KEY, colons included.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from envsecrets import ReferenceSyntaxError
from envsecrets.errors import quote_reference

__all__ = ["VERSION_PARAMETERS", "SecretRef", "parse_name", "split_reference"]

#: The query parameters that select a version, and the GetSecretValue
#: argument each one becomes.
VERSION_PARAMETERS = {"version_stage": "VersionStage", "version_id": "VersionId"}

# Lengths the Secrets Manager API accepts; checked here so that a typo is a
# syntax error at parse time rather than a failed request.
_LENGTHS = {"secret id": (1, 2048), "version_stage": (1, 256), "version_id": (32, 64)}

# arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME[?query]; NAME runs
# to the next colon, which starts KEY.
_ARN = re.compile(r"arn:[^:]+:secretsmanager:[^:]*:[^:]*:secret:[^:]+")


@dataclass(frozen=True, slots=True)
class SecretRef:
    """A secret id (name or ARN) and the version it pins, if any."""

    secret_id: str
    parameter: str | None = None  # "version_stage" or "version_id"
    value: str | None = None

    @property
    def versioned(self) -> bool:
        return self.parameter is not None

    def describe(self) -> str:
        """``secret 'app/db'`` or ``secret 'app/db' (version_stage AWSPREVIOUS)``."""
        text = f"secret '{quote_reference(self.secret_id)}'"
        if self.parameter is not None:
            text += f" ({self.parameter} {quote_reference(self.value or '')})"
        return text

    def request(self) -> dict[str, str]:
        """The GetSecretValue arguments that fetch this secret."""
        arguments = {"SecretId": self.secret_id}
        if self.parameter is not None and self.value is not None:
            arguments[VERSION_PARAMETERS[self.parameter]] = self.value
        return arguments


def split_reference(rest: str) -> tuple[str, str | None]:
    """Split the text after ``_aws:`` into a canonical NAME and KEY.

    NAME keeps its version query in canonical form (``app/db?version_stage=X``)
    so that the core fetches each (secret, version) once.

    :raise ReferenceSyntaxError: for an empty name or key, a malformed ARN
        or an unknown version parameter.
    """
    match = _ARN.match(rest) if rest.startswith("arn:") else None
    if match is not None:
        # The pattern is greedy up to a colon: the tail is empty or ":KEY".
        name, tail = match[0], rest[match.end() :]
        key: str | None = tail[1:] if tail else None
    elif rest.startswith("arn:") and rest.count(":") >= 6:
        raise ReferenceSyntaxError(
            "not a Secrets Manager secret ARN: expected "
            "arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME"
        )
    else:
        name, colon, after = rest.partition(":")
        key = after if colon else None
    if key == "":
        raise ReferenceSyntaxError("the key after the secret name is empty")
    return _canonical_name(name), key


@functools.lru_cache(maxsize=4096)
def _canonical_name(name: str) -> str:
    """NAME with its version query in canonical form; cached, as a secret's
    name repeats in every reference to one of its keys."""
    secret = parse_name(name)
    if secret.parameter is None:
        return secret.secret_id
    return f"{secret.secret_id}?{secret.parameter}={secret.value}"


def parse_name(name: str) -> SecretRef:
    """Parse NAME, with its optional ``?version_stage=``/``?version_id=``.

    :raise ReferenceSyntaxError: naming what is wrong, never quoting a value
        other than the parameter name.
    """
    secret_id, question, query = name.partition("?")
    if not secret_id:
        raise ReferenceSyntaxError("the secret name is empty")
    _check_length("secret id", secret_id)
    if not question:
        return SecretRef(secret_id)
    parameter, equals, value = query.partition("=")
    if parameter not in VERSION_PARAMETERS:
        raise ReferenceSyntaxError(
            "unknown parameter after '?' in an _aws reference: use version_stage=STAGE "
            "or version_id=ID"
        )
    if not equals or not value:
        raise ReferenceSyntaxError(f"the {parameter} after '?' is empty")
    if "&" in value or "=" in value:
        raise ReferenceSyntaxError(
            "an _aws reference selects one version: version_stage or version_id"
        )
    _check_length(parameter, value)
    return SecretRef(secret_id, parameter, value)


def _check_length(what: str, text: str) -> None:
    low, high = _LENGTHS[what]
    if not low <= len(text) <= high:
        raise ReferenceSyntaxError(f"the {what} must be {low} to {high} characters long")
