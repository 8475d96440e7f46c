"""Fixtures and helpers of the role editor suite: real servers (OpenBao, moto), the
editor started as ``envsecrets edit`` in a subprocess, and a real Chromium
driven by Playwright.

Chromium is Debian's (``apt-get install chromium``): Playwright's own browser
download is not reachable here. ``ENVSECRETS_CHROMIUM`` names another binary.
"""

from __future__ import annotations

import http.client
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Response, Route, sync_playwright

from tests.conftest import SENTINEL
from tests.support.plugins import REVERSE_PLUGIN, install_fake_distribution
from testservers.moto import moto_environ, moto_server, secretsmanager
from testservers.openbao import OpenBao

CHROMIUM = os.environ.get("ENVSECRETS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: The secret value stored in Vault; it must never reach the browser.
PG_PASSWORD = SENTINEL + "-editor-pg-password"
ENV_CONFIG = json.dumps({"PG_PORT": 5432, "LOG_LEVEL": "info"})
ROOT = Path(__file__).resolve().parents[2]
#: A third party's resource template, added through the hook.
REDIS_TEMPLATE_PLUGIN = """
import envsecrets

@envsecrets.hookimpl
def envsecrets_resource_templates():
    return [
        envsecrets.ResourceTemplate(
            "redis", "Redis", ("HOST", "PORT", "PASS", "TLS"),
            labels={"HOST": "Host", "PORT": "Port", "PASS": "Password", "TLS": "TLS"},
            secret=frozenset({"PASS"}),
            examples={"PORT": "6379"},
        )
    ]
"""


@dataclass
class Backends:
    """Where the seeded secrets live, and the editor's environment."""

    environ: dict[str, str] = field(repr=False)


@pytest.fixture(scope="session")
def backends(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backends]:
    with OpenBao() as bao, moto_server() as moto_url:
        bao.enable_kv("database", version=2)
        bao.kv_put("database", "pg", {"user": "app_user", "password": PG_PASSWORD})
        bao.kv_put("database", "reporting", {"password": SENTINEL + "-reporting"})
        bao.enable_kv("kv1", version=1)
        bao.kv_put("kv1", "pg", {"db": "app", "port": 5432}, version=1)
        sm = secretsmanager(moto_url)
        sm.create_secret(
            Name="pgprod", SecretString=json.dumps({"SSLMODE": "require", "PG_HOST": "db"})
        )
        site = tmp_path_factory.mktemp("site")
        install_fake_distribution(site, "envsecrets-rev", "envsecrets_rev", REVERSE_PLUGIN)
        install_fake_distribution(
            site, "envsecrets-redis", "envsecrets_redis", REDIS_TEMPLATE_PLUGIN
        )
        empty = site / "aws-empty"
        empty.write_text("")
        environ = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("AWS_", "VAULT_", "ENVSECRETS_"))
        }
        environ.update(
            moto_environ(
                moto_url, AWS_CONFIG_FILE=str(empty), AWS_SHARED_CREDENTIALS_FILE=str(empty)
            )
        )
        environ.update(
            {
                "VAULT_ADDR": bao.address,
                "VAULT_TOKEN": bao.root_token,
                "ENV_CONFIG": ENV_CONFIG,
                "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)]),
                "PYTHONUNBUFFERED": "1",
            }
        )
        yield Backends(environ)


@dataclass
class Editor:
    """A running ``envsecrets edit`` process."""

    process: subprocess.Popen[str]
    url: str
    folder: Path
    started_in: float
    stderr_path: Path

    #: The app's secret path prefix (``/<prefix>``), learnt from the login redirect.
    prefix: str = ""

    @property
    def origin(self) -> str:
        return self.url.split("/?", 1)[0]

    @property
    def base(self) -> str:
        """Where the app's pages are: ``http://127.0.0.1:PORT/<prefix>``."""
        return self.origin + self.prefix

    @property
    def token(self) -> str:
        return self.url.split("?token=", 1)[1]

    @property
    def port(self) -> int:
        return int(self.origin.rsplit(":", 1)[1])

    def stderr(self) -> str:
        return self.stderr_path.read_text()


def start_editor(
    folder: Path,
    environ: dict[str, str],
    *extra: str,
    log: Path | None = None,
    browser: bool = False,
) -> Editor:
    """Start ``envsecrets edit FOLDER --port 0 --no-browser`` and read its URL."""
    log = log or folder.parent / f"editor-{uuid.uuid4().hex[:6]}.log"
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "envsecrets", "edit", str(folder), "--port", "0",
         *([] if browser else ["--no-browser"]), *extra],
        stdout=subprocess.PIPE,
        stderr=log.open("w"),
        stdin=subprocess.DEVNULL,
        env=environ,
        text=True,
    )  # fmt: skip
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], 30)
    line = process.stdout.readline() if ready else ""
    elapsed = time.perf_counter() - started
    if not line.startswith("http://"):
        process.kill()
        raise AssertionError(f"no URL from envsecrets edit: {line!r} {log.read_text()[-2000:]}")
    running = Editor(process, line.strip(), folder, elapsed, log)
    running.prefix = login_redirect(running)[0].rstrip("/")
    return running


