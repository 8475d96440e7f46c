"""Rows and validation without a browser or a backend: the providers'
own split decides, even where a provider is not configured."""

from __future__ import annotations

import json

import pytest

import envsecrets
import envsecrets_aws
import envsecrets_envjson
import envsecrets_vault
from envsecrets_editor.fields import ERROR, KEEP, MANUAL, WARNING, Catalog, Row, check_rows
from envsecrets_editor.forms import validate


@pytest.fixture
def catalog() -> Catalog:
    # No VAULT_ADDR: the Vault providers cannot start here, yet split.
    resolver = envsecrets.Resolver(
        {}, plugins=[envsecrets_vault, envsecrets_aws, envsecrets_envjson], entry_points=False
    )
    return Catalog(resolver)


def levels(catalog: Catalog, row: Row) -> list[tuple[str, str]]:
    return [(message.level, message.text) for message in catalog.validate(row)]


def test_values_go_back_to_their_source(catalog: Catalog) -> None:
    assert catalog.row_from_value("A", "plain").source == MANUAL
    row = catalog.row_from_value("A", "_vaultkv2:team:app:password")
    assert (row.source, row.name, row.key) == ("vaultkv2", "team:app", "password")
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:pg-AbCdEf"
    row = catalog.row_from_value("A", f"_aws:{arn}")
    assert (row.source, row.name, row.key) == ("aws", arn, "")
    row = catalog.row_from_value("A", "_corp:x:y")
    assert (row.source, row.kept) == (KEEP, "_corp:x:y")
    assert row.text() == "_corp:x:y"


def test_a_provider_that_cannot_start_here_still_validates(catalog: Catalog) -> None:
    found = levels(catalog, Row("PASS", "vaultkv2", name="team:app"))
    assert found[0] == (ERROR, "_vaultkv2 would read this as NAME 'team' and KEY 'app' "
                               "(a NAME with ':' needs a KEY)")  # fmt: skip
    assert found[1][0] == WARNING
    assert "VAULT_ADDR" in found[1][1]
    ok = levels(catalog, Row("PASS", "vaultkv2", name="database/pg", key="password"))
    assert [level for level, _ in ok] == [WARNING]


def test_what_check_e_refuses_is_an_error_with_its_words(catalog: Catalog) -> None:
    rows = [
        Row("VAULT_ADDR", MANUAL, value="https://vault.example"),
        Row("A", MANUAL, value="x\x00y"),
        Row("B", MANUAL, value="fine"),
    ]
    validate(catalog, rows, "/roles/pg.env")
    assert [(m.level, m.text) for m in rows[0].messages] == [
        (
            ERROR,
            "env file '/roles/pg.env' sets VAULT_ADDR, a provider setting: settings come from "
            "the process environment only (--allow-provider-settings to allow it)",
        )
    ]
    assert [(m.level, m.text) for m in rows[1].messages] == [
        (ERROR, "the env files set 'A' with a NUL character")
    ]
    assert rows[2].messages == []
    # A removed row is not in the file.
    rows[0].remove = True
    validate(catalog, rows, "/roles/pg.env")
    assert rows[0].messages == []


@pytest.mark.parametrize(
    ("row", "text"),
    [
        (Row("A", "envjson", name="ENV_CONFIG"), "needs a key"),
        (Row("A", "aws", name=""), "NAME is empty"),
        (Row("A", "aws", name="a\nb", key="k"), "control character"),
        (Row("a-b", MANUAL, value="x"), "variable name"),
        (Row("A", MANUAL, value="_nosuch:x"), "no installed provider serves the prefix _nosuch"),
        (Row("A", "nosuch", name="x"), "no installed provider serves _nosuch"),
    ],
)
def test_errors(catalog: Catalog, row: Row, text: str) -> None:
    found = levels(catalog, row)
    assert any(level == ERROR and text in message for level, message in found), found


def test_the_test_button_status_never_depends_on_a_secret_value() -> None:
    # Issue 19: thirty candidates in a key and in a name, next to the secret;
    # a partial *** in the status would mark which one it is.
    candidates = "|".join(str(number) for number in range(4800, 4830))
    rows = [
        Row("S", "envjson", "J", "pin"),
        Row("G", "envjson", "J", candidates),
        Row("N", "envjson", candidates, "pin"),
        Row("E", "envjson", "X\x1b[2J\x9b1m", "pin"),
    ]

    def statuses(secret: str) -> dict[str, tuple[bool, str]]:
        return check_rows(rows, {"J": json.dumps({"pin": secret})}, {})

    seen = [statuses(secret) for secret in ("4800", "4817", "4829", "9999")]
    assert all(outcome == seen[0] for outcome in seen), seen
    outcome = seen[0]
    assert outcome["S"] == (True, "ok")
    assert outcome["G"] == (False, f"the secret has no key '{candidates}'")
    assert outcome["N"] == (False, f"environment variable {candidates} is not set")
    assert outcome["E"] == (False, "environment variable X\\x1b[2J\\x9b1m is not set")
