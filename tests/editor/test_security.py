"""Issue 21's attacks on the same machine: another local server riding the
session, the token on the browser's command line, a huge POST, hostile role
files (links, loops, hard links, races)."""

from __future__ import annotations

import http.client
import http.server
import os
import signal
import socket
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from envsecrets_editor.roledir import RoleDirectory
from envsecrets_editor.rolefile import RoleError
from tests.editor.support import Backends, Editor, open_editor, start_editor, stop_editor, unique

BIG = 200 * 1024 * 1024


class Recorded(http.server.BaseHTTPRequestHandler):
    """A local web server (a dev server, a notebook) that keeps every
    request's path and Cookie header."""

    seen: list[tuple[str, str]]

    def do_GET(self) -> None:
        self.seen.append((self.path, self.headers.get("Cookie", "")))
        body = b"<!doctype html><title>other</title><p>another local server</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def other_server() -> Iterator[tuple[int, list[tuple[str, str]]]]:
    seen: list[tuple[str, str]] = []
    handler = type("Handler", (Recorded,), {"seen": seen})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], seen
    finally:
        server.shutdown()
        server.server_close()


def raw(editor: Editor, method: str, path: str, headers: dict[str, str], body: str = "") -> int:
    connection = http.client.HTTPConnection("127.0.0.1", editor.port, timeout=20)
    try:
        connection.request(
            method, path, body=body or None, headers={"Host": f"127.0.0.1:{editor.port}", **headers}
        )
        answer = connection.getresponse()
        answer.read()
        return answer.status
    finally:
        connection.close()


def test_another_local_port_receives_nothing_that_opens_the_editor(
    page: Page, editor: Editor, other_server: tuple[int, list[tuple[str, str]]]
) -> None:
    port, seen = other_server
    name = unique("ride")
    path = editor.folder / f"{name}.env"
    path.write_text("HOST=one\n")
    open_editor(page, editor)
    page.goto(f"{editor.base}/roles/{name}")
    expect(page.get_by_label("HOST value", exact=True)).to_have_value("one")
    # The user then visits other local servers, at their root and deeper.
    for visited in ("/", "/roles/x", "/static/editor.js", "/?token=x"):
        page.goto(f"http://127.0.0.1:{port}{visited}")
        expect(page.locator("p")).to_have_text("another local server")
    assert {path for path, _ in seen} >= {"/", "/roles/x", "/static/editor.js", "/?token=x"}
    cookies = [cookie for _, cookie in seen]
    assert all(f"envsecrets_editor_{editor.port}" not in cookie for cookie in cookies), cookies
    # Whatever it received, replayed with a forged Origin, opens nothing.
    origin = f"http://127.0.0.1:{editor.port}"
    for cookie in {*cookies, ""}:
        headers = {"Cookie": cookie, "Origin": origin} if cookie else {"Origin": origin}
        for where in ("/", f"/roles/{name}"):
            assert raw(editor, "GET", where, headers) == 403
        form = "action=save&type=custom&f-HOST-source=manual&f-HOST-value=evil"
        posted = raw(
            editor,
            "POST",
            f"/roles/{name}",
            {**headers, "Content-Type": "application/x-www-form-urlencoded"},
            form,
        )
        assert posted == 403
    assert path.read_text() == "HOST=one\n"


def test_the_browser_command_line_holds_no_token(backends: Backends, tmp_path: Path) -> None:
    record = tmp_path / "browser-record"
    script = tmp_path / "fake-browser"
    # Records its arguments, then the mode and content of the file it got.
    script.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$@" > "{record}.args"\n'
        'file="${1#file://}"\n'
        f'stat -c %a "$file" > "{record}.mode"\n'
        f'stat -c %a "$(dirname "$file")" >> "{record}.mode"\n'
        f'cat "$file" > "{record}.html"\n'
        f'touch "{record}.done"\n'
    )
    script.chmod(0o700)
    roles = tmp_path / "roles"
    roles.mkdir()
    running = start_editor(roles, {**backends.environ, "BROWSER": str(script)}, browser=True)
    try:
        deadline = time.monotonic() + 30
        while not Path(f"{record}.done").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        arguments = Path(f"{record}.args").read_text().split()
        assert len(arguments) == 1
        assert arguments[0].startswith("file:///")
        assert running.token not in arguments[0]
        assert "token" not in arguments[0]
        assert Path(f"{record}.mode").read_text().split() == ["600", "700"]
        # The file sends the browser to the URL with the token, which is
        # still printed for the user.
        assert running.url.replace("&", "&amp;") in Path(f"{record}.html").read_text()
        opened = Path(arguments[0][len("file://") :])
        assert opened.exists()
    finally:
        assert stop_editor(running) == 0
    assert not opened.exists()
    assert not opened.parent.exists()


def test_sigterm_stops_as_ctrl_c_does(backends: Backends, tmp_path: Path) -> None:
    running = start_editor(tmp_path, backends.environ)
    assert raw(running, "GET", "/", {}) == 403  # serving
    assert stop_editor(running, signal.SIGTERM) == 0
    assert running.stderr().strip().splitlines()[-1] == "envsecrets: editor stopped"
    assert "Traceback" not in running.stderr()


