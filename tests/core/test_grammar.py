from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envsecrets import grammar
from envsecrets.errors import ReferenceSyntaxError
from envsecrets.provider import Provider

DESIGN_PATTERN = re.compile(r"^_([a-z][a-z0-9_]*):(.+)$", re.DOTALL)


@pytest.mark.parametrize(
    ("value", "prefix", "rest"),
    [
        ("_aws:pgprod:PG_HOST", "aws", "pgprod:PG_HOST"),
        ("_vaultkv2:database/pg:password", "vaultkv2", "database/pg:password"),
        ("_envjson:ENV_CONFIG:PG_PORT", "envjson", "ENV_CONFIG:PG_PORT"),
        (
            "_aws:arn:aws:secretsmanager:us-east-1:1:secret:x",
            "aws",
            "arn:aws:secretsmanager:us-east-1:1:secret:x",
        ),
        ("_a1:x", "a1", "x"),
        # underscores inside a prefix: the original agent's RDS IAM forms
        ("_aws_iam_rds:authtoken", "aws_iam_rds", "authtoken"),
        ("_aws_iam_rds:app@db.example:5432", "aws_iam_rds", "app@db.example:5432"),
        ("_a_:x", "a_", "x"),
        ("_dict_x:y", "dict_x", "y"),
    ],
)
def test_references_are_split_into_prefix_and_rest(value: str, prefix: str, rest: str) -> None:
    parsed = grammar.parse(value)
    assert parsed is not None
    assert (parsed.prefix, parsed.rest, parsed.text) == (prefix, rest, value)


@pytest.mark.parametrize(
    "value",
    [
        "hello",
        "",
        "_x",
        "_aws",
        "_aws:",
        "_AWS:x",
        "_Aws_iam:x",
        "_1aws:x",
        "aws:x",
        " _aws:x",
        "__aws:x",
        "_aws-x:y",
        "__aws_iam_rds:x",
        "_1_a:x",
    ],
)
def test_plain_values_pass_through(value: str) -> None:
    assert grammar.parse(value) is None
    assert not grammar.is_reference(value)


def test_a_newline_after_the_prefix_still_makes_a_reference() -> None:
    # Failing closed: a malformed reference must not become a password.
    assert grammar.is_reference("_aws:name\n")
    assert grammar.is_reference("_aws:a\nb")


@given(st.text())
def test_classification_matches_the_design_regex(value: str) -> None:
    parsed = grammar.parse(value)
    match = DESIGN_PATTERN.fullmatch(value)
    assert (parsed is None) == (match is None)
    if parsed is not None and match is not None:
        assert (parsed.prefix, parsed.rest) == (match[1], match[2])
        assert parsed.text == value


@given(st.from_regex(r"_[a-z][a-z0-9_]{0,8}:.+", fullmatch=True))
def test_generated_references_are_recognised(value: str) -> None:
    assert grammar.is_reference(value)


class _Split(Provider):
    prefix = "split"


@pytest.mark.parametrize(
    ("rest", "name", "key"),
    [
        ("app:password", "app", "password"),
        ("app", "app", None),
        ("a:b:c", "a:b", "c"),
        ("arn:aws:x:password", "arn:aws:x", "password"),
        ("app:/db/password", "app", "/db/password"),
    ],
)
def test_default_split_is_at_the_last_colon(rest: str, name: str, key: str | None) -> None:
    assert _Split({}).split(rest) == (name, key)


@pytest.mark.parametrize("rest", [":key", "name:"])
def test_default_split_rejects_empty_parts(rest: str) -> None:
    with pytest.raises(ReferenceSyntaxError):
        _Split({}).split(rest)


@given(st.text(min_size=1))
def test_default_split_never_crashes(rest: str) -> None:
    try:
        name, key = _Split({}).split(rest)
    except ReferenceSyntaxError:
        return
    assert name
    assert key is None or (key and ":" not in key)
