"""Role files without a server: the line-preserving writer, quoting, masking,
safe names. python-dotenv reads back what the editor writes."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from dotenv import dotenv_values
from hypothesis import given
from hypothesis import strategies as st

from envsecrets_editor.hosts import allowed_hosts
from envsecrets_editor.resources import RESOURCE_TYPES, guess_type
from envsecrets_editor.roledir import RoleDirectory
from envsecrets_editor.rolefile import MASK, RoleError, masked, quote, rewrite


def read(text: str) -> dict[str, str | None]:
    return dict(dotenv_values(stream=io.StringIO(text), interpolate=False))


@given(st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))))
def test_every_value_reads_back_unchanged(value: str) -> None:
    assert read(f"V={quote(value)}\n") == {"V": value}


def test_quoting_is_minimal() -> None:
    assert quote("_vaultkv2:database/pg:password") == "_vaultkv2:database/pg:password"
    assert quote("_aws:app?version=2:/db/password") == "_aws:app?version=2:/db/password"
    assert quote("") == ""
    assert quote("hello world") == "'hello world'"
    assert quote("$HOME") == "'$HOME'"
    assert quote("it's") == '"it\'s"'


def test_rewrite_changes_only_the_lines_it_must() -> None:
    text = (
        "# comment\n"
        "export A=1\n"
        "B='two words'   # trailing comment\n"
        "not a variable line\n"
        "C=3\n"
        "C=4\n"
        "D=last-without-newline"
    )
    result = rewrite(text, {"A": "10", "C": "40", "D": None, "E": "new value"})
    assert result == (
        "# comment\n"
        "export A=10\n"
        "B='two words'   # trailing comment\n"
        "not a variable line\n"
        "C=3\n"
        "C=40\n"
        "E='new value'\n"
    )
    assert read(result)["C"] == "40"


def test_a_new_file_starts_with_its_type() -> None:
    assert rewrite(None, {"HOST": "h"}, resource_type="postgres") == (
        "# envsecrets role: postgres\nHOST=h\n"
    )
    assert rewrite("", {"HOST": "h"}, resource_type="postgres") == "HOST=h\n"


def test_masked_hides_plain_values_and_unparsed_lines() -> None:
    text = "# c\nPASS=_vaultkv2:db:password\nHOST=secret-host\nEMPTY=\nbroken line 'x\n"
    shown = masked(text)
    assert shown.splitlines()[:4] == ["# c", "PASS=_vaultkv2:db:password", f"HOST={MASK}", "EMPTY="]
    assert "secret-host" not in shown
    assert "broken" not in shown


@pytest.mark.parametrize("name", ["../x", "a/b", ".hidden", "", "x" * 65, "a..b", "/etc/passwd"])
def test_unsafe_role_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(RoleError, match="refused"):
        RoleDirectory(tmp_path).path(name)


def test_resource_types_are_the_issues_templates() -> None:
    assert RESOURCE_TYPES["postgres"].fields == ("HOST", "USER", "PASS", "PORT", "DB", "SSLMODE")
    assert RESOURCE_TYPES["mssql"].fields[-1] == "INSECURE"
    assert RESOURCE_TYPES["ssh"].fields == (
        "HOST",
        "PORT",
        "USER",
        "PASS",
        "AUTHORIZED_SERVER_KEYS",
    )
    assert RESOURCE_TYPES["http"].fields == ("REMOTE_URL", "HEADER_AUTHORIZATION")
    assert RESOURCE_TYPES["mongodb"].fields == ("CONNECTION_STRING",)
    assert RESOURCE_TYPES["custom"].fields == ()
    assert guess_type(None, {"CONNECTION_STRING": "x"}).name == "mongodb"
    assert guess_type(None, dict.fromkeys(RESOURCE_TYPES["mssql"].fields, "")).name == "mssql"
    assert guess_type("ssh", {}).name == "ssh"


def test_allowed_hosts() -> None:
    assert allowed_hosts("127.0.0.1", 8000) == {
        "127.0.0.1:8000",
        "localhost:8000",
        "[::1]:8000",
    }
    assert allowed_hosts("::1", 9) == {"[::1]:9", "localhost:9", "127.0.0.1:9"}
    assert allowed_hosts("192.0.2.7", 80) == {"192.0.2.7:80"}
