"""Keep secret values and credentials out of botocore's DEBUG logs.

botocore logs, at DEBUG, every response body (``botocore.parsers``: secret
values), each signed request (``botocore.endpoint``: the session token and
the access key id in its headers) and the canonical request
(``botocore.auth``: the session token). The project promises no value and
no credential in any log line at any level, so a filter on botocore's and
urllib3's loggers rewrites those records: it is installed when a client is
built (botocore is loaded by then) and leaves every other record alone.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator

__all__ = ["install", "quiet_bodies", "remember"]

REDACTED = "<redacted by envsecrets-aws>"
_BODY = "<response body redacted by envsecrets-aws: it may hold a secret value>"

#: Fields of an answer that hold a value or a credential (Secrets Manager,
#: STS and SSO, JSON and XML).
_SECRET_FIELDS = re.compile(
    r"SecretString|SecretBinary|SecretAccessKey|SessionToken|secretAccessKey|sessionToken"
)

#: Credentials that appear in request dumps whatever their source (a
#: profile, a role, the container endpoint): header values and the key id
#: in a signature's scope.
_CREDENTIAL_PATTERNS = (
    re.compile(
        r"(?i)(x-amz-security-token|x-aws-ec2-metadata-token|authorization)"
        r"""(['"]?\s*[:=]\s*b?['"]?)[^'"\r\n,}&]+"""
    ),
    re.compile(r"(?i)(credential|x-amz-credential)(=)[^/&\s'\"]+"),
)

#: Credential values read from the environment, redacted wherever they
#: appear; the most recent are kept (an agent sees few distinct sets).
_KNOWN: OrderedDict[str, None] = OrderedDict()
_MAX_KNOWN = 64
#: Shorter values would redact ordinary words.
_MIN_KNOWN = 6

_lock = threading.Lock()
_calls = threading.local()

#: botocore's and urllib3's loggers that may see a request or an answer;
#: every other logger of theirs existing at install time gets the filter too.
_LOGGERS = (
    "botocore",
    "botocore.auth",
    "botocore.credentials",
    "botocore.endpoint",
    "botocore.hooks",
    "botocore.httpsession",
    "botocore.parsers",
    "botocore.retryhandler",
    "botocore.utils",
    "urllib3",
    "urllib3.connectionpool",
)


def remember(values: Iterable[str | None]) -> None:
    """Redact each of *values* (credentials) from botocore's logs from now on."""
    with _lock:
        for value in values:
            if value and len(value) >= _MIN_KNOWN:
                _KNOWN[value] = None
                _KNOWN.move_to_end(value)
        while len(_KNOWN) > _MAX_KNOWN:
            _KNOWN.popitem(last=False)


@contextlib.contextmanager
def quiet_bodies() -> Iterator[None]:
    """Mark this thread as inside an envsecrets-aws request: botocore parses
    the answer on the calling thread, so the filter knows whose body it is."""
    _calls.active = getattr(_calls, "active", 0) + 1
    try:
        yield
    finally:
        _calls.active -= 1


class _Redactor(logging.Filter):
    """Rewrite a record that may show a secret value or a credential."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and args:
            if getattr(_calls, "active", 0) and str(record.msg).startswith("Response body"):
                # Every body of our own requests: an error message may echo anything.
                record.args = (_BODY,) * len(args)
            elif any(_holds_secret(arg) for arg in args):
                record.args = tuple(_BODY if _holds_secret(arg) else arg for arg in args)
        try:
            text = record.getMessage()
        except Exception:  # a malformed record is not ours to fix
            return True
        clean = _scrub(text)
        if clean != text:
            record.msg, record.args = clean, ()
        return True


def _holds_secret(value: object) -> bool:
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value).decode("utf-8", "replace")
    return isinstance(value, str) and _SECRET_FIELDS.search(value) is not None


def _scrub(text: str) -> str:
    for pattern in _CREDENTIAL_PATTERNS:
        text = pattern.sub(lambda match: f"{match[1]}{match[2]}{REDACTED}", text)
    with _lock:
        known = list(_KNOWN)
    for value in known:
        if value in text:
            text = text.replace(value, REDACTED)
    return text


_FILTER = _Redactor()


def install() -> None:
    """Put the filter on botocore's and urllib3's loggers (idempotent).

    A logger's filters see only the records logged through that very
    logger, hence one per logger; called again for each new client, so
    that loggers of modules imported since get it too.
    """
    names = set(_LOGGERS)
    names.update(
        name
        for name in list(logging.root.manager.loggerDict)
        if name.startswith(("botocore.", "urllib3."))
    )
    with _lock:
        for name in names:
            logger = logging.getLogger(name)
            if _FILTER not in logger.filters:
                logger.addFilter(_FILTER)
