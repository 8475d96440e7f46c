"""Roles that always run: the editor saves nothing ``envsecrets check -e``
refuses, Enter never saves, and a KEY the secret does not hold is flagged
as it is typed."""

from __future__ import annotations

import subprocess
import sys

from playwright.sync_api import Browser, Page, expect

from tests.editor.support import Backends, Editor, open_editor, unique
from tests.editor.test_browser import button, label, new_role


def test_save_refuses_what_check_e_refuses_with_its_words(
    page: Page, editor: Editor, backends: Backends
) -> None:
    name = unique("settings")
    path = editor.folder / f"{name}.env"
    open_editor(page, editor)
    new_role(page, name, "custom")
    button(page, "Add variable").click()
    label(page, "New variable 1").fill("VAULT_ADDR")
    label(page, "New variable 1 value").fill("https://attacker.example")
    button(page, "Save").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Nothing was saved")
    assert not path.exists()
    # The inputs stay.
    expect(label(page, "New variable 1")).to_have_value("VAULT_ADDR")
    expect(label(page, "New variable 1 value")).to_have_value("https://attacker.example")
    # The words are check -e's own, for the same file.
    path.write_text("VAULT_ADDR=https://attacker.example\n")
    try:
        checked = subprocess.run(
            [sys.executable, "-m", "envsecrets", "check", "-e", str(path)],
            capture_output=True,
            text=True,
            env=backends.environ,
            timeout=60,
        )
    finally:
        path.unlink()
    assert checked.returncode == 2
    words = checked.stderr.strip().removeprefix("envsecrets: error: ")
    assert words.startswith(f"env file '{path}' sets VAULT_ADDR, a provider setting")
    expect(alert).to_contain_text(words)
    expect(label(page, "New variable 1 messages")).to_contain_text(words)


def test_enter_in_a_text_field_never_saves(page: Page, editor: Editor) -> None:
    name = unique("enter")
    path = editor.folder / f"{name}.env"
    open_editor(page, editor)
    new_role(page, name, "postgres")
    label(page, "HOST value").fill("db.internal")
    label(page, "HOST value").press("Enter")
    label(page, "PASS source").select_option("vaultkv2")
    label(page, "PASS name").fill("database/pg")
    label(page, "PASS name").press("Enter")
    label(page, "PASS key").fill("pass")
    label(page, "PASS key").press("Enter")
    page.wait_for_timeout(700)
    assert not path.exists()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_have_count(0)
    expect(label(page, "PASS key")).to_have_value("pass")  # half-typed, still here
    label(page, "PASS key").fill("password")
    label(page, "PASS key").press("Control+s")
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    assert "PASS=_vaultkv2:database/pg:password" in path.read_text()


def test_enter_never_saves_without_javascript(browser: Browser, editor: Editor) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        name = unique("enter-nojs")
        open_editor(page, editor)
        new_role(page, name, "mysql")
        label(page, "HOST value").fill("db.internal")
        label(page, "HOST value").press("Enter")
        page.wait_for_timeout(700)
        assert not (editor.folder / f"{name}.env").exists()
        button(page, "Save").click()
        expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    finally:
        context.close()


def test_a_key_the_secret_does_not_hold_is_flagged_as_typed(page: Page, editor: Editor) -> None:
    open_editor(page, editor)
    new_role(page, unique("keys"), "postgres")
    label(page, "PASS source").select_option("vaultkv2")
    label(page, "PASS name").fill("database/pg")
    key = label(page, "PASS key")
    key.press_sequentially("passwd")
    note = label(page, "PASS key check")
    expect(note).to_have_text("passwd is not a key of database/pg (its keys: password, user)")
    expect(key).to_have_attribute("aria-invalid", "true")
    key.fill("password")
    expect(note).to_have_text("")
    expect(key).not_to_have_attribute("aria-invalid", "true")
    key.fill("/user")  # a JSON Pointer: left to Test
    expect(note).to_have_text("")
    # Where the keys cannot be listed (no such secret), nothing is flagged.
    label(page, "PASS name").fill("database/absent")
    key.fill("")
    key.press_sequentially("anything")
    page.wait_for_timeout(600)
    expect(note).to_have_text("")
    # Any provider's keys: the document is read server-side, names only.
    label(page, "HOST source").select_option("rev")
    label(page, "HOST name").fill("olleh")
    label(page, "HOST key").press_sequentially("valeu")
    expect(label(page, "HOST key check")).to_have_text(
        "valeu is not a key of olleh (its keys: value)"
    )
