"""An independent check of RDS IAM auth tokens: the SigV4 query signature
recomputed with hashlib and hmac from the AWS specification (Signature
Version 4, "Create a signed AWS API request", query-string authentication),
never through botocore, whose presigner made the token under test."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import urllib.parse
from dataclasses import dataclass

ALGORITHM = "AWS4-HMAC-SHA256"
SERVICE = "rds-db"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


@dataclass(frozen=True)
class Token:
    """What a verified token says."""

    host: str
    port: int
    user: str
    region: str
    access_key_id: str
    signed_at: datetime.datetime
    expires: int
    security_token: str | None


def _uri_encode(text: str) -> str:
    # SigV4: every byte except the unreserved characters A-Z a-z 0-9 - _ . ~
    return urllib.parse.quote(text, safe="-_.~")


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def verify(token: str, secret_access_key: str) -> Token:
    """Recompute the token's signature with *secret_access_key*; return what
    it grants, or fail an assertion."""
    assert "://" not in token, "an RDS token has no scheme"
    endpoint, separator, query = token.partition("/?")
    assert separator, "an RDS token is HOST:PORT/?QUERY"
    host, _, port = endpoint.rpartition(":")
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True, strict_parsing=True)
    params = dict(pairs)
    assert len(params) == len(pairs), "a query parameter appears twice"
    signature = params.pop("X-Amz-Signature")
    assert params["Action"] == "connect"
    assert params["X-Amz-Algorithm"] == ALGORITHM
    assert params["X-Amz-SignedHeaders"] == "host"
    access_key_id, date, region, service, terminator = params["X-Amz-Credential"].split("/")
    assert (service, terminator) == (SERVICE, "aws4_request")
    amz_date = params["X-Amz-Date"]
    assert amz_date.startswith(date)

    canonical_query = "&".join(
        f"{_uri_encode(key)}={_uri_encode(value)}" for key, value in sorted(params.items())
    )
    canonical_request = "\n".join(
        ["GET", "/", canonical_query, f"host:{endpoint}", "", "host", EMPTY_SHA256]
    )
    scope = f"{date}/{region}/{SERVICE}/aws4_request"
    string_to_sign = "\n".join(
        [ALGORITHM, amz_date, scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    key = _hmac(f"AWS4{secret_access_key}".encode(), date)
    for part in (region, SERVICE, "aws4_request"):
        key = _hmac(key, part)
    expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    assert hmac.compare_digest(signature, expected), "the token's signature does not verify"

    signed_at = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(
        tzinfo=datetime.timezone.utc
    )
    return Token(
        host=host,
        port=int(port),
        user=params["DBUser"],
        region=region,
        access_key_id=access_key_id,
        signed_at=signed_at,
        expires=int(params["X-Amz-Expires"]),
        security_token=params.get("X-Amz-Security-Token"),
    )


def signature_of(token: str) -> str:
    """The hex signature at the end of a token (what must never be logged)."""
    return dict(urllib.parse.parse_qsl(token.partition("/?")[2]))["X-Amz-Signature"]


def assert_fresh(token: Token, *, within: float = 120.0) -> None:
    """The token was signed just now and is valid 15 minutes."""
    age = (datetime.datetime.now(datetime.timezone.utc) - token.signed_at).total_seconds()
    assert -within < age < within, f"signed {age:.0f} s ago"
    assert token.expires == 900
