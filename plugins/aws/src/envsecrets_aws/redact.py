"""Keep secret values and credentials out of botocore's DEBUG logs.

botocore logs, at DEBUG, every response body (``botocore.parsers``: secret
values), each signed request (``botocore.endpoint``: the session token and
the access key id in its headers) and the canonical request
(``botocore.auth``: the session token). The core's public helper
:func:`envsecrets.redact_logs` covers all three for every botocore and
urllib3 logger, including those created after the client, through the
filter on the handler envsecrets owns; this module only names what the
provider read.
"""

from __future__ import annotations

from collections.abc import Iterable

import envsecrets

__all__ = ["REDACTED", "install"]

REDACTED = "<redacted by envsecrets-aws>"


def install(credentials: Iterable[str | None]) -> None:
    """Register the redaction of *credentials* (values the provider resolved,
    from the environment or botocore's chain) and of botocore's credential
    headers and answer bodies. Cheap to repeat: the core keeps each rule once."""
    envsecrets.redact_logs(sdks=["botocore"], values=credentials, replacement=REDACTED)
