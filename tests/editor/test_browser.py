"""The role editor in a real Chromium, against real OpenBao and moto servers.

The page is driven by the accessible names the issue fixes (``F source``,
``F name``, ``F key``, ``F value``, ``F status``, ``Save``, ``Test``...).
"""

from __future__ import annotations

import stat
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import SENTINEL
from tests.editor.support import (
    Backends,
    Editor,
    HeldScript,
    Recorder,
    open_editor,
    screenshot,
    start_editor,
    stop_editor,
    unique,
)

MIXED = {
    # field: (source, name, key) or ("manual", value)
    "HOST": ("manual", "db.internal"),
    "USER": ("vaultkv2", "database/pg", "user"),
    "PASS": ("vaultkv2", "database/pg", "password"),
    "PORT": ("envjson", "ENV_CONFIG", "PG_PORT"),
    "DB": ("vaultkv1", "kv1/pg", "db"),
    "SSLMODE": ("aws", "pgprod", "SSLMODE"),
}


def label(page: Page, text: str):  # type: ignore[no-untyped-def]
    return page.get_by_label(text, exact=True)


def button(page: Page, name: str):  # type: ignore[no-untyped-def]
    return page.get_by_role("button", name=name, exact=True)


def new_role(page: Page, name: str, kind: str) -> None:
    label(page, "Role name").fill(name)
    label(page, "Resource type").select_option(kind)
    button(page, "New role").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)


def set_field(page: Page, field: str, spec: tuple[str, ...]) -> None:
    label(page, f"{field} source").select_option(spec[0])
    if spec[0] == "manual":
        label(page, f"{field} value").fill(spec[1])
    else:
        label(page, f"{field} name").fill(spec[1])
        label(page, f"{field} key").fill(spec[2])


def assert_no_secret(page: Page, recorder: Recorder, editor: Editor) -> None:
    texts = recorder.texts()
    assert texts, "no response was recorded"
    for text in texts:
        assert SENTINEL not in text, f"a secret value reached the browser: {text[:200]!r}"
    assert SENTINEL not in page.content()
    assert SENTINEL not in page.evaluate("document.documentElement.outerHTML")
    assert SENTINEL not in editor.stderr()


def test_compose_save_reopen_and_test_a_mixed_postgres_role(
    page: Page, recorder: Recorder, editor: Editor, tmp_path: Path
) -> None:
    name = "pg-prod"  # the only test using it: the screenshot shows a plain name
    open_editor(page, editor)
    new_role(page, name, "postgres")
    for field, spec in MIXED.items():
        set_field(page, field, spec)
    button(page, "Save").click()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()

    path = editor.folder / f"{name}.env"
    assert path.read_text().splitlines() == [
        "# envsecrets role: postgres",
        "HOST=db.internal",
        "USER=_vaultkv2:database/pg:user",
        "PASS=_vaultkv2:database/pg:password",
        "PORT=_envjson:ENV_CONFIG:PG_PORT",
        "DB=_vaultkv1:kv1/pg:db",
        "SSLMODE=_aws:pgprod:SSLMODE",
    ]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # The page shows the file, manual values masked, references as written.
    preview = page.get_by_label("File on disk")
    expect(preview).to_contain_text("PASS=_vaultkv2:database/pg:password")
    expect(preview).not_to_contain_text("db.internal")

    # Reopen: every field is back in its source, NAME and KEY.
    page.goto(f"{editor.base}/roles/{name}")
    for field, spec in MIXED.items():
        expect(label(page, f"{field} source")).to_have_value(spec[0])
        if spec[0] == "manual":
            expect(label(page, f"{field} value")).to_have_value(spec[1])
            # Not a secret field: typed in plain text (only PASS-like fields are masked).
            expect(label(page, f"{field} value")).to_have_attribute("type", "text")
        else:
            expect(label(page, f"{field} name")).to_have_value(spec[1])
            expect(label(page, f"{field} key")).to_have_value(spec[2])

    button(page, "Test").click()
    for field, spec in MIXED.items():
        expected = "manual value" if spec[0] == "manual" else "ok"
        expect(label(page, f"{field} status")).to_have_text(expected)

    # A missing key and a missing secret: the reason, per field.
    label(page, "PASS key").fill("passwd")
    label(page, "DB name").fill("kv1/absent")
    button(page, "Test").click()
    expect(label(page, "PASS status")).to_contain_text("passwd")
    expect(label(page, "PASS status")).not_to_have_text("ok")
    expect(label(page, "DB status")).to_contain_text("kv1/absent")
    expect(label(page, "USER status")).to_have_text("ok")
    screenshot(page, tmp_path, "editor-role.png")
    # Testing saved nothing.
    assert "passwd" not in path.read_text()
    assert_no_secret(page, recorder, editor)


