"""The local server's defences and life cycle, over plain HTTP (no browser):
token, Host header, cross-origin POST, CSRF, headers, Ctrl-C, --host."""

from __future__ import annotations

import http.client
import re
import subprocess
import sys
from pathlib import Path

from tests.editor.support import Backends, Editor, start_editor, stop_editor, unique


def request(
    editor: Editor,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    body: str | None = None,
) -> tuple[int, dict[str, str], str]:
    connection = http.client.HTTPConnection("127.0.0.1", editor.port, timeout=20)
    try:
        sent = {"Host": f"127.0.0.1:{editor.port}", **(headers or {})}
        connection.request(method, path, body=body, headers=sent)
        answer = connection.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read().decode()
    finally:
        connection.close()


def cookie(editor: Editor) -> str:
    """Trade the URL token for the session cookie, as the browser does."""
    status, headers, _ = request(editor, "GET", f"/?token={editor.token}")
    assert status == 303
    assert headers["location"] == f"{editor.prefix}/"
    set_cookie = headers["set-cookie"]
    assert "httponly" in set_cookie.lower()
    assert "samesite=strict" in set_cookie.lower()
    assert f"Path={editor.prefix}/;" in set_cookie
    return set_cookie.split(";", 1)[0]


def csrf(editor: Editor, session: str) -> str:
    _, _, html = request(editor, "GET", f"{editor.prefix}/", headers={"Cookie": session})
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert match
    return match[1]


def test_every_request_needs_the_token(editor: Editor) -> None:
    paths = ("/", "/roles/x", "/static/editor.js", "/api/names?source=vaultkv2&prefix=")
    for path in paths:
        for prefix in ("", editor.prefix):
            status, _, body = request(editor, "GET", prefix + path)
            assert (status, body) == (403, "Forbidden.")
    status, headers, _ = request(editor, "GET", f"//evil.example/?token={editor.token}&a=1")
    assert status == 303
    assert headers["location"] == f"{editor.prefix}/?a=1"  # a path here, not another host
    status, _, body = request(editor, "GET", "/?token=wrong")
    assert (status, body) == (403, "Forbidden.")
    status, _, _ = request(
        editor, "GET", f"{editor.prefix}/", headers={"Cookie": f"envsecrets_editor_{editor.port}=x"}
    )
    assert status == 403
    session = cookie(editor)
    # The cookie alone opens nothing: the prefix is needed too.
    for path in paths:
        status, _, body = request(editor, "GET", path, headers={"Cookie": session})
        assert (status, body) == (403, "Forbidden.")
    status, headers, body = request(editor, "GET", f"{editor.prefix}/", headers={"Cookie": session})
    assert status == 200
    assert "New role" in body
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["x-frame-options"] == "DENY"
    assert headers["cache-control"] == "no-store"
    assert "<script>" not in body
    assert " style=" not in body


def test_a_foreign_host_header_gets_400(editor: Editor) -> None:
    session = cookie(editor)
    for host in (f"evil.example:{editor.port}", "127.0.0.1:1", f"127.0.0.1.nip.io:{editor.port}"):
        status, _, body = request(editor, "GET", "/", headers={"Host": host, "Cookie": session})
        assert (status, body) == (400, "Bad Host header.")
    status, _, _ = request(
        editor,
        "GET",
        f"{editor.prefix}/",
        headers={"Host": f"localhost:{editor.port}", "Cookie": session},
    )
    assert status == 200


def test_cross_origin_and_tokenless_posts_are_refused(editor: Editor) -> None:
    name = unique("csrf")
    path = editor.folder / f"{name}.env"
    path.write_text("HOST=one\n")
    session = cookie(editor)
    token = csrf(editor, session)
    _, _, page = request(
        editor, "GET", f"{editor.prefix}/roles/{name}", headers={"Cookie": session}
    )
    version = re.search(r'name="version" value="([0-9a-f]+)"', page)
    assert version
    form = (
        f"csrf={token}&version={version[1]}&type=custom&action=save"
        "&f-HOST-source=manual&f-HOST-value=evil"
    )
    form_headers = {"Cookie": session, "Content-Type": "application/x-www-form-urlencoded"}
    origin = f"http://127.0.0.1:{editor.port}"
    refused = [
        {**form_headers, "Origin": "http://evil.example"},
        {**form_headers, "Origin": "null"},
        form_headers,  # no Origin at all
    ]
    for headers in refused:
        status, _, body = request(
            editor, "POST", f"{editor.prefix}/roles/{name}", headers=headers, body=form
        )
        assert (status, body) == (403, "Cross-origin request refused.")
    no_csrf = form.replace(f"csrf={token}", "csrf=0")
    status, _, _ = request(
        editor,
        "POST",
        f"{editor.prefix}/roles/{name}",
        headers={**form_headers, "Origin": origin},
        body=no_csrf,
    )
    assert status == 403
    assert path.read_text() == "HOST=one\n"
    # The same form from the page's own origin, with the CSRF token, saves.
    status, headers, _ = request(
        editor,
        "POST",
        f"{editor.prefix}/roles/{name}",
        headers={**form_headers, "Origin": origin},
        body=form,
    )
    assert status == 303
    assert path.read_text() == "HOST=evil\n"


def test_ctrl_c_stops_cleanly(backends: Backends, tmp_path: Path) -> None:
    running = start_editor(tmp_path, backends.environ)
    assert running.url.startswith("http://127.0.0.1:")
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/\?token=[\w-]{40,}", running.url)
    assert request(running, "GET", "/")[0] == 403  # serving
    assert stop_editor(running) == 0
    assert "Traceback" not in running.stderr()


def test_binding_beyond_loopback_warns(backends: Backends, tmp_path: Path) -> None:
    running = start_editor(tmp_path, backends.environ, "--host", "0.0.0.0")
    try:
        assert running.url.startswith("http://127.0.0.1:")
        assert "warning: listening on 0.0.0.0, not on loopback" in running.stderr()
    finally:
        stop_editor(running)


def test_the_command_is_listed_and_documented(backends: Backends) -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "envsecrets", "edit", "--help"],
        capture_output=True,
        text=True,
        env=backends.environ,
        timeout=60,
    )
    assert shown.returncode == 0
    for option in ("--host", "--port", "--no-browser", "DIR"):
        assert option in shown.stdout


def test_the_entry_module_imports_no_web_stack(backends: Backends) -> None:
    probe = (
        "import sys, envsecrets_editor\n"
        "heavy = [m for m in ('starlette', 'uvicorn', 'jinja2') if m in sys.modules]\n"
        "print(heavy)"
    )
    shown = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=backends.environ
    )
    assert shown.stdout.strip() == "[]", shown.stderr


def test_a_missing_folder_is_a_usage_error(backends: Backends, tmp_path: Path) -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "envsecrets", "edit", str(tmp_path / "absent"), "--no-browser"],
        capture_output=True,
        text=True,
        env=backends.environ,
        timeout=60,
    )
    assert shown.returncode == 2
    assert "not a folder" in shown.stderr
    assert shown.stdout == ""