def peak_memory(pid: int) -> int:
    """The process's peak resident set (VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def post_big(editor: Editor, session: str, *, chunked: bool) -> str:
    """POST 200 MB of form data to the validation API; return the status line."""
    headers = (
        f"POST {editor.prefix}/api/roles/x/validate HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{editor.port}\r\nOrigin: http://127.0.0.1:{editor.port}\r\n"
        f"Cookie: {session}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    )
    headers += "Transfer-Encoding: chunked\r\n\r\n" if chunked else f"Content-Length: {BIG}\r\n\r\n"
    block = b"a" * (1 << 20)
    if chunked:
        block = b"%x\r\n" % len(block) + block + b"\r\n"
    answer: list[bytes] = []
    with socket.create_connection(("127.0.0.1", editor.port), timeout=30) as sock:

        def read() -> None:
            try:
                answer.append(sock.recv(200))
            except OSError:
                answer.append(b"")

        reader = threading.Thread(target=read)
        reader.start()
        try:
            sock.sendall(headers.encode())
            for _ in range(BIG // (1 << 20)):
                sock.sendall(block)
        except OSError:
            pass  # the editor answered and closed: it stopped reading
        reader.join(30)
    return answer[0].split(b"\r\n", 1)[0].decode() if answer else ""


def test_a_200_mb_post_is_refused_without_buffering(backends: Backends, tmp_path: Path) -> None:
    from tests.editor.test_server import cookie

    running = start_editor(tmp_path, backends.environ)
    try:
        session = cookie(running)
        assert raw(running, "GET", f"{running.prefix}/", {"Cookie": session}) == 200
        before = peak_memory(running.process.pid)
        by_length = post_big(running, session, chunked=False)
        streamed = post_big(running, session, chunked=True)
        after = peak_memory(running.process.pid)
        assert raw(running, "GET", f"{running.prefix}/", {"Cookie": session}) == 200
    finally:
        stop_editor(running)
    # The reason phrase is http.HTTPStatus's: "Content Too Large" from Python 3.13 on.
    too_large = ("HTTP/1.1 413 Request Entity Too Large", "HTTP/1.1 413 Content Too Large")
    assert by_length in too_large
    assert streamed in (*too_large, "")  # or cut off
    growth = after - before
    print(f"\neditor: peak memory {before >> 20} MiB before, {after >> 20} MiB after 2 x 200 MB")
    assert growth < 20 * 1024 * 1024, f"peak memory grew by {growth >> 20} MiB"


# -- role files: opened without following links, the descriptor checked ----


def test_a_symlink_loop_is_a_clean_refusal(tmp_path: Path) -> None:
    (tmp_path / "loop.env").symlink_to("loop.env")
    roles = RoleDirectory(tmp_path)
    with pytest.raises(RoleError, match=r"loop\.env refused: it is a symbolic link"):
        roles.read("loop")
    assert roles.names() == ([], ["loop.env refused: it is a symbolic link"])


def test_links_fifos_and_hard_links_are_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside.env"
    outside.write_text("PASS=outside\n")
    folder = tmp_path / "roles"
    folder.mkdir()
    (folder / "ok.env").write_text("A=1\n")
    (folder / "alias.env").symlink_to(folder / "ok.env")
    (folder / "out.env").symlink_to(outside)
    os.link(outside, folder / "hard.env")
    os.mkfifo(folder / "pipe.env")
    roles = RoleDirectory(folder)
    entries, notes = roles.names()
    assert [role.name for role in entries] == ["ok"]
    assert notes == [
        "alias.env refused: it is a symbolic link",
        "hard.env refused: it has 2 hard links (another name could be a file outside this folder)",
        "out.env refused: it is a symbolic link",
        "pipe.env refused: it is not a regular file",
    ]
    for name in ("alias", "out", "hard", "pipe"):
        with pytest.raises(RoleError, match="refused"):
            roles.read(name)


def test_a_race_between_a_file_and_a_link_never_shows_the_outside(tmp_path: Path) -> None:
    outside = tmp_path / "outside.env"
    outside.write_text("PASS=outside-content\n")
    folder = tmp_path / "roles"
    folder.mkdir()
    role = folder / "race.env"
    regular = folder / ".regular"
    link = folder / ".link"
    link.symlink_to(outside)
    stop = threading.Event()

    def flip() -> None:
        while not stop.is_set():
            regular.write_text("PASS=inside\n")
            os.replace(regular, role)
            link.unlink(missing_ok=True)
            link.symlink_to(outside)
            os.replace(link, role)

    flipper = threading.Thread(target=flip)
    flipper.start()
    roles = RoleDirectory(folder)
    shown = refused = 0
    try:
        for _ in range(1500):
            try:
                text = roles.read("race").text
            except RoleError:
                refused += 1
                continue
            assert text is None or "outside" not in (text or "")
            shown += 1
    finally:
        stop.set()
        flipper.join()
    assert shown  # both states were seen
    assert refused


def test_a_symlink_loop_page_is_not_a_500(page: Page, editor: Editor) -> None:
    name = unique("loop")
    (editor.folder / f"{name}.env").symlink_to(f"{name}.env")
    try:
        open_editor(page, editor)
        expect(page.locator("main")).to_contain_text(f"{name}.env refused: it is a symbolic link")
        response = page.goto(f"{editor.base}/roles/{name}")
        assert response is not None
        assert response.status == 400
        expect(page.get_by_role("alert")).to_contain_text("symbolic link")
    finally:
        (editor.folder / f"{name}.env").unlink()


def test_role_files_are_written_private(tmp_path: Path) -> None:
    roles = RoleDirectory(tmp_path)
    role = roles.read("pg")
    old = os.umask(0)
    try:
        roles.write(role, "A=1\n", lambda text: text is None)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "pg.env").stat().st_mode) == 0o600
