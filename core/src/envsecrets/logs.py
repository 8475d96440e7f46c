"""The log handler envsecrets owns, and the redaction applied on it.

The CLI calls :func:`configure` once: one handler on the root logger, to
stderr, carrying a :class:`RedactingFilter`. Providers register what must
never be printed (credential values, header patterns, whole answer bodies)
with :func:`redact_values`, :func:`redact_pattern` and :func:`add_redaction`.

The filter sits on the *handler*, not on the SDK's loggers: a logger filter
sees only the records of that one logger, so a ``botocore.*`` logger created
later would escape it, while every record that reaches the handler passes
its filters. Registrations are process-wide: they apply to every
:class:`RedactingFilter`, those made before and after.

A program that uses envsecrets as a library and prints logs through its own
handlers attaches the filter itself::

    import logging
    import envsecrets.logs

    handler = logging.StreamHandler()
    handler.addFilter(envsecrets.logs.RedactingFilter())
    logging.basicConfig(level=logging.DEBUG, handlers=[handler])

Standard library only: this module is on ``envsecrets run``'s start-up path.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any, TextIO

__all__ = [
    "REDACTED",
    "RedactingFilter",
    "add_redaction",
    "configure",
    "redact_pattern",
    "redact_values",
]

#: What replaces a redacted part unless a registration names its own text.
REDACTED = "<redacted by envsecrets>"

#: Shorter values would redact ordinary words.
MIN_VALUE_LENGTH = 6
#: Values remembered, the most recent kept: an agent sees a few credential
#: sets, but must not grow without bound.
MAX_VALUES = 256

SHORT_FORMAT = "envsecrets: %(message)s"
LONG_FORMAT = "envsecrets: %(levelname)s %(name)s: %(message)s"

#: A rule rewrites the text of a record (message, traceback or stack).
Rule = Callable[[str], str]


@dataclass(frozen=True)
class _Scoped:
    """A rule for the records of *loggers* and their children (all if empty)."""

    loggers: tuple[str, ...]
    rule: Callable[[Any], Any]

    def applies(self, name: str) -> bool:
        return not self.loggers or any(
            name == logger or name.startswith(logger + ".") for logger in self.loggers
        )


@dataclass(frozen=True)
class _Substitute:
    """Replace the ``secret`` group of each match (the whole match without one)."""

    pattern: re.Pattern[str]
    replacement: str

    def __call__(self, text: str) -> str:
        return self.pattern.sub(self._replace, text)

    def _replace(self, match: re.Match[str]) -> str:
        if "secret" not in self.pattern.groupindex:
            return self.replacement
        start, end = match.span("secret")
        whole = match.string
        return whole[match.start() : start] + self.replacement + whole[end : match.end()]


@dataclass(frozen=True)
class _Whole:
    """Replace a whole log argument in which the pattern is found."""

    pattern: re.Pattern[str]
    replacement: str

    def __call__(self, value: object) -> object:
        if isinstance(value, (bytes, bytearray)):
            text = bytes(value).decode("utf-8", "replace")
        else:
            text = value if isinstance(value, str) else str(value)
        return self.replacement if self.pattern.search(text) else value


@dataclass(frozen=True)
class _Registry:
    """One immutable snapshot, swapped whole: the filter reads it unlocked."""

    values: tuple[tuple[str, str], ...] = ()
    rules: tuple[_Scoped, ...] = ()
    arguments: tuple[_Scoped, ...] = ()


class _State:
    """Process-wide registrations: ``registry`` is replaced whole under
    ``lock``, so that the filter reads one consistent snapshot without it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.registry = _Registry()
        self.values: dict[str, str] = {}
        self.handler: logging.Handler | None = None


_state = _State()


def redact_values(values: Iterable[str | None], *, replacement: str = REDACTED) -> None:
    """Replace each of *values* wherever it appears in a record, from now on.

    For credentials a provider read (tokens, keys). Empty values and values
    shorter than :data:`MIN_VALUE_LENGTH` are ignored; the
    :data:`MAX_VALUES` most recent are kept.
    """
    with _state.lock:
        known = _state.values
        for value in values:
            if value and len(value) >= MIN_VALUE_LENGTH:
                known.pop(value, None)  # to the end: the most recent
                known[value] = replacement
        for oldest in list(known)[: max(0, len(known) - MAX_VALUES)]:
            del known[oldest]
        _state.registry = replace(_state.registry, values=tuple(known.items()))


