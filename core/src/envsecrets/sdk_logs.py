"""What SDKs dump in their DEBUG logs, and :func:`redact_logs`, which keeps a
provider's credentials and fetched values out of it without silencing it.

A provider built on an SDK calls ``envsecrets.redact_logs`` once, where it
builds its client; the rules it registers apply on the handler
:mod:`envsecrets.logs` owns (see there), to every record of the SDKs' loggers
and their children.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

from envsecrets.logs import REDACTED, add_redaction, redact_pattern, redact_values

if TYPE_CHECKING:
    from envsecrets.provider import Provider

__all__ = ["REDACTED_BODY", "SDK_LOGGERS", "redact_logs", "sdk_calls"]

#: How often each SDK was named to :func:`redact_logs` (the contract kit
#: checks that the SDKs a provider names still log).
_calls: dict[str, int] = {}
_calls_lock = threading.Lock()

#: The loggers that :func:`redact_logs` covers for each SDK it knows, with
#: their children: an HTTP client logs through its transport too. Any other
#: name is taken as a logger name (``"hvac"``, ``"mysdk"``).
SDK_LOGGERS: dict[str, tuple[str, ...]] = {
    "botocore": ("botocore", "urllib3"),
    "urllib3": ("urllib3",),
    "requests": ("requests", "urllib3"),
    "httpx": ("httpx", "httpcore"),
}

#: What replaces an answer body that may hold a fetched value.
REDACTED_BODY = "<response body redacted by envsecrets: it may hold a secret value>"

_HEADERS = (
    "authorization|proxy-authorization|x-amz-security-token|x-aws-ec2-metadata-token"
    "|x-vault-token|x-api-key|cookie|set-cookie"
)

#: Credentials in request and answer dumps, whatever their source (a
#: profile, a login, a container endpoint): header values (``name: value``,
#: ``'name': b'value'``, httpcore's ``(b'name', b'value')``) and the key id
#: in a signature's scope (``Credential=AKID/...``).
_CREDENTIAL_PATTERNS = (
    re.compile(rf"(?i)(?:{_HEADERS})['\"]?\s*[:=,]\s*b?['\"]?(?P<secret>[^'\"\r\n,}}&]+)"),
    re.compile(r"(?i)(?:credential|x-amz-credential)=(?P<secret>[^/&\s'\"]+)"),
)

#: Fields of an AWS answer that hold a value or a credential (Secrets
#: Manager, STS, SSO; JSON and XML): a log argument holding one is dropped whole.
_AWS_SECRET_FIELDS = re.compile(
    r"SecretString|SecretBinary|SecretAccessKey|SessionToken|secretAccessKey|sessionToken"
)


def _botocore_bodies(text: str) -> str:
    """botocore logs every answer body, fetched values included, at DEBUG."""
    if text.startswith("Response body"):
        return f"Response body:\n{REDACTED_BODY}"
    return text


def redact_logs(
    provider: Provider | None = None,
    *,
    sdks: Iterable[str] = (),
    values: Iterable[str | None] = (),
    replacement: str = REDACTED,
) -> None:
    """Keep a provider's credentials and fetched values out of every log
    line, its SDK's DEBUG dumps included, without silencing them.

    Call it where the provider builds its client (cheap to repeat: each rule
    is kept once)::

        envsecrets.redact_logs(self, sdks=["botocore"])

    It redacts, from every record printed by the handler envsecrets owns
    (``envsecrets -v``/``-vv``) and by any handler carrying a
    :class:`RedactingFilter`:

    - the values of *provider*'s declared credentials, as set in its
      ``environ``, and *values* (credentials it read elsewhere: a token a
      login returned, keys from a profile file), wherever they appear;
    - in the loggers of each of *sdks* and their children (present and
      future; see :data:`SDK_LOGGERS`: ``botocore``, ``urllib3``,
      ``requests``, ``httpx``, or any logger name), credential headers
      (``Authorization``, ``X-Amz-Security-Token``, ``X-Vault-Token``,
      ``Cookie``...) and signature scopes (``Credential=AKID/...``);
    - for ``botocore``, every answer body (``Response body:`` records keep
      their first line) and any argument holding a secret or credential
      field of an AWS answer.

    The records stay and keep their level: ``envsecrets -vv`` still shows
    each request. Never raise an SDK's logger above DEBUG instead (the
    contract kit fails a provider that does).

    :param provider: the provider whose ``credentials`` to redact.
    :param sdks: the SDKs (or logger names) whose loggers to clean.
    :param values: more values to redact; ``None`` and values shorter than
        :data:`MIN_VALUE_LENGTH` are ignored.
    :param replacement: the text put in place of what is redacted.
    :raise ValueError: for an SDK name that is not a logger name.
    """
    names = [sdks] if isinstance(sdks, str) else list(sdks)
    for sdk in names:
        if not (isinstance(sdk, str) and sdk and not sdk.startswith(".")):
            raise ValueError(f"an SDK name is a logger name such as 'botocore', not {sdk!r}")
    found = list(values)
    if provider is not None:
        from envsecrets.provider import setting_matches  # not on the start-up path

        declared = type(provider).credentials
        found.extend(
            value
            for variable, value in provider.environ.items()
            if setting_matches(variable, declared)
        )
    redact_values(found, replacement=replacement)
    for sdk in names:
        loggers = SDK_LOGGERS.get(sdk, (sdk,))
        for pattern in _CREDENTIAL_PATTERNS:
            redact_pattern(pattern, loggers=loggers, replacement=replacement)
        if sdk == "botocore":
            add_redaction(_botocore_bodies, loggers=("botocore.parsers",))
            redact_pattern(
                _AWS_SECRET_FIELDS, loggers=loggers, replacement=REDACTED_BODY, whole=True
            )
        with _calls_lock:
            _calls[sdk] = _calls.get(sdk, 0) + 1


def sdk_calls() -> dict[str, int]:
    """How often each SDK was named to :func:`redact_logs` (a copy)."""
    with _calls_lock:
        return dict(_calls)
