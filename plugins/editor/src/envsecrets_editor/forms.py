"""From role files and posted forms to rows, and back.

Form names are ``f-VARIABLE-PART`` for the variables the page shows
(``f-HOST-source``, ``f-HOST-name``...) and ``n-INDEX-PART`` for rows added
with "Add variable", whose ``n-INDEX-var`` holds the new variable's name.
"""

from __future__ import annotations

from collections.abc import Sequence

from envsecrets.isolation import EnvFile
from envsecrets.refusals import Refusal, env_file_refusals
from envsecrets_editor.fields import ERROR, MANUAL, Catalog, Message, Row
from envsecrets_editor.resources import ResourceType
from envsecrets_editor.rolefile import RoleFile


def row_id(row: Row) -> str:
    """The prefix of a row's form names and element ids."""
    return f"n-{row.new_index}" if row.new_index is not None else f"f-{row.variable}"


def row_label(row: Row) -> str:
    """What a row's accessible names start with (``HOST source``)."""
    return f"New variable {row.new_index}" if row.new_index is not None else row.variable


def rows_from_file(catalog: Catalog, resource: ResourceType, role: RoleFile) -> list[Row]:
    """The rows of a role file: the resource type's fields, then the others."""
    variables = role.variables
    rows = [
        catalog.row_from_value(name, variables.get(name, ""), fixed=True)
        for name in resource.fields
    ]
    rows += [
        catalog.row_from_value(name, value)
        for name, value in variables.items()
        if name not in resource.fields
    ]
    return rows


def rows_from_form(
    catalog: Catalog, resource: ResourceType, pairs: Sequence[tuple[str, str]]
) -> list[Row]:
    """The rows a posted form describes, in the page's order."""
    form: dict[str, str] = {}
    order: list[str] = []
    for name, value in pairs:
        form.setdefault(name, value)
        if name.endswith("-source"):
            order.append(name[: -len("-source")])
    rows: list[Row] = []
    seen: set[str] = set()
    for row_id in order:
        kind, _, ident = row_id.partition("-")
        if row_id in seen or kind not in ("f", "n"):
            continue
        seen.add(row_id)

        def get(part: str, row_id: str = row_id) -> str:
            return form.get(f"{row_id}-{part}", "")

        source = get("source")
        if kind == "f":
            variable, new_index = ident, None
        else:
            if not ident.isdigit():
                continue
            variable, new_index = get("var").strip().upper(), int(ident)
        row = Row(
            variable,
            source,
            name=get("name"),
            key=get("key"),
            value=get("value"),
            kept=get("kept"),
            fixed=kind == "f" and ident in resource.fields,
            remove=bool(get("remove")),
            new_index=new_index,
        )
        if kind == "n" and not row.variable and source == MANUAL and not row.value:
            continue  # an empty new row: nothing to save
        rows.append(row)
    return rows


def validate(catalog: Catalog, rows: list[Row], path: str) -> None:
    """Fill each row's messages; duplicate variable names are errors too,
    and so is whatever ``envsecrets check -e PATH`` refuses (with its words)."""
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.variable] = counts.get(row.variable, 0) + 1
    for row in rows:
        if row.remove:
            row.messages = []
            continue
        row.messages = catalog.validate(row)
        if counts[row.variable] > 1 and row.new_index is not None:
            message = f"{row.variable} is already a variable of this role"
            row.messages.append(Message(ERROR, message))
    live = [row for row in rows if not row.remove]
    for refusal in check_refusals(catalog, live, path):
        for row in live:
            if row.variable in refusal.variables:
                row.messages.append(Message(ERROR, refusal.message))


def check_refusals(catalog: Catalog, rows: list[Row], path: str) -> list[Refusal]:
    """What ``envsecrets check -e PATH`` would refuse in a file of *rows*
    before reading any reference (the core's own rules and words)."""
    variables = {row.variable: row.text() for row in rows if not row.remove}
    return env_file_refusals([EnvFile(path, variables)], catalog.settings)
