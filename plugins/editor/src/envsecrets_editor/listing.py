"""The roles list: each role with its type; New role, Rename and Delete.

Rename and Delete carry the keyed version of the file the list was built
from: a file changed since then is neither renamed nor deleted (the change
is atomic, see :mod:`envsecrets_editor.roledir`). Delete asks first, on a
page of its own, so it works without JavaScript.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from envsecrets_editor.roledir import ChangedOnDisk, check_name
from envsecrets_editor.rolefile import RoleError

if TYPE_CHECKING:
    from envsecrets_editor.app import Pages


class RoleList:
    """The handlers of the roles list."""

    def __init__(self, pages: Pages) -> None:
        self.pages = pages
        self.editor = pages.editor

    async def index(self, request: Request) -> Response:
        done = request.query_params
        notice = ""
        if "renamed" in done:
            notice = f"Renamed {done.get('from', '')}.env to {done['renamed']}.env."
        elif "deleted" in done:
            notice = f"Deleted {done['deleted']}.env."
        return await run_in_threadpool(self.pages.index_page, notice=notice)

    async def new_role(self, request: Request) -> Response:
        pairs = await self.pages.form(request)
        if isinstance(pairs, Response):
            return pairs
        form = dict(pairs)
        name = form.get("role", "").strip()
        kind = form.get("type", "custom")
        role = await run_in_threadpool(self.pages.load, name)
        if isinstance(role, Response):
            return role
        if kind not in self.editor.types:
            return self.pages.index_page(400, f"unknown resource type {kind[:40]!r}", name)
        if role.exists:
            return self.pages.index_page(
                409, f"the role {name!r} exists already: open it below", name
            )
        base = self.pages.base
        return RedirectResponse(f"{base}/roles/{quote(name)}?type={quote(kind)}", status_code=303)

    def _expected(self, posted: str) -> Callable[[str | None], bool]:
        return lambda text: self.pages.same_version(text, posted)

    async def rename(self, request: Request) -> Response:
        pairs = await self.pages.form(request)
        if isinstance(pairs, Response):
            return pairs
        form = dict(pairs)
        name = request.path_params["name"]
        new_name = form.get("new", "").strip()

        def rename() -> Response:
            try:
                check_name(name)
                check_name(new_name)
                with self.editor.save_lock:
                    self.editor.roles.rename(
                        name, new_name, self._expected(form.get("version", ""))
                    )
            except ChangedOnDisk:
                return self.pages.index_page(409, self._changed(name, "renamed"))
            except RoleError as error:
                return self.pages.index_page(400, f"{name}.env was not renamed: {error}")
            target = f"{self.pages.base}/?renamed={quote(new_name)}&from={quote(name)}"
            return RedirectResponse(target, status_code=303)

        return await run_in_threadpool(rename)

    async def delete(self, request: Request) -> Response:
        pairs = await self.pages.form(request)
        if isinstance(pairs, Response):
            return pairs
        form = dict(pairs)
        name = request.path_params["name"]
        posted = form.get("version", "")
        if form.get("confirm") != "yes":
            return self.pages.render("delete.html", role_name=name, version=posted)

        def delete() -> Response:
            try:
                with self.editor.save_lock:
                    self.editor.roles.delete(name, self._expected(posted))
            except ChangedOnDisk:
                return self.pages.index_page(409, self._changed(name, "deleted"))
            except RoleError as error:
                return self.pages.index_page(400, f"{name}.env was not deleted: {error}")
            return RedirectResponse(f"{self.pages.base}/?deleted={quote(name)}", status_code=303)

        return await run_in_threadpool(delete)

    @staticmethod
    def _changed(name: str, what: str) -> str:
        return (
            f"{name}.env changed on disk since this list was loaded (or is gone), so it was "
            f"not {what}: look at it again below."
        )
