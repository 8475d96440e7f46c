"""Rows and validation without a browser or a backend: the providers'
own split decides, even where a provider is not configured."""

from __future__ import annotations

import pytest

import envsecrets
import envsecrets_aws
import envsecrets_envjson
import envsecrets_vault
from envsecrets_editor.fields import ERROR, KEEP, MANUAL, WARNING, Catalog, Row


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


def test_settings_in_a_role_are_flagged(catalog: Catalog) -> None:
    found = levels(catalog, Row("VAULT_ADDR", MANUAL, value="https://vault.example"))
    assert found == [
        (
            WARNING,
            "VAULT_ADDR is a provider setting: envsecrets run -e refuses a file that sets "
            "one (settings come from the process environment)",
        )
    ]


@pytest.mark.parametrize(
    ("row", "text"),
    [
        (Row("A", "envjson", name="ENV_CONFIG"), "needs a key"),
        (Row("A", "aws", name=""), "NAME is empty"),
        (Row("A", "aws", name="a\nb", key="k"), "control character"),
        (Row("a-b", MANUAL, value="x"), "variable name"),
        (Row("A", MANUAL, value="x\x00y"), "NUL"),
        (Row("A", "nosuch", name="x"), "no installed provider serves _nosuch"),
    ],
)
def test_errors(catalog: Catalog, row: Row, text: str) -> None:
    found = levels(catalog, row)
    assert any(level == ERROR and text in message for level, message in found), found
