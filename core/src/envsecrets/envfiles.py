"""Reading env files (``-e FILE``) with python-dotenv.

Values are read literally: ``${VAR}`` is not expanded, so a file means
exactly what it says and ``envsecrets resolve`` output reads back the same.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

from dotenv import dotenv_values

from envsecrets.errors import EnvsecretsError
from envsecrets.isolation import EnvFile


class EnvFileError(EnvsecretsError):
    """An env file that cannot be read."""


def read_env_files(paths: Iterable[str | Path]) -> dict[str, str]:
    """Return the variables of *paths*, later files overriding earlier ones.

    A line ``NAME`` without ``=`` sets nothing.

    :raise EnvFileError: naming the file when it cannot be read.
    """
    merged: dict[str, str] = {}
    for env_file in read_each(paths):
        merged.update(env_file.variables)
    return merged


def read_each(paths: Iterable[str | Path]) -> list[EnvFile]:
    """Return the variables of each of *paths*, file by file.

    :raise EnvFileError: naming the file when it cannot be read.
    """
    files = []
    for path in paths:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) else "not valid UTF-8"
            raise EnvFileError(f"cannot read env file {str(path)!r}: {reason}") from None
        values = dotenv_values(stream=io.StringIO(text), interpolate=False)
        variables = {name: value for name, value in values.items() if value is not None}
        files.append(EnvFile(str(path), variables))
    return files