def test_existing_file_round_trip_keeps_what_the_editor_does_not_change(
    page: Page, recorder: Recorder, editor: Editor
) -> None:
    name = unique("legacy")
    path = editor.folder / f"{name}.env"
    path.write_text(
        "# hand-written\n"
        "export HOST=db.internal\n"
        "PASS=_vaultkv2:database/pg:password\n"
        "\n"
        "TOKEN=_corp:tokens/app:value   # a provider not installed here\n"
        'GREETING="hello world"\n'
    )
    open_editor(page, editor)
    page.get_by_role("link", name=name, exact=True).click()
    expect(label(page, "TOKEN source")).to_have_value("keep")
    expect(page.locator("#f-TOKEN")).to_contain_text("_corp:tokens/app:value")
    expect(label(page, "TOKEN messages")).to_contain_text("no installed provider serves _corp")
    expect(label(page, "GREETING value")).to_have_value("hello world")

    label(page, "HOST value").fill("db2.internal")
    label(page, "GREETING remove").check()
    button(page, "Save").click()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    assert path.read_text() == (
        "# hand-written\n"
        "export HOST=db2.internal\n"
        "PASS=_vaultkv2:database/pg:password\n"
        "\n"
        "TOKEN=_corp:tokens/app:value   # a provider not installed here\n"
    )
    expect(label(page, "GREETING value")).to_have_count(0)
    assert_no_secret(page, recorder, editor)


def test_add_variable_and_show_toggle(page: Page, editor: Editor) -> None:
    name = unique("custom")
    open_editor(page, editor)
    new_role(page, name, "custom")
    button(page, "Add variable").click()
    page.wait_for_load_state()
    label(page, "New variable 1").fill("api_token")
    expect(label(page, "New variable 1")).to_have_value("API_TOKEN")  # upper-cased as typed
    label(page, "New variable 1 value").fill("tok-123")
    value = label(page, "New variable 1 value")
    expect(value).to_have_attribute("type", "password")
    page.get_by_role("button", name="Show New variable 1 value").click()
    expect(value).to_have_attribute("type", "text")
    button(page, "Save").click()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    assert (editor.folder / f"{name}.env").read_text().splitlines() == [
        "# envsecrets role: custom",
        "API_TOKEN=tok-123",
    ]
    expect(label(page, "API_TOKEN value")).to_have_value("tok-123")
    # A credential-like name is masked; any other is typed in plain text.
    expect(label(page, "API_TOKEN value")).to_have_attribute("type", "password")
    button(page, "Add variable").click()
    label(page, "New variable 1").fill("api_url")
    label(page, "New variable 1 value").fill("https://api.internal")
    button(page, "Save").click()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    expect(label(page, "API_URL value")).to_have_attribute("type", "text")
    expect(page.get_by_role("button", name="Show API_URL value")).to_have_count(0)


def test_live_validation_uses_the_grammar_and_each_providers_split(
    page: Page, editor: Editor
) -> None:
    open_editor(page, editor)
    new_role(page, unique("check"), "mysql")
    messages = {field: label(page, f"{field} messages") for field in ("HOST", "USER", "PASS", "DB")}

    label(page, "HOST source").select_option("vaultkv2")
    label(page, "HOST name").fill("")
    label(page, "HOST key").fill("host")
    expect(messages["HOST"]).to_contain_text("NAME is empty")

    label(page, "USER source").select_option("vaultkv2")
    label(page, "USER name").fill("team:app")  # split at the last colon: needs a KEY
    expect(messages["USER"]).to_contain_text("would read this as NAME 'team' and KEY 'app'")

    label(page, "PASS source").select_option("envjson")
    label(page, "PASS name").fill("ENV_CONFIG")
    expect(messages["PASS"]).to_contain_text("needs a key")

    # An ARN without KEY is whole for _aws (its own split), so no error.
    label(page, "DB source").select_option("aws")
    label(page, "DB name").fill("arn:aws:secretsmanager:us-east-1:123456789012:secret:pg-AbCdEf")
    label(page, "HOST key").fill("host2")  # another edit, so validation ran after DB's
    expect(messages["HOST"]).to_contain_text("NAME is empty")
    expect(messages["DB"]).to_be_empty()

    label(page, "HOST source").select_option("manual")
    label(page, "HOST value").fill("_nosuch:thing:key")
    expect(messages["HOST"]).to_contain_text("no installed provider serves the prefix _nosuch")

    # Save refuses while errors remain, and says so.
    button(page, "Save").click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was saved")


