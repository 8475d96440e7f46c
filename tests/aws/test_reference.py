"""The _aws reference grammar (pure parsing, no server)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envsecrets import ReferenceSyntaxError
from envsecrets_aws import AWSProvider
from envsecrets_aws.reference import SecretRef, parse_name

VID = "0f5070a8-33ab-4888-8785-d7a60d91d8ab"
ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-AbCdEf"

split = AWSProvider({}).split

NAME_CHARS = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_+=.@-",
    min_size=1,
    max_size=64,
)


@pytest.mark.parametrize(
    ("rest", "expected"),
    [
        ("app/db:password", ("app/db", "password")),
        ("app/db", ("app/db", None)),
        ("team/app+x=y.z@corp-1_a:user", ("team/app+x=y.z@corp-1_a", "user")),
        ("app:/db/password", ("app", "/db/password")),
        ("app:a:b", ("app", "a:b")),  # names hold no colon: KEY keeps the rest
        (ARN, (ARN, None)),
        (f"{ARN}:password", (ARN, "password")),
        (f"{ARN}:/a/b:c", (ARN, "/a/b:c")),
        (
            "arn:aws-us-gov:secretsmanager:us-gov-west-1:1:secret:x-AbCdEf",
            ("arn:aws-us-gov:secretsmanager:us-gov-west-1:1:secret:x-AbCdEf", None),
        ),
        ("arn:password", ("arn", "password")),  # a secret called "arn"
        (
            "app/db?version_stage=AWSPREVIOUS:password",
            ("app/db?version_stage=AWSPREVIOUS", "password"),
        ),
        (
            f"app/db?version_id={VID}:password",
            (f"app/db?version_id={VID}", "password"),
        ),
        ("app/db?version_stage=AWSPENDING", ("app/db?version_stage=AWSPENDING", None)),
        (f"{ARN}?version_stage=AWSPREVIOUS", (f"{ARN}?version_stage=AWSPREVIOUS", None)),
        (f"{ARN}?version_stage=AWSPREVIOUS:k", (f"{ARN}?version_stage=AWSPREVIOUS", "k")),
    ],
)
def test_split(rest: str, expected: tuple[str, str | None]) -> None:
    assert split(rest) == expected


@pytest.mark.parametrize(
    ("rest", "words"),
    [
        ("app:", "key"),
        (":key", "name is empty"),
        ("?version_stage=X:key", "name is empty"),
        ("app?version=3:key", "version_stage=STAGE"),
        ("app?version_stage=:key", "empty"),
        ("app?version_stage:key", "empty"),
        ("app?version_stage=A&version_id=B:key", "one version"),
        (f"{ARN}:", "key"),
        ("arn:aws:ssm:us-east-1:123456789012:parameter:x", "not a Secrets Manager secret ARN"),
        ("app?version_id=short:k", "32 to 64 characters"),
        ("a" * 2049 + ":k", "1 to 2048 characters"),
    ],
)
def test_split_rejects(rest: str, words: str) -> None:
    with pytest.raises(ReferenceSyntaxError, match=words):
        split(rest)


@given(NAME_CHARS, st.text(min_size=1))
def test_any_name_and_key_round_trip(name: str, key: str) -> None:
    assert split(f"{name}:{key}") == (name, key)
    assert split(name) == (name, None)


@given(NAME_CHARS, st.one_of(st.none(), st.text(min_size=1)))
def test_any_arn_round_trips(name: str, key: str | None) -> None:
    arn = f"arn:aws:secretsmanager:eu-west-3:123456789012:secret:{name}-AbCdEf"
    rest = arn if key is None else f"{arn}:{key}"
    assert split(rest) == (arn, key)


def test_parse_name_gives_the_request() -> None:
    assert parse_name("app/db").request() == {"SecretId": "app/db"}
    assert parse_name("app/db?version_stage=AWSPREVIOUS").request() == {
        "SecretId": "app/db",
        "VersionStage": "AWSPREVIOUS",
    }
    assert parse_name(f"{ARN}?version_id={VID}") == SecretRef(ARN, "version_id", VID)
    assert parse_name(f"{ARN}?version_id={VID}").request() == {"SecretId": ARN, "VersionId": VID}
