"""Issue 20's role-level Connection method: Manual input, Secrets Manager
and AWS IAM Role (the original's ``_aws_iam_rds`` pair), saved, reopened
and tested in the browser; a screenshot of the postgres role under each
method for docs/editor.md."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.editor.support import Editor, HeldScript, Recorder, open_editor, screenshot, unique
from tests.editor.test_browser import assert_no_secret, button, label, new_role, set_field

RDS_HOST = "pg-prod.c1abcdefghij.eu-west-1.rds.amazonaws.com"


def test_the_methods_offered_by_type(page: Page, editor: Editor) -> None:
    open_editor(page, editor)
    for kind in ("postgres", "mysql"):
        page.goto(f"{editor.base}/")
        new_role(page, unique(kind), kind)
        options = label(page, "Connection method").locator("option").all_inner_texts()
        assert options == ["Manual input", "Secrets Manager", "AWS IAM Role"]
        expect(label(page, "Connection method")).to_have_value("secrets")  # a new role
    for kind in ("mssql", "ssh", "custom"):
        page.goto(f"{editor.base}/")
        new_role(page, unique(kind), kind)
        options = label(page, "Connection method").locator("option").all_inner_texts()
        assert options == ["Manual input", "Secrets Manager"]


def test_a_method_chosen_before_the_script_ran_is_applied(page: Page, editor: Editor) -> None:
    """On a slow machine a person (or a test) may pick AWS IAM Role before
    the deferred script has run: the change event has no listener yet."""
    open_editor(page, editor)
    script = HeldScript(page)
    new_role(page, unique("pg-early"), "postgres")
    label(page, "Connection method").select_option("iam")
    expect(label(page, "PASS value")).to_be_visible()  # no script yet: nothing hides it
    script.release()
    expect(label(page, "PASS value")).to_be_hidden()
    expect(page.locator("#f-PASS .iam-note")).to_be_visible()


def test_aws_iam_role_saves_the_originals_pair_and_reopens(
    page: Page, recorder: Recorder, editor: Editor, tmp_path: Path
) -> None:
    name = unique("pg-iam")
    path = editor.folder / f"{name}.env"
    open_editor(page, editor)
    new_role(page, name, "postgres")
    label(page, "USER source").select_option("vaultkv2")  # switched away below
    label(page, "PASS value").fill("typed-before")
    label(page, "Connection method").select_option("iam")
    for hidden in ("PASS value", "PASS source", "PASS name", "USER source"):
        expect(label(page, hidden)).to_be_hidden()
    expect(page.locator("#f-PASS .iam-note")).to_be_visible()
    for shown in ("HOST value", "PORT value", "USER value"):
        expect(label(page, shown)).to_be_visible()
    # No HOST: the token could not be signed; Save says so.
    label(page, "USER value").fill("iam_user")
    label(page, "PORT value").fill("5432")
    button(page, "Save").click()
    expect(label(page, "HOST messages")).to_contain_text("AWS IAM Role needs HOST")
    assert not path.exists()
    label(page, "HOST value").fill(RDS_HOST)
    label(page, "DB value").fill("app")
    label(page, "SSLMODE value").fill("require")
    button(page, "Save").click()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    assert path.read_text().splitlines() == [
        "# envsecrets role: postgres",
        f"HOST={RDS_HOST}",
        "USER=_aws_iam_rds:iam_user",
        "PASS=_aws_iam_rds:authtoken",
        "PORT=5432",
        "DB=app",
        "SSLMODE=require",
    ]
    # Reopened: AWS IAM Role again, PASS hidden, USER the plain user.
    page.goto(f"{editor.base}/roles/{name}")
    expect(label(page, "Connection method")).to_have_value("iam")
    expect(label(page, "PASS value")).to_be_hidden()
    expect(label(page, "USER value")).to_have_value("iam_user")
    expect(label(page, "HOST value")).to_have_value(RDS_HOST)

    # Test: the token is made server-side; ok or the reason, never the token.
    button(page, "Test").click()
    status = label(page, "PASS status")
    expect(status).to_be_visible()
    expect(status).not_to_be_empty()
    expect(status).to_have_text("ok")
    expect(label(page, "USER status")).to_have_text("ok")
    screenshot(page, tmp_path, "editor-method-iam.png")
    # A HOST that cannot be read: the token cannot be made, and PASS says why.
    set_field(page, "HOST", ("vaultkv2", "database/pg", "nohost"))
    button(page, "Test").click()
    expect(label(page, "HOST status")).to_contain_text("nohost")
    expect(status).not_to_have_text("ok")
    expect(status).to_contain_text("HOST")
    texts = recorder.texts()
    assert not any("X-Amz-Signature" in text or "Amz-Credential" in text for text in texts)
    assert_no_secret(page, recorder, editor)

    # Back to Secrets Manager: PASS is a field again, USER keeps the user.
    label(page, "Connection method").select_option("secrets")
    expect(label(page, "PASS source")).to_be_visible()
    expect(label(page, "PASS value")).to_have_value("")
    expect(label(page, "USER value")).to_have_value("iam_user")
    set_field(page, "PASS", ("vaultkv2", "database/pg", "password"))
    button(page, "Save").click()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    assert "USER=iam_user" in path.read_text()
    assert "PASS=_vaultkv2:database/pg:password" in path.read_text()
    expect(label(page, "Connection method")).to_have_value("secrets")


def test_manual_input_types_every_value_and_loses_no_reference(
    page: Page, editor: Editor, tmp_path: Path
) -> None:
    name = unique("pg-manual")
    path = editor.folder / f"{name}.env"
    open_editor(page, editor)
    new_role(page, name, "postgres")
    set_field(page, "PASS", ("vaultkv2", "database/pg", "password"))
    label(page, "Connection method").select_option("manual")
    for field in ("HOST", "USER", "PASS", "PORT", "DB", "SSLMODE"):
        expect(label(page, f"{field} source")).to_be_hidden()
        expect(label(page, f"{field} value")).to_be_visible()
    # The reference became the typed value: nothing lost.
    expect(label(page, "PASS value")).to_have_value("_vaultkv2:database/pg:password")
    for field, value in (("HOST", "db.internal"), ("USER", "app"), ("PORT", "5432")):
        label(page, f"{field} value").fill(value)
    label(page, "DB value").fill("app")
    label(page, "SSLMODE value").fill("require")
    button(page, "Save").click()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    assert "PASS=_vaultkv2:database/pg:password" in path.read_text()
    # The method is read back from the values: a reference shows its source.
    expect(label(page, "Connection method")).to_have_value("secrets")
    expect(label(page, "PASS source")).to_have_value("vaultkv2")
    # A role of typed values only reopens as Manual input.
    label(page, "Connection method").select_option("manual")
    label(page, "PASS value").fill("s3cret-typed")
    button(page, "Save").click()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    page.goto(f"{editor.base}/roles/{name}")
    expect(label(page, "Connection method")).to_have_value("manual")
    expect(label(page, "PASS value")).to_have_attribute("type", "password")
    screenshot(page, tmp_path, "editor-method-manual.png")


def test_secrets_manager_screenshot(page: Page, editor: Editor, tmp_path: Path) -> None:
    name = unique("pg-secrets")
    open_editor(page, editor)
    new_role(page, name, "postgres")
    set_field(page, "HOST", ("manual", "db.internal"))
    set_field(page, "USER", ("vaultkv2", "database/pg", "user"))
    set_field(page, "PASS", ("vaultkv2", "database/pg", "password"))
    set_field(page, "PORT", ("envjson", "ENV_CONFIG", "PG_PORT"))
    set_field(page, "DB", ("vaultkv1", "kv1/pg", "db"))
    set_field(page, "SSLMODE", ("aws", "pgprod", "SSLMODE"))
    button(page, "Save").click()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    expect(label(page, "Connection method")).to_have_value("secrets")
    button(page, "Test").click()
    expect(label(page, "PASS status")).to_have_text("ok")
    screenshot(page, tmp_path, "editor-method-secrets.png")