def test_save_validates_without_javascript(browser, editor: Editor) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        open_editor(page, editor)
        name = unique("nojs")
        new_role(page, name, "mongodb")
        # Without the script, every input is visible; the source decides.
        label(page, "CONNECTION_STRING source").select_option("vaultkv2")
        label(page, "CONNECTION_STRING name").fill("a:b")
        label(page, "CONNECTION_STRING key").fill("")
        button(page, "Save").click()
        expect(page.get_by_role("alert")).to_contain_text("Nothing was saved")
        expect(label(page, "CONNECTION_STRING messages")).to_contain_text("would read this")
        assert not (editor.folder / f"{name}.env").exists()
        label(page, "CONNECTION_STRING name").fill("database/pg")
        label(page, "CONNECTION_STRING key").fill("password")
        button(page, "Save").click()
        expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
        assert (
            "CONNECTION_STRING=_vaultkv2:database/pg:password"
            in (editor.folder / f"{name}.env").read_text()
        )
    finally:
        context.close()


def test_every_installed_provider_is_offered_with_its_description(
    page: Page, editor: Editor
) -> None:
    open_editor(page, editor)
    new_role(page, unique("picker"), "http")
    options = label(page, "REMOTE_URL source").locator("option")
    texts = options.all_inner_texts()
    assert texts[0] == "Manual"
    # Short names as the original shows them; a third party's first words.
    assert {"AWS Secrets Manager", "Env JSON", "Vault KV v1", "Vault KV v2"} <= set(texts)
    assert "Reverses its name" in texts  # envsecrets-rev, installed in the test env
    # The prefix and the whole description are in the tooltip.
    titles = [option.get_attribute("title") for option in options.all()[1:]]
    prefixes = [(title or "").split(" ", 1)[0] for title in titles]
    assert {"_aws", "_envjson", "_rev", "_vaultkv1", "_vaultkv2"} <= set(prefixes)
    assert prefixes == sorted(prefixes)
    assert "_rev · Reverses its name (an example)." in titles
    # ... and in the hint line under the picker.
    label(page, "REMOTE_URL source").select_option("vaultkv2")
    expect(label(page, "REMOTE_URL prefix")).to_have_text("_vaultkv2:NAME:KEY")
    # The NAME and KEY placeholders are the chosen provider's hints.
    label(page, "REMOTE_URL source").select_option("vaultkv2")
    expect(label(page, "REMOTE_URL name")).to_have_attribute("placeholder", "database/pg")
    expect(label(page, "REMOTE_URL key")).to_have_attribute("placeholder", "password")
    label(page, "REMOTE_URL source").select_option("aws")
    expect(label(page, "REMOTE_URL name")).to_have_attribute("placeholder", "pgprod")
    set_field(page, "REMOTE_URL", ("rev", "olleh", "value"))
    button(page, "Test").click()
    expect(label(page, "REMOTE_URL status")).to_have_text("ok")


def test_role_names_cannot_leave_the_folder(page: Page, editor: Editor) -> None:
    open_editor(page, editor)
    for bad in ("../x", "/etc/passwd", ".hidden", "a/b"):
        label(page, "Role name").fill(bad)
        page.locator("input[name=role]").evaluate("input => input.removeAttribute('pattern')")
        button(page, "New role").click()
        expect(page.get_by_role("alert")).to_contain_text("refused")
    assert not (editor.folder.parent / "x.env").exists()
    outside = editor.folder.parent / f"{unique('outside')}.env"
    outside.write_text("PASS=outside\n")
    link = editor.folder / "escape.env"
    link.symlink_to(outside)
    try:
        page.goto(f"{editor.base}/")
        expect(page.get_by_role("link", name="escape", exact=True)).to_have_count(0)
        expect(page.locator("main")).to_contain_text("escape.env refused: it is a symbolic link")
        response = page.goto(f"{editor.base}/roles/escape")
        assert response is not None
        assert response.status == 400
        assert "outside" not in page.content()
    finally:
        link.unlink()


