"""The ASGI application: server-rendered pages, a small JSON API for the
page's script, and the static script and style sheet.

Every page works without JavaScript (forms post back and the server renders
the result); the script adds live validation, suggestions and toggles.
No secret value is ever put into a response: tests report reasons, listings
send names and JSON types only, and only the manual values the user typed
come back to them.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

import envsecrets
from envsecrets.isolation import looks_like_credential
from envsecrets.plugins import load_registry
from envsecrets.registry import KNOWN_DISTRIBUTIONS
from envsecrets_editor import __version__, methods
from envsecrets_editor.fields import IAM, KEEP, MANUAL, Catalog, Row, check_rows
from envsecrets_editor.forms import (
    check_refusals,
    row_id,
    row_label,
    rows_from_file,
    rows_from_form,
    validate,
)
from envsecrets_editor.listing import RoleList
from envsecrets_editor.resources import USAGE, ResourceType, guess_type, resource_types
from envsecrets_editor.roledir import ChangedOnDisk, RoleDirectory
from envsecrets_editor.rolefile import RoleError, RoleFile, masked, rewrite, version
from envsecrets_editor.security import Guard

_HERE = Path(__file__).parent
#: Most bytes a form post may carry (a role is a few kilobytes).
MAX_BODY = 1 << 20
#: Most names a suggestion list holds.
SUGGESTIONS = 200


@dataclass
class Editor:
    """What the handlers share: the folder, the providers, the secrets of
    this launch."""

    roles: RoleDirectory
    environ: Mapping[str, str] = field(repr=False)
    key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    resolver: envsecrets.Resolver = field(init=False, repr=False)
    catalog: Catalog = field(init=False)
    #: The resource types: the built-in ones and those plugins add.
    types: dict[str, ResourceType] = field(init=False)
    #: Why some plugins offer nothing here (shown on the roles page).
    problems: list[str] = field(init=False)
    save_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.resolver = envsecrets.Resolver(self.environ)
        self.catalog = Catalog(self.resolver)
        # Templates are asked for here only: run never calls that hook.
        added = load_registry(environ=self.environ, templates=True)
        self.types = resource_types(added.templates)
        self.problems = list(self.catalog.problems)
        self.problems += [
            problem
            for problem in (
                f"plugin {f.plugin!r} failed to load: {f.reason}" for f in added.failures
            )
            if problem not in self.problems
        ]

    @property
    def csrf(self) -> str:
        return hmac.new(self.key, b"csrf", hashlib.sha256).hexdigest()

    def close(self) -> None:
        self.resolver.close()


class Pages:
    """The request handlers."""

    def __init__(self, editor: Editor, base: str = "") -> None:
        self.editor = editor
        #: The app's path prefix (``/<secret>``): every link starts with it.
        self.base = base
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(_HERE / "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )

    # -- rendering -----------------------------------------------------------

    def render(self, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        context.setdefault("csrf", self.editor.csrf)
        context.setdefault("version_text", __version__)
        context.setdefault("folder", str(self.editor.roles.root))
        context.setdefault("base", self.base)
        context.setdefault("install_hint", self.install_hint())
        html = self.templates.get_template(name).render(
            row_id=row_id, row_label=row_label, MANUAL=MANUAL, KEEP=KEEP, IAM=IAM, **context
        )
        return HTMLResponse(html, status_code=status)

    def install_hint(self) -> str:
        """What to install when no provider is (every field typed by hand)."""
        if self.editor.catalog.options:
            return ""
        distributions = sorted(set(KNOWN_DISTRIBUTIONS.values()))
        return (
            "No provider is installed, so every value can only be typed by hand. Install one "
            f"next to the editor ({' or '.join(distributions)}), e.g. "
            "pip install 'envsecrets[vault]', then restart envsecrets edit."
        )

    def index_page(
        self, status: int = 200, message: str = "", role_name: str = "", notice: str = ""
    ) -> Response:
        found, notes = self.editor.roles.names()
        roles = [
            {
                "name": role.name,
                "type": self.editor.types.get(role.declared_type or ""),
                "declared": role.declared_type,
                "version": version(role.text, self.editor.key),
            }
            for role in found
        ]
        return self.render(
            "index.html",
            status,
            roles=roles,
            notes=notes,
            problems=self.editor.problems,
            types=list(self.editor.types.values()),
            message=message,
            notice=notice,
            role_name=role_name,
        )

    def role_page(
        self,
        role: RoleFile,
        resource: ResourceType,
        rows: list[Row],
        method: str,
        *,
        status: int = 200,
        form_version: str | None = None,
        notice: str = "",
        problem: str = "",
    ) -> Response:
        catalog = self.editor.catalog

        def secret(row: Row) -> bool:
            if row.fixed:
                return row.variable in resource.secret
            # A row added without a name yet is masked until it has one.
            return not row.variable or looks_like_credential(row.variable)

        return self.render(
            "role.html",
            status,
            role=role,
            resource=resource,
            rows=rows,
            method=method,
            methods=methods.offered(resource),
            secret=secret,
            usage=USAGE.get(resource.name, "COMMAND"),
            options=list(catalog.options.values()),
            option_map=catalog.options,
            version=form_version or version(role.text, self.editor.key),
            preview=masked(role.text),
            notice=notice,
            problem=problem,
            next_index=max((row.new_index or 0 for row in rows), default=0) + 1,
        )

    # -- helpers -------------------------------------------------------------

    async def form(self, request: Request) -> list[tuple[str, str]] | Response:
        """The posted form's fields, or the refusal when the CSRF token is wrong."""
        # The guard refused a long Content-Length; a streamed body is cut
        # off here as soon as it passes the cap, never held whole.
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY:
                return PlainTextResponse("Request too large.", status_code=413)
            chunks.append(chunk)
        body = b"".join(chunks)
        pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        sent = request.headers.get("x-csrf-token") or dict(pairs).get("csrf", "")
        if not hmac.compare_digest(sent.encode(), self.editor.csrf.encode()):
            return PlainTextResponse("Missing or wrong CSRF token.", status_code=403)
        return pairs

    def load(self, name: str) -> RoleFile | Response:
        try:
            return self.editor.roles.read(name)
        except RoleError as error:
            return self.index_page(400, str(error))

    # -- the role page -----------------------------------------------------

    def resource_of(self, role: RoleFile, posted: str | None = None) -> ResourceType:
        declared = posted if posted in self.editor.types else role.declared_type
        return guess_type(declared, role.variables, self.editor.types)

    async def show_role(self, request: Request) -> Response:
        role = await run_in_threadpool(self.load, request.path_params["name"])
        if isinstance(role, Response):
            return role
        resource = self.resource_of(role, role.declared_type or request.query_params.get("type"))
        method = methods.detect(resource, role.variables, role.exists)
        rows = rows_from_file(self.editor.catalog, resource, role)
        methods.apply(method, rows)
        await run_in_threadpool(self.validate, role, rows, method)
        notice = f"Saved {role.path.name}." if request.query_params.get("saved") else ""
        return self.role_page(role, resource, rows, method, notice=notice)

    def validate(self, role: RoleFile, rows: list[Row], method: str) -> None:
        validate(self.editor.catalog, rows, str(role.path))
        methods.check(method, rows)

    async def post_role(self, request: Request) -> Response:
        """Save, Test or Add variable, as the pressed button says."""
        pairs = await self.form(request)
        if isinstance(pairs, Response):
            return pairs
        role = await run_in_threadpool(self.load, request.path_params["name"])
        if isinstance(role, Response):
            return role
        form = dict(pairs)
        resource = self.resource_of(role, form.get("type", ""))
        method = methods.chosen(resource, form.get("method", ""))
        rows = rows_from_form(self.editor.catalog, resource, pairs)
        methods.apply(method, rows)
        await run_in_threadpool(self.validate, role, rows, method)
        form_version = form.get("version", "")
        action = form.get("action", "save")
        if action == "add":
            index = int(form.get("next", "0")) if form.get("next", "").isdigit() else 0
            rows.append(Row("", MANUAL, new_index=index or len(rows) + 1))
            return self.role_page(role, resource, rows, method, form_version=form_version)
        if action == "test":
            await run_in_threadpool(self.test, role, rows)
            return self.role_page(role, resource, rows, method, form_version=form_version)
        return await run_in_threadpool(self.save, role, resource, rows, method, form_version)

    def test(self, role: RoleFile, rows: list[Row]) -> None:
        """Fill each row's status as ``envsecrets check --fetch`` would."""
        live = [row for row in rows if not row.remove]
        data = {**role.variables, **{row.variable: row.text() for row in live}}
        outcome = check_rows(live, data, self.editor.environ)
        for row in live:
            row.status_ok, row.status = outcome[row.variable]

    def save(
        self,
        role: RoleFile,
        resource: ResourceType,
        rows: list[Row],
        method: str,
        form_version: str,
    ) -> Response:
        """Write the role unless a field is wrong or the file changed since
        the page was loaded; only the changed variables' lines change."""
        show = {"form_version": form_version}
        refused = check_refusals(self.editor.catalog, rows, str(role.path))
        if refused:
            # The words of envsecrets check -e, which would refuse the file.
            problem = "Nothing was saved: " + "; ".join(refusal.message for refusal in refused)
            return self.role_page(role, resource, rows, method, status=422, problem=problem, **show)
        if any(row.errors for row in rows):
            problem = "Nothing was saved: fix the fields marked in red first."
            return self.role_page(role, resource, rows, method, status=422, problem=problem, **show)
        with self.editor.save_lock:
            try:
                current = self.editor.roles.read(role.name)
                if not self.same_version(current.text, form_version):
                    raise ChangedOnDisk(role.path.name)
                text = rewrite(
                    current.text, self.changes(current, rows), resource_type=resource.name
                )
                self.editor.roles.write(
                    current, text, lambda now: self.same_version(now, form_version)
                )
            except ChangedOnDisk:
                problem = (
                    f"{role.path.name} changed on disk since this page was loaded, so nothing "
                    "was saved (your inputs are still below). Reload the page to see the "
                    "other change, then apply yours again."
                )
                return self.role_page(
                    role, resource, rows, method, status=409, problem=problem, **show
                )
            except RoleError as error:
                return self.role_page(
                    role, resource, rows, method, status=500, problem=str(error), **show
                )
        return RedirectResponse(f"{self.base}/roles/{quote(role.name)}?saved=1", status_code=303)

    def same_version(self, text: str | None, form_version: str) -> bool:
        return hmac.compare_digest(version(text, self.editor.key), form_version)

    @staticmethod
    def changes(current: RoleFile, rows: list[Row]) -> dict[str, str | None]:
        """The variables Save rewrites (``None``: removed); a "keep" row's
        line and unchanged values are not touched."""
        on_disk = current.variables
        found: dict[str, str | None] = {}
        for row in rows:
            if row.source == KEEP:
                continue
            if row.remove:
                found[row.variable] = None
            elif on_disk.get(row.variable) != row.text():
                found[row.variable] = row.text()
        return found

    # -- the script's API ----------------------------------------------------

    async def api_validate(self, request: Request) -> Response:
        pairs = await self.form(request)
        if isinstance(pairs, Response):
            return pairs
        try:
            path = self.editor.roles.path(request.path_params["name"])
        except RoleError as error:
            return JSONResponse({"rows": {}, "note": str(error)}, status_code=400)
        form = dict(pairs)
        resource = self.editor.types.get(form.get("type", ""), self.editor.types["custom"])
        method = methods.chosen(resource, form.get("method", ""))
        rows = rows_from_form(self.editor.catalog, resource, pairs)
        methods.apply(method, rows)
        await run_in_threadpool(validate, self.editor.catalog, rows, str(path))
        methods.check(method, rows)
        found = {
            row_id(row): [{"level": m.level, "text": m.text} for m in row.messages] for row in rows
        }
        return JSONResponse({"rows": found})

    async def api_names(self, request: Request) -> Response:
        """Secret names under what was typed; names only."""
        prefix = request.query_params.get("source", "")
        typed = request.query_params.get("prefix", "")
        if prefix not in self.editor.catalog.options:
            return JSONResponse({"names": [], "note": "no such provider"}, status_code=404)

        def listing() -> dict[str, Any]:
            try:
                found = self.editor.resolver.list_names(prefix, typed, limit=SUGGESTIONS)
            except envsecrets.ListingNotSupported:
                return {"names": [], "note": f"the _{prefix} provider cannot list"}
            except envsecrets.EnvsecretsError as error:
                return {"names": [], "note": str(error)}
            return {"names": list(found.names), "truncated": found.truncated}

        return JSONResponse(await run_in_threadpool(listing))

    async def api_keys(self, request: Request) -> Response:
        """The keys of one secret and their JSON types; never a value."""
        prefix = request.query_params.get("source", "")
        name = request.query_params.get("name", "")
        if prefix not in self.editor.catalog.options or not name:
            return JSONResponse({"keys": [], "note": "no such provider or name"}, status_code=404)

        def listing() -> dict[str, Any]:
            try:
                found = self.editor.resolver.list_keys(prefix, name)
            except envsecrets.EnvsecretsError as error:
                return {"keys": [], "note": str(error)}
            return {"keys": [{"key": info.key, "type": info.json_type} for info in found]}

        return JSONResponse(await run_in_threadpool(listing))


