"""A deliberately leaky provider, for the contract kit's own tests.

Its stand-in SDK logs what botocore logs at DEBUG, under botocore's logger
names (no botocore needed): the three leaks a third-party author met with
an SSM provider. ``botocore.auth`` prints the canonical request with the
session token, ``botocore.endpoint`` the signed request's headers with the
access key id and the token, ``botocore.parsers`` the answer body with the
decrypted value; ``botocore.credentials`` names the secret key. With
``redact`` the provider calls :func:`envsecrets.redact_logs` and passes the
contract; with ``silence`` it raises ``botocore`` to INFO instead, which
the kit must refuse.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import ClassVar

import envsecrets

#: The backend: NAME -> document.
STORE: dict[str, str] = {}

KEY_ID, SECRET_KEY, TOKEN = "LEAKY_ACCESS_KEY_ID", "LEAKY_SECRET_ACCESS_KEY", "LEAKY_SESSION_TOKEN"


class LeakyProvider(envsecrets.Provider):
    """Serves ``_leaky:NAME[:KEY]`` from :data:`STORE`, logging like botocore."""

    prefix = "leaky"
    description = "A provider whose SDK logs credentials and values (kit tests)."
    settings = frozenset({KEY_ID, SECRET_KEY, TOKEN})
    credentials = frozenset({KEY_ID, SECRET_KEY, TOKEN})

    #: Call envsecrets.redact_logs where the client is built (the fix).
    redact: ClassVar[bool] = False
    #: Raise botocore to INFO instead (silencing: the kit refuses it).
    silence: ClassVar[bool] = False

    def fetch(self, name: str) -> envsecrets.Document:
        self._client()
        key_id, token = self.environ.get(KEY_ID, "-"), self.environ.get(TOKEN, "-")
        logging.getLogger("botocore.credentials").debug(
            "Found credentials in environment variables (secret key %s)",
            self.environ.get(SECRET_KEY, "-"),
        )
        logging.getLogger("botocore.auth").debug(
            "CanonicalRequest:\nPOST\n/\n\nhost:leaky.test\nx-amz-security-token:%s\n", token
        )
        logging.getLogger("botocore.endpoint").debug(
            "Sending http request: <AWSPreparedRequest method=POST, headers={"
            "'Authorization': b'AWS4-HMAC-SHA256 Credential=%s/20261203/eu-west-1/ssm/"
            "aws4_request, SignedHeaders=host, Signature=0f0f', 'X-Amz-Security-Token': b'%s'}>",
            key_id,
            token,
        )
        if name not in STORE:
            raise envsecrets.SecretNotFound(f"no parameter {name!r}")
        body = json.dumps({"Parameter": {"Name": name, "Value": STORE[name]}}).encode()
        logging.getLogger("botocore.parsers").debug("Response body:\n%r", body)
        return STORE[name]

    def _client(self) -> None:
        """Where a real provider builds its SDK client."""
        if self.redact:
            envsecrets.redact_logs(self, sdks=["botocore"])
        if self.silence:
            logging.getLogger("botocore").setLevel(logging.INFO)


@envsecrets.hookimpl
def envsecrets_providers() -> Sequence[type[envsecrets.Provider]]:
    """Register the ``_leaky`` provider."""
    return [LeakyProvider]