def test_a_change_on_disk_since_the_page_loaded_refuses_save(page: Page, editor: Editor) -> None:
    name = unique("race")
    path = editor.folder / f"{name}.env"
    path.write_text("# envsecrets role: custom\nHOST=one\n")
    open_editor(page, editor)
    page.goto(f"{editor.base}/roles/{name}")
    path.write_text("# envsecrets role: custom\nHOST=one\nADDED=elsewhere\n")
    label(page, "HOST value").fill("two")
    button(page, "Save").click()
    expect(page.get_by_role("alert")).to_contain_text("changed on disk")
    expect(label(page, "HOST value")).to_have_value("two")  # the user's input is kept
    assert path.read_text() == "# envsecrets role: custom\nHOST=one\nADDED=elsewhere\n"
    button(page, "Save").click()  # still stale: still refused
    expect(page.get_by_role("alert")).to_contain_text("changed on disk")
    assert "two" not in path.read_text()


def test_a_name_typed_before_the_script_ran_gets_suggestions(page: Page, editor: Editor) -> None:
    open_editor(page, editor)
    script = HeldScript(page)
    new_role(page, unique("suggest-early"), "postgres")
    label(page, "PASS source").select_option("vaultkv2")
    label(page, "PASS name").fill("database/")  # it keeps the focus
    script.release()
    expect(page.locator("#f-PASS-names option[value='database/pg']")).to_be_attached()
    expect(label(page, "PASS name")).to_be_visible()  # the source's parts shown at start


def test_a_field_typed_before_the_script_ran_is_checked(page: Page, editor: Editor) -> None:
    open_editor(page, editor)
    script = HeldScript(page)
    new_role(page, unique("check-early"), "postgres")
    label(page, "PASS source").select_option("vaultkv2")
    label(page, "PASS name").fill("../pg")  # no Vault path climbs
    label(page, "PASS key").fill("password")
    label(page, "HOST value").focus()  # a field in focus triggers nothing by itself
    script.release()
    expect(label(page, "PASS messages")).to_contain_text("..")


def test_suggestions_list_names_and_keys_never_values(
    page: Page, recorder: Recorder, editor: Editor
) -> None:
    open_editor(page, editor)
    new_role(page, unique("suggest"), "postgres")
    label(page, "PASS source").select_option("vaultkv2")
    label(page, "PASS name").fill("database/")
    names = page.locator("#f-PASS-names option")
    expect(page.locator("#f-PASS-names option[value='database/pg']")).to_be_attached()
    values = [option.get_attribute("value") for option in names.all()]
    assert values == ["database/pg", "database/reporting"]
    label(page, "PASS name").fill("database/pg")
    label(page, "PASS key").focus()
    keys = page.locator("#f-PASS-keys option")
    expect(keys).to_have_count(2)
    assert [option.get_attribute("value") for option in keys.all()] == ["password", "user"]
    assert keys.first.get_attribute("label") == "string"

    label(page, "PORT source").select_option("envjson")
    label(page, "PORT name").fill("ENV_")
    expect(page.locator("#f-PORT-names option[value=ENV_CONFIG]")).to_be_attached()
    label(page, "PORT name").fill("ENV_CONFIG")
    label(page, "PORT key").focus()
    expect(page.locator("#f-PORT-keys option[value=PG_PORT]")).to_have_attribute("label", "number")

    # A provider that cannot list: no suggestions, and no error.
    label(page, "HOST source").select_option("rev")
    label(page, "HOST name").fill("ab")
    page.wait_for_timeout(600)
    expect(page.locator("#f-HOST-names option")).to_have_count(0)
    assert_no_secret(page, recorder, editor)


def test_role_page_weight_and_start_time(  # type: ignore[no-untyped-def]
    page: Page, editor: Editor, backends: Backends, tmp_path: Path, capsys
) -> None:
    name = unique("weight")
    (editor.folder / f"{name}.env").write_text(
        "".join(f"{field}=_vaultkv2:database/pg:user\n" for field in MIXED)
    )
    recorder = Recorder(page)
    open_editor(page, editor)
    recorder.responses.clear()
    page.goto(f"{editor.base}/roles/{name}")
    page.wait_for_load_state("networkidle")
    weight = recorder.total_bytes()
    assert 0 < weight < 100_000

    # A fresh start: to the URL line, then to the first answer served.
    started = time.perf_counter()
    fresh = start_editor(tmp_path, backends.environ)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(fresh.base + "/", timeout=30)
    assert refused.value.code == 403
    served = time.perf_counter() - started
    stop_editor(fresh)
    with capsys.disabled():
        print(
            f"\neditor: URL line after {fresh.started_in * 1000:.0f} ms, first answer after "
            f"{served * 1000:.0f} ms (process start); role page {weight} bytes of HTML+JS+CSS "
            f"({len(MIXED)} fields)"
        )