def redact_pattern(
    pattern: str | re.Pattern[str],
    *,
    loggers: Iterable[str] = (),
    replacement: str = REDACTED,
    whole: bool = False,
) -> None:
    """Redact what *pattern* matches in the records of *loggers* (and their
    children, present and future; every logger when empty).

    By default the match's group named ``secret``, or the whole match
    without one, is replaced: ``(?i)x-amz-security-token:\\s*(?P<secret>\\S+)``
    keeps the header's name. With *whole*, each argument of the record in
    which the pattern is found is replaced entirely (the message itself
    when the record has no arguments): for answer bodies that may hold a
    value anywhere. Registering the same rule twice has no further effect.
    """
    compiled = re.compile(pattern) if isinstance(pattern, str) else pattern
    if whole:
        _register(_Scoped(tuple(loggers), _Whole(compiled, replacement)), arguments=True)
    else:
        _register(_Scoped(tuple(loggers), _Substitute(compiled, replacement)), arguments=False)


def add_redaction(rule: Rule, *, loggers: Iterable[str] = ()) -> None:
    """Rewrite the text of each record of *loggers* with *rule* (text in,
    text out), after the patterns and before the values; for what a pattern
    cannot say. *rule* runs on the logging thread and must not log."""
    _register(_Scoped(tuple(loggers), rule), arguments=False)


def _register(scoped: _Scoped, *, arguments: bool) -> None:
    with _state.lock:
        registry = _state.registry
        if arguments and scoped not in registry.arguments:
            _state.registry = replace(registry, arguments=(*registry.arguments, scoped))
        elif not arguments and scoped not in registry.rules:
            _state.registry = replace(registry, rules=(*registry.rules, scoped))


class RedactingFilter(logging.Filter):
    """Rewrite each record so that nothing registered for redaction remains:
    the message is formatted, then cleaned; a traceback or stack too.

    Attach it to a handler, never to a logger: a logger's filter misses the
    records of its children. It always lets the record through.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        registry = _state.registry
        name = record.name
        rules = [scoped.rule for scoped in registry.rules if scoped.applies(name)]
        arguments = [scoped.rule for scoped in registry.arguments if scoped.applies(name)]
        if not (rules or arguments or registry.values):
            return True
        _clean_message(record, rules, arguments, registry.values)
        if record.exc_info and not record.exc_text:
            # Formatted once here, so that every handler prints the clean text.
            record.exc_text = _FORMATTER.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = _clean(record.exc_text, rules, registry.values)
        if record.stack_info:
            record.stack_info = _clean(record.stack_info, rules, registry.values)
        return True


_FORMATTER = logging.Formatter()


def _clean_message(
    record: logging.LogRecord,
    rules: list[Callable[[Any], Any]],
    arguments: list[Callable[[Any], Any]],
    values: tuple[tuple[str, str], ...],
) -> None:
    """Format the message, clean it, and store it with no arguments left."""
    args = record.args
    by_argument = isinstance(args, tuple) and bool(args)
    if arguments and isinstance(args, tuple) and args:
        record.args = tuple(_apply(arguments, arg) for arg in args)
    try:
        text = record.getMessage()
    except Exception:  # a broken format string: keep its template, drop the arguments
        text = str(record.msg)
    if arguments and not by_argument:
        text = str(_apply(arguments, text))
    record.msg, record.args = _clean(text, rules, values), ()


def _apply(rules: list[Callable[[Any], Any]], value: Any) -> Any:
    for rule in rules:
        value = rule(value)
    return value


def _clean(
    text: str, rules: list[Callable[[Any], Any]], values: tuple[tuple[str, str], ...]
) -> str:
    text = str(_apply(rules, text))
    for value, replacement in values:
        if value in text:
            text = text.replace(value, replacement)
    return text


def _own(record: logging.LogRecord) -> bool:
    """A record of envsecrets or of a plugin package named ``envsecrets_*``."""
    top = record.name.partition(".")[0]
    return top == "envsecrets" or top.startswith("envsecrets_")


def configure(verbosity: int, *, stream: TextIO | None = None) -> logging.Handler:
    """Install the handler of the command line; call again to replace it.

    ``0``: warnings and errors of envsecrets and its ``envsecrets_*`` plugins
    only. ``1`` (``-v``): every logger at INFO (an SDK's DEBUG dumps stay
    off). ``2`` and more (``-vv``): every logger at DEBUG, botocore's
    request and answer dumps included. Messages go to *stream* (stderr),
    prefixed ``envsecrets:``; Python warnings are routed through logging,
    so that they too pass the handler's filters.

    :return: the handler, with its :class:`RedactingFilter`.
    """
    handler = logging.StreamHandler(sys.stderr if stream is None else stream)
    handler.setFormatter(logging.Formatter(LONG_FORMAT if verbosity > 0 else SHORT_FORMAT))
    if verbosity <= 0:
        handler.addFilter(_own)  # first: a dropped record costs no redaction
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    with _state.lock:
        if _state.handler is not None:
            root.removeHandler(_state.handler)
        root.addHandler(handler)
        _state.handler = handler
    if verbosity <= 0:
        root.setLevel(logging.WARNING)
    else:
        root.setLevel(logging.INFO if verbosity == 1 else logging.DEBUG)
    logging.captureWarnings(True)
    return handler
