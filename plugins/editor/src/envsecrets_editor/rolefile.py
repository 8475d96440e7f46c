"""Role files: ``DIR/NAME.env`` dotenv files, read and rewritten line by line.

Lines are parsed with python-dotenv's own parser, so the editor reads a file
exactly as ``envsecrets run -e`` does; a rewrite replaces only the lines of
the variables it changes and keeps every other line (comments, unknown
variables, ``export`` prefixes) as it was.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values
from dotenv.parser import Binding, parse_stream

from envsecrets.grammar import split as split_reference

#: A variable name as POSIX shells accept it (upper case, as the page types it).
VARIABLE_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")
#: The comment line recording a role's resource type.
TYPE_LINE = re.compile(r"#\s*envsecrets role:\s*([a-z0-9_-]+)\s*")
#: Values written without quotes: nothing a dotenv, shell or compose reader
#: would interpret.
_BARE = re.compile(r"[A-Za-z0-9_./:@%+,=?&~^!*-]*")
_DOUBLE_QUOTE_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})
#: What the page shows instead of a plain value.
MASK = "••••••"


class RoleError(Exception):
    """A role name or file the editor refuses; the message is safe to show."""


@dataclass(frozen=True)
class RoleFile:
    """One role file as read from disk (``text`` is None when it does not exist)."""

    name: str
    path: Path
    text: str | None = field(repr=False)

    @property
    def exists(self) -> bool:
        return self.text is not None

    @property
    def variables(self) -> dict[str, str]:
        """The variables, read as ``envsecrets run -e`` reads them."""
        if not self.text:
            return {}
        values = dotenv_values(stream=io.StringIO(self.text), interpolate=False)
        return {name: value for name, value in values.items() if value is not None}

    @property
    def declared_type(self) -> str | None:
        """The resource type its ``# envsecrets role: TYPE`` line names."""
        for line in (self.text or "").splitlines():
            match = TYPE_LINE.fullmatch(line.strip())
            if match:
                return match[1]
        return None


def version(text: str | None, key: bytes) -> str:
    """A tag that changes whenever the file does (keyed, so the page learns
    nothing about the content from it)."""
    data = b"absent" if text is None else b"file:" + text.encode("utf-8", "surrogatepass")
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def quote(value: str) -> str:
    """*value* as a dotenv value that python-dotenv reads back unchanged
    (``interpolate=False``): bare when harmless, else quoted."""
    if _BARE.fullmatch(value):
        return value
    if not any(char in value for char in "'\\\n\r"):
        return f"'{value}'"
    return '"' + value.translate(_DOUBLE_QUOTE_ESCAPES) + '"'


def _bindings(text: str) -> Iterator[Binding]:
    return parse_stream(io.StringIO(text))


def rewrite(
    text: str | None,
    changes: Mapping[str, str | None],
    *,
    resource_type: str | None = None,
) -> str:
    """Return *text* with each variable of *changes* set to its value, or
    removed when the value is ``None``; every other line is kept.

    A variable set more than once has its last line (the one readers use)
    updated; a removed one loses every line. New variables go at the end; a new file starts with the
    ``# envsecrets role: TYPE`` line when *resource_type* is given.
    """
    pending = dict(changes)
    source = text or ""
    bindings = list(_bindings(source))
    last = {b.key: index for index, b in enumerate(bindings) if b.key is not None}
    out: list[str] = []
    if text is None and resource_type:
        out.append(f"# envsecrets role: {resource_type}\n")
    for index, binding in enumerate(bindings):
        original = binding.original.string
        key = binding.key
        if key is None or key not in pending:
            out.append(original)
            continue
        value = pending[key]
        if value is None:
            continue  # removed: every line of it
        if last[key] != index:
            out.append(original)  # an earlier duplicate, which readers never use
            continue
        export = "export " if original.lstrip().startswith("export ") else ""
        ending = "\n" if original.endswith("\n") else ""
        out.append(f"{export}{key}={quote(value)}{ending}")
    for key in last:
        pending.pop(key, None)
    body = "".join(out)
    if any(value is not None for value in pending.values()) and body and not body.endswith("\n"):
        body += "\n"
    body += "".join(
        f"{key}={quote(value)}\n" for key, value in pending.items() if value is not None
    )
    return body


def masked(text: str | None) -> str:
    """*text* as the page may show it: references and comments as they are,
    every plain value replaced by a mask, unreadable lines hidden."""
    lines = []
    for binding in _bindings(text or ""):
        original = binding.original.string.rstrip("\r\n")
        if binding.error:
            lines.append("# (a line that is not a variable, kept as it is)")
        elif binding.key is None:
            lines.append(original)
        elif binding.value is None:
            lines.append(binding.key)
        elif split_reference(binding.value) is not None:
            lines.append(f"{binding.key}={binding.value}")
        else:
            lines.append(f"{binding.key}={MASK if binding.value else ''}")
    return "\n".join(lines) + ("\n" if lines else "")
