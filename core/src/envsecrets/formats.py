"""Writing resolved variables: dotenv, JSON or shell, atomically and privately."""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from envsecrets.errors import EnvsecretsError

_SHELL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DOTENV_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})


class OutputError(EnvsecretsError):
    """Variables that the chosen format cannot express, or an unwritable file."""


def to_dotenv(variables: Mapping[str, str]) -> str:
    """``NAME="value"`` lines that python-dotenv reads back unchanged
    (with ``interpolate=False``, as ``envsecrets -e`` reads them)."""
    for name in variables:
        if not name or "=" in name or any(c.isspace() for c in name) or name.startswith("#"):
            raise OutputError(f"variable {name!r} cannot be written in dotenv format")
    return "".join(
        f'{name}="{value.translate(_DOTENV_ESCAPES)}"\n' for name, value in variables.items()
    )


def is_shell_name(name: str) -> bool:
    """Tell whether a POSIX shell can assign the variable *name*."""
    return _SHELL_NAME.fullmatch(name) is not None


def not_shell_names(names: Iterable[str]) -> list[str]:
    """The names a shell cannot assign (an exported bash function's
    ``BASH_FUNC_f%%``): ``shell`` format leaves them out."""
    return [name for name in names if not is_shell_name(name)]


def to_shell(variables: Mapping[str, str]) -> str:
    """``export NAME='value'`` lines for a POSIX shell to ``eval`` or source;
    variables whose names a shell cannot assign are left out."""
    lines = []
    for name, value in variables.items():
        if not is_shell_name(name):
            continue
        quoted = "'" + value.replace("'", "'\\''") + "'"
        lines.append(f"export {name}={quoted}\n")
    return "".join(lines)


def to_json(variables: Mapping[str, str]) -> str:
    """A JSON object of strings."""
    return json.dumps(dict(variables), indent=2, ensure_ascii=False) + "\n"


FORMATS: dict[str, Callable[[Mapping[str, str]], str]] = {
    "dotenv": to_dotenv,
    "json": to_json,
    "shell": to_shell,
}


def write_private(path: str | Path, text: str) -> None:
    """Write *text* to *path* atomically, the file readable by its owner only.

    The data goes to a 0600 temporary file in the same folder, then replaces
    *path* in one rename: a reader sees the old file or the whole new one.
    """
    target = Path(path)
    try:
        descriptor, temporary = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
        )
    except OSError as error:
        raise OutputError(f"cannot write {str(target)!r}: {error.strerror}") from None
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as stream:
            os.fchmod(stream.fileno(), 0o600)  # mkstemp does; say it, umask aside
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise OutputError(f"cannot write {str(target)!r}: {error.strerror}") from None
