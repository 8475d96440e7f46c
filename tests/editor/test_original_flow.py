"""The original web app's flow: field labels, bash and shell types, plain
inputs for what is not secret, short source names, the roles list (type,
rename, delete), a narrow window, no provider installed, third-party
resource templates."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.editor.support import (
    Backends,
    Editor,
    open_editor,
    start_editor,
    stop_editor,
    unique,
)
from tests.editor.test_browser import button, label, new_role

POSTGRES_LABELS = {
    "HOST": "Host",
    "USER": "User",
    "PASS": "Pass",
    "PORT": "Port",
    "DB": "Database",
    "SSLMODE": "SSL Mode",
}


def test_fields_show_the_originals_labels_beside_the_variable(page: Page, editor: Editor) -> None:
    open_editor(page, editor)
    new_role(page, unique("labels"), "postgres")
    for variable, text in POSTGRES_LABELS.items():
        legend = page.locator(f"#f-{variable} legend")
        expect(legend.locator(".field-label")).to_have_text(text)
        expect(legend.locator(".variable")).to_have_text(variable)
        # The accessible names stay the variable's.
        expect(label(page, f"{variable} source")).to_be_visible()
        expect(label(page, f"{variable} value")).to_be_attached()


def test_only_password_like_fields_are_masked(page: Page, editor: Editor) -> None:
    open_editor(page, editor)
    new_role(page, unique("plain"), "postgres")
    for variable in ("HOST", "USER", "PORT", "DB", "SSLMODE"):
        expect(label(page, f"{variable} value")).to_have_attribute("type", "text")
        expect(page.get_by_role("button", name=f"Show {variable} value")).to_have_count(0)
    expect(label(page, "PASS value")).to_have_attribute("type", "password")
    label(page, "PASS value").fill("typed")
    page.get_by_role("button", name="Show PASS value").click()
    expect(label(page, "PASS value")).to_have_attribute("type", "text")


def test_bash_and_shell_roles(page: Page, editor: Editor) -> None:
    open_editor(page, editor)
    kinds = label(page, "Resource type").locator("option").all_inner_texts()
    assert "Bash" in kinds
    assert "Shell (any command)" in kinds
    for kind, shown in (("bash", "Bash"), ("shell", "Shell (any command)")):
        name = unique(kind)
        page.goto(f"{editor.base}/")
        new_role(page, name, kind)
        expect(page.locator("h1 .kind")).to_have_text(shown)
        button(page, "Add variable").click()
        label(page, "New variable 1").fill("GREETING")
        label(page, "New variable 1 value").fill("hello")
        button(page, "Save").click()
        expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
        assert (editor.folder / f"{name}.env").read_text().splitlines() == [
            f"# envsecrets role: {kind}",
            "GREETING=hello",
        ]
        page.goto(f"{editor.base}/")
        expect(label(page, f"{name} type")).to_have_text(shown)


def test_the_roles_list_shows_types_and_renames(page: Page, editor: Editor) -> None:
    old, new = unique("old"), unique("new")
    text = "# envsecrets role: postgres\nHOST=db.internal\n"
    (editor.folder / f"{old}.env").write_text(text)
    (editor.folder / f"{unique('taken')}.env").write_text("A=1\n")
    open_editor(page, editor)
    expect(label(page, f"{old} type")).to_have_text("PostgreSQL")
    label(page, f"New name for {old}").fill(new)
    page.get_by_role("button", name=f"Rename {old}", exact=True).click()
    expect(page.get_by_role("status")).to_have_text(f"Renamed {old}.env to {new}.env.")
    assert not (editor.folder / f"{old}.env").exists()
    assert (editor.folder / f"{new}.env").read_text() == text
    assert (editor.folder / f"{new}.env").stat().st_nlink == 1
    expect(page.get_by_role("link", name=new, exact=True)).to_be_visible()

    # Never onto another role.
    taken = next(p.stem for p in editor.folder.glob("taken-*.env"))
    label(page, f"New name for {new}").fill(taken)
    page.get_by_role("button", name=f"Rename {new}", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("exists already")
    assert (editor.folder / f"{new}.env").read_text() == text
    assert (editor.folder / f"{taken}.env").read_text() == "A=1\n"

    # Not when the file changed since the list was loaded.
    page.goto(f"{editor.base}/")
    (editor.folder / f"{new}.env").write_text(text + "PORT=5432\n")
    label(page, f"New name for {new}").fill(old)
    page.get_by_role("button", name=f"Rename {new}", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("changed on disk")
    assert (editor.folder / f"{new}.env").read_text() == text + "PORT=5432\n"
    assert not (editor.folder / f"{old}.env").exists()
    assert not list(editor.folder.glob(".*moving"))


def test_delete_asks_first_and_refuses_a_changed_file(page: Page, editor: Editor) -> None:
    name = unique("gone")
    path = editor.folder / f"{name}.env"
    path.write_text("# envsecrets role: mysql\nHOST=a\n")
    open_editor(page, editor)
    page.get_by_role("button", name=f"Delete {name}", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Delete {name}.env?")
    assert path.exists()  # asked, not done
    # The file changes meanwhile: the confirmed delete refuses.
    path.write_text("# envsecrets role: mysql\nHOST=b\n")
    page.get_by_role("button", name=f"Delete {name}.env", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("changed on disk")
    assert path.read_text() == "# envsecrets role: mysql\nHOST=b\n"
    # Asked again on the fresh list, confirmed: gone.
    page.get_by_role("button", name=f"Delete {name}", exact=True).click()
    page.get_by_role("button", name=f"Delete {name}.env", exact=True).click()
    expect(page.get_by_role("status")).to_have_text(f"Deleted {name}.env.")
    assert not path.exists()
    assert not list(editor.folder.glob(".*moving"))
    expect(page.get_by_role("link", name=name, exact=True)).to_have_count(0)


def _no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 420, f"the page is {width} px wide"


def _in_view(page: Page, name: str) -> None:
    box = button(page, name).bounding_box()
    assert box is not None
    height = page.viewport_size["height"] if page.viewport_size else 0
    assert box["y"] >= 0, (name, box)
    assert box["y"] + box["height"] <= height, (name, box)


def test_usable_at_420_px_with_save_and_test_always_reachable(
    browser: Browser, editor: Editor
) -> None:
    name = unique("long")
    lines = [
        "# envsecrets role: postgres",
        "HOST=db.internal",
        "PASS=_vaultkv2:database/pg:password",
    ]
    lines += [f"VARIABLE_{n:02}=_vaultkv2:database/pg:user" for n in range(40)]
    (editor.folder / f"{name}.env").write_text("\n".join(lines) + "\n")
    context = browser.new_context(viewport={"width": 420, "height": 700})
    try:
        page = context.new_page()
        open_editor(page, editor)
        _no_sideways_scroll(page)
        page.goto(f"{editor.base}/roles/{name}")
        expect(label(page, "VARIABLE_39 source")).to_have_value("vaultkv2")
        _no_sideways_scroll(page)
        for where in (0, 2000, 100_000):
            page.evaluate(f"window.scrollTo(0, {where})")
            _in_view(page, "Save")
            _in_view(page, "Test")
        button(page, "Test").click()
        expect(label(page, "VARIABLE_39 status")).to_have_text("ok")
        _no_sideways_scroll(page)
    finally:
        context.close()


def test_with_no_provider_the_page_says_how_to_install_one(
    page: Page, backends: Backends, tmp_path: Path
) -> None:
    environ = {**backends.environ, "ENVSECRETS_PLUGINS": "envsecrets-editor"}
    running = start_editor(tmp_path, environ)
    try:
        open_editor(page, running)
        hint = page.get_by_role("note")
        expect(hint).to_contain_text("No provider is installed")
        expect(hint).to_contain_text("envsecrets-vault")
        expect(hint).to_contain_text("pip install")
        new_role(page, "typed", "postgres")
        expect(page.get_by_role("note")).to_contain_text("No provider is installed")
        assert label(page, "HOST source").locator("option").all_inner_texts() == ["Manual"]
    finally:
        stop_editor(running)


def test_a_plugin_adds_a_resource_template(page: Page, editor: Editor) -> None:
    open_editor(page, editor)
    assert "Redis" in label(page, "Resource type").locator("option").all_inner_texts()
    name = unique("cache")
    new_role(page, name, "redis")
    expect(page.locator("h1 .kind")).to_have_text("Redis")
    expect(page.locator("#f-PASS .field-label")).to_have_text("Password")
    expect(label(page, "PASS value")).to_have_attribute("type", "password")
    expect(label(page, "HOST value")).to_have_attribute("type", "text")
    expect(label(page, "PORT value")).to_have_attribute("placeholder", "6379")
    label(page, "HOST value").fill("cache.internal")
    button(page, "Save").click()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    assert (editor.folder / f"{name}.env").read_text().splitlines()[:2] == [
        "# envsecrets role: redis",
        "HOST=cache.internal",
    ]
