"""Keep secret values and credentials out of botocore's DEBUG logs.

botocore logs, at DEBUG, every response body (``botocore.parsers``: secret
values), each signed request (``botocore.endpoint``: the session token and
the access key id in its headers) and the canonical request
(``botocore.auth``: the session token). The project promises no value and
no credential in any log line at any level, so this module registers what
to redact with :mod:`envsecrets.logs`, whose filter sits on the handler
envsecrets owns: it covers every botocore and urllib3 logger, including
those created after the client.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterable, Iterator

from envsecrets import logs

__all__ = ["REDACTED", "install", "quiet_bodies"]

REDACTED = "<redacted by envsecrets-aws>"
_BODY = "<response body redacted by envsecrets-aws: it may hold a secret value>"

#: The SDK loggers the patterns apply to (with their children).
_SDK_LOGGERS = ("botocore", "urllib3")

#: Fields of an answer that hold a value or a credential (Secrets Manager,
#: STS and SSO, JSON and XML): a log argument holding one is dropped whole.
_SECRET_FIELDS = re.compile(
    r"SecretString|SecretBinary|SecretAccessKey|SessionToken|secretAccessKey|sessionToken"
)

#: Credentials that appear in request dumps whatever their source (a
#: profile, a role, the container endpoint): header values and the key id
#: in a signature's scope.
_CREDENTIAL_PATTERNS = (
    re.compile(
        r"(?i)(?:x-amz-security-token|x-aws-ec2-metadata-token|authorization)"
        r"""['"]?\s*[:=]\s*b?['"]?(?P<secret>[^'"\r\n,}&]+)"""
    ),
    re.compile(r"(?i)(?:credential|x-amz-credential)=(?P<secret>[^/&\s'\"]+)"),
)

_calls = threading.local()


@contextlib.contextmanager
def quiet_bodies() -> Iterator[None]:
    """Mark this thread as inside an envsecrets-aws request: botocore parses
    the answer on the calling thread, and handlers run on the logging
    thread, so the redaction knows whose body it is."""
    _calls.active = getattr(_calls, "active", 0) + 1
    try:
        yield
    finally:
        _calls.active -= 1


def _own_bodies(text: str) -> str:
    # Every body of our own requests: an error message may echo anything.
    if getattr(_calls, "active", 0) and text.startswith("Response body"):
        return f"Response body:\n{_BODY}"
    return text


def install(credentials: Iterable[str | None]) -> None:
    """Register the redaction of *credentials* (values read from the
    environment) and of botocore's credential headers and secret bodies.
    Cheap to repeat: the core keeps each rule once."""
    logs.redact_values(credentials, replacement=REDACTED)
    for pattern in _CREDENTIAL_PATTERNS:
        logs.redact_pattern(pattern, loggers=_SDK_LOGGERS, replacement=REDACTED)
    logs.redact_pattern(_SECRET_FIELDS, loggers=_SDK_LOGGERS, replacement=_BODY, whole=True)
    logs.add_redaction(_own_bodies, loggers=("botocore.parsers",))
