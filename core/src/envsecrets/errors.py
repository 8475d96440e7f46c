"""The error types of envsecrets.

Every message names variables, references and secret names; none ever holds a
secret value. Providers raise :class:`SecretNotFound` or :class:`ProviderError`
(or subclasses); the core raises the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

#: Longest reference text quoted in a message; hostile input can be huge.
_MAX_QUOTED = 200


def escaped(text: str) -> str:
    """Return *text* safe for a terminal: every character that is not
    printable (C0, DEL, C1, ESC, bidi and other format characters, line
    breaks) shown as ``repr`` shows it (``\\x1b``, ``\\n``, ``\\u202e``).
    The one helper for any string from outside: variable names, names, keys,
    paths, server text. Printable text is returned unchanged, so escaping
    twice is escaping once."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def escaped_lines(text: str) -> str:
    """Return *text* with each of its lines :func:`escaped` (the line breaks
    between them kept): for a message of several lines."""
    return "\n".join(escaped(line) for line in text.split("\n"))


def quote_reference(text: str) -> str:
    """Return *text* shortened for messages (references can be megabytes long)
    and :func:`escaped`, so that a reference holding a newline or an escape
    sequence cannot break or repaint the line it is printed on."""
    if len(text) > _MAX_QUOTED:
        text = text[: _MAX_QUOTED - 3] + "..."
    return escaped(text)


class EnvsecretsError(Exception):
    """Base class of every error envsecrets raises."""


class ReferenceSyntaxError(EnvsecretsError):
    """A reference that cannot be parsed (empty name, missing key...)."""


class SiblingError(EnvsecretsError):
    """A reference that needs other variables of its set (see
    :meth:`envsecrets.Provider.siblings`) cannot have them: one is not set,
    failed, or they form a cycle."""


class ProviderNotInstalled(EnvsecretsError):
    """No installed provider serves the prefix of a reference."""


class PluginError(EnvsecretsError):
    """A plugin is broken: two plugins claim one prefix, a bad provider class..."""


class ProviderError(EnvsecretsError):
    """A provider could not fetch a secret (denied, unreachable, malformed...)."""


class SecretNotFound(ProviderError):
    """The secret does not exist in its backend."""


class KeyNotFound(SecretNotFound):
    """The secret exists but has no such key."""


class AccessDenied(ProviderError):
    """The backend refused the request: the credentials lack a permission."""


class ListingNotSupported(EnvsecretsError):
    """The provider cannot list names (discovery is an optional capability)."""


class DocumentError(ProviderError):
    """The secret document has the wrong shape for the reference (not JSON...)."""


class DeadlineExceeded(ProviderError):
    """The resolution deadline passed before the secret arrived."""


@dataclass(frozen=True, slots=True)
class Failure:
    """One failing variable: its name, its reference and why it failed."""

    variable: str
    reference: str
    error: EnvsecretsError

    def describe(self) -> str:
        variable, reason = escaped(self.variable), escaped(str(self.error))
        return f"{variable}={quote_reference(self.reference)}: {reason}"


class ResolutionError(EnvsecretsError):
    """Resolution failed closed; :attr:`failures` lists every failing variable."""

    def __init__(self, failures: Sequence[Failure]) -> None:
        self.failures = tuple(failures)
        count = len(self.failures)
        noun = "reference" if count == 1 else "references"
        lines = [f"{count} {noun} could not be resolved:"]
        lines.extend(f"  {failure.describe()}" for failure in self.failures)
        super().__init__("\n".join(lines))