async def _not_found(request: Request, exc: Exception) -> Response:
    return PlainTextResponse("Not found.", status_code=404)


async def _server_error(request: Request, exc: Exception) -> Response:
    # Never the exception's text: it could quote anything.
    return PlainTextResponse("Internal error; see the terminal.", status_code=500)


def create_app(
    editor: Editor,
    *,
    token: str,
    session: str,
    prefix: str,
    hosts: frozenset[str],
    port: int,
    any_ip: bool = False,
) -> Guard:
    """The editor's ASGI application, under ``/<prefix>``, behind its :class:`Guard`."""
    pages = Pages(editor, f"/{prefix}")
    listing = RoleList(pages)
    routes = [
        Route("/", listing.index),
        Route("/roles", listing.new_role, methods=["POST"]),
        Route("/roles/{name}/rename", listing.rename, methods=["POST"]),
        Route("/roles/{name}/delete", listing.delete, methods=["POST"]),
        Route("/roles/{name}", pages.show_role, methods=["GET"]),
        Route("/roles/{name}", pages.post_role, methods=["POST"]),
        Route("/api/roles/{name}/validate", pages.api_validate, methods=["POST"]),
        Route("/api/names", pages.api_names),
        Route("/api/keys", pages.api_keys),
        Mount("/static", StaticFiles(directory=_HERE / "static"), name="static"),
    ]
    app = Starlette(
        routes=[Mount(f"/{prefix}", routes=routes)],
        exception_handlers={404: _not_found, 500: _server_error},
    )
    return Guard(
        app,
        token=token,
        session=session,
        prefix=prefix,
        hosts=hosts,
        port=port,
        any_ip=any_ip,
        max_body=MAX_BODY,
    )


__all__ = ["Editor", "Pages", "create_app"]
