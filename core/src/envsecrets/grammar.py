"""The reference grammar: which values are references, and their parts.

A value is a reference when it is an underscore, a prefix of lowercase
letters, digits and underscores starting with a letter, a colon and at least
one more character (``^_([a-z][a-z0-9_]*):(.+)$``; the original agent's
``_aws_iam_rds:authtoken`` is one). Anything else is a plain value and
passes through untouched; a reference whose prefix no provider serves is an
error, never a plain value. Splitting the rest into NAME and KEY is the provider's
job (:meth:`envsecrets.Provider.split`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# DOTALL: a value with a newline after the prefix is still a reference, so a
# malformed one fails instead of passing through as the text "_aws:...".
_REFERENCE = re.compile(r"_([a-z][a-z0-9_]*):(.+)", re.DOTALL)

#: The prefix rule, for messages: a reference is ``_PREFIX:REST``.
PREFIX_RULE = "[a-z][a-z0-9_]*"


@dataclass(frozen=True, slots=True)
class RawReference:
    """A value that is a reference: its prefix and everything after the colon."""

    prefix: str
    rest: str

    @property
    def text(self) -> str:
        return f"_{self.prefix}:{self.rest}"


def parse(value: str) -> RawReference | None:
    """Return the reference held in *value*, or ``None`` for a plain value."""
    parts = split(value)
    return None if parts is None else RawReference(*parts)


def split(value: str) -> tuple[str, str] | None:
    """Return (prefix, rest) of the reference held in *value*, or ``None``
    for a plain value; :func:`parse` without the object, for hot loops."""
    if not value.startswith("_"):  # fast path: most values are plain
        return None
    match = _REFERENCE.fullmatch(value)
    return None if match is None else (match[1], match[2])


def is_reference(value: str) -> bool:
    """Tell whether *value* is a secret reference."""
    return parse(value) is not None