def login_redirect(editor: Editor) -> tuple[str, str]:
    """(Location, Set-Cookie) of the answer to the URL with the token."""
    connection = http.client.HTTPConnection("127.0.0.1", editor.port, timeout=30)
    try:
        connection.request("GET", f"/?token={editor.token}")
        answer = connection.getresponse()
        answer.read()
    finally:
        connection.close()
    assert answer.status == 303, answer.status
    return answer.getheader("location", ""), answer.getheader("set-cookie", "")


def stop_editor(editor: Editor, how: signal.Signals = signal.SIGINT) -> int:
    """Ctrl-C (or *how*), as a user would; return the exit code."""
    if editor.process.poll() is None:
        editor.process.send_signal(how)
        try:
            editor.process.wait(15)
        except subprocess.TimeoutExpired:
            editor.process.kill()
            editor.process.wait(5)
    return editor.process.returncode


@pytest.fixture(scope="module")
def roles_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("roles")


@pytest.fixture(scope="module")
def editor(roles_dir: Path, backends: Backends) -> Iterator[Editor]:
    running = start_editor(roles_dir, backends.environ)
    yield running
    stop_editor(running)
    assert SENTINEL not in running.stderr(), "a secret value reached the editor's log"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"no Chromium at {CHROMIUM}: apt-get install chromium, or set ENVSECRETS_CHROMIUM"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Recorder:
    """Every response the page received, to search for secret values."""

    def __init__(self, page: Page) -> None:
        self.responses: list[Response] = []
        page.on("response", self._record)

    def _record(self, response: Response) -> None:
        self.responses.append(response)

    def texts(self) -> list[str]:
        """Bodies (where there is one) and headers of every response."""
        found = []
        for response in self.responses:
            found.append(json.dumps(response.all_headers()))
            found.append(response.url)
            try:
                found.append(response.body().decode("utf-8", "replace"))
            except Exception:  # redirects carry no body
                continue
        return found

    def total_bytes(self, kinds: tuple[str, ...] = ("text/html", "javascript", "text/css")) -> int:
        size = 0
        for response in self.responses:
            if any(kind in response.headers.get("content-type", "") for kind in kinds):
                try:
                    size += len(response.body())
                except Exception:
                    continue
        return size


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    yield opened
    context.close()


@pytest.fixture
def recorder(page: Page) -> Recorder:
    return Recorder(page)


def unique(base: str) -> str:
    return f"{base}-{uuid.uuid4().hex[:6]}"


class HeldScript:
    """The editor's script held back (its request unanswered) from now on,
    as on a machine slow to load it: what a person does meanwhile has no
    listener yet. :meth:`release` lets the script run."""

    def __init__(self, page: Page) -> None:
        self._page = page
        self._held: list[Route] = []
        page.route("**/static/editor.js", self._hold)  # routing disables the cache too

    def _hold(self, route: Route) -> None:
        self._held.append(route)

    def release(self) -> None:
        for _ in range(250):  # the page asks for it as soon as it parses <head>
            if self._held:
                break
            self._page.wait_for_timeout(20)
        assert self._held, "the page never asked for its script"
        for route in self._held:
            route.continue_()
        self._page.unroute("**/static/editor.js", self._hold)


def open_editor(page: Page, editor: Editor) -> None:
    page.goto(editor.url)
    assert "?token" not in page.url  # swapped for a cookie, out of the address bar


def any_text(*texts: Any) -> str:
    return "\n".join(str(text) for text in texts)


def screenshot(page: Page, folder: Path, name: str) -> None:
    """A picture of the whole page in *folder*, copied to docs/images/NAME
    only with ENVSECRETS_UPDATE_SCREENSHOTS=1 (parallel tox envs would
    otherwise race on it and dirty the checkout)."""
    width = page.viewport_size["width"] if page.viewport_size else 1280
    height = page.evaluate("document.documentElement.scrollHeight")
    # The whole page in the window: the fixed Save bar lands at its foot.
    page.set_viewport_size({"width": width, "height": height})
    shot = folder / name
    page.screenshot(path=str(shot))
    assert shot.read_bytes().startswith(b"\x89PNG")
    if os.environ.get("ENVSECRETS_UPDATE_SCREENSHOTS"):
        shutil.copyfile(shot, ROOT / "docs" / "images" / name)
