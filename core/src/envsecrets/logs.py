"""The log handler envsecrets owns, and the redaction applied on it.

The CLI calls :func:`configure` once: one handler on the root logger, to
stderr, carrying a :class:`RedactingFilter`. A provider built on an SDK
calls :func:`envsecrets.redact_logs` (:mod:`envsecrets.sdk_logs`) once, where it builds
its client: its declared credentials, and the credential headers and answer
bodies that the SDKs it names dump at DEBUG, are then redacted from every
record, while the records themselves stay (``-vv`` shows the requests).
Finer rules: :func:`redact_values`, :func:`redact_pattern` and
:func:`add_redaction`.

The filter sits on the *handler*, not on the SDK's loggers: a logger's
filter sees only the records of that one logger, so a ``botocore.*`` logger
created later would escape it, while every record that reaches the handler
passes its filters. Registrations are process-wide: they apply to every
:class:`RedactingFilter`, those made before and after.

A program that uses envsecrets as a library and prints logs through its own
handlers attaches the filter itself::

    import logging
    import envsecrets.logs

    handler = logging.StreamHandler()
    handler.addFilter(envsecrets.logs.RedactingFilter())
    logging.basicConfig(level=logging.DEBUG, handlers=[handler])

Standard library only, and no dataclass: this module is on the start-up
path of ``envsecrets run``.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import Callable, Hashable, Iterable
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    pass

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


class _Rule:
    """A rewrite for the records of *loggers* and their children (of every
    logger when empty)."""

    __slots__ = ("apply", "loggers")

    def __init__(self, loggers: tuple[str, ...], apply: Callable[[Any], Any]) -> None:
        self.loggers = loggers
        self.apply = apply

    def applies(self, name: str) -> bool:
        return not self.loggers or any(
            name == logger or name.startswith(logger + ".") for logger in self.loggers
        )


class _Registry:
    """One snapshot of the registrations, replaced whole (never changed), so
    that the filter reads a consistent one without taking the lock."""

    __slots__ = ("arguments", "rules", "values")

    def __init__(
        self,
        values: tuple[tuple[str, str], ...] = (),
        rules: tuple[_Rule, ...] = (),
        arguments: tuple[_Rule, ...] = (),
    ) -> None:
        self.values = values  # (value, replacement), oldest first
        self.rules = rules  # rewrite the formatted text
        self.arguments = arguments  # replace a whole argument


class _State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.registry = _Registry()
        self.values: dict[str, str] = {}
        self.keys: set[Hashable] = set()  # the rules registered, each once
        self.handler: logging.Handler | None = None


_state = _State()


def redact_values(values: Iterable[str | None], *, replacement: str = REDACTED) -> None:
    """Replace each of *values* wherever it appears in a record of any
    logger, from now on: for the credentials a provider read (tokens, keys).

    Empty values and values shorter than :data:`MIN_VALUE_LENGTH` are
    ignored; the :data:`MAX_VALUES` most recent are kept.
    """
    with _state.lock:
        known = _state.values
        for value in values:
            if value and len(value) >= MIN_VALUE_LENGTH:
                known.pop(value, None)  # to the end: the most recent
                known[value] = replacement
        for oldest in list(known)[: max(0, len(known) - MAX_VALUES)]:
            del known[oldest]
        current = _state.registry
        _state.registry = _Registry(tuple(known.items()), current.rules, current.arguments)


def redact_pattern(
    pattern: str | re.Pattern[str],
    *,
    loggers: Iterable[str] = (),
    replacement: str = REDACTED,
    whole: bool = False,
) -> None:
    """Redact what *pattern* matches in the records of *loggers* and of
    their children, present and future (of every logger when empty).

    The match's group named ``secret`` is replaced (the whole match when
    there is none): ``(?i)x-amz-security-token:\\s*(?P<secret>\\S+)`` keeps
    the header's name. With *whole*, each argument of the record in which
    the pattern is found is replaced entirely (the message itself when the
    record has no arguments): for answer bodies that may hold a value
    anywhere. Registering the same rule again has no effect.
    """
    compiled = re.compile(pattern) if isinstance(pattern, str) else pattern
    names = tuple(loggers)
    key = (compiled, replacement, whole, names)
    if whole:
        _register(key, _Rule(names, _whole_argument(compiled, replacement)), arguments=True)
    else:
        _register(key, _Rule(names, _substitute(compiled, replacement)), arguments=False)


def add_redaction(rule: Callable[[str], str], *, loggers: Iterable[str] = ()) -> None:
    """Rewrite the text of each record of *loggers* (and their children; of
    every logger when empty) with *rule*, text in, text out: for what a
    pattern cannot say. It runs after the patterns, before the values, on
    the thread that logs, and must not log. Registering it again has no
    effect."""
    names = tuple(loggers)
    _register((rule, names), _Rule(names, rule), arguments=False)


def _register(key: Hashable, rule: _Rule, *, arguments: bool) -> None:
    with _state.lock:
        if key in _state.keys:
            return
        _state.keys.add(key)
        current = _state.registry
        if arguments:
            _state.registry = _Registry(current.values, current.rules, (*current.arguments, rule))
        else:
            _state.registry = _Registry(current.values, (*current.rules, rule), current.arguments)


def _substitute(pattern: re.Pattern[str], replacement: str) -> Callable[[str], str]:
    def replace(match: re.Match[str]) -> str:
        if "secret" not in pattern.groupindex:
            return replacement
        start, end = match.span("secret")
        text = match.string
        return text[match.start() : start] + replacement + text[end : match.end()]

    return lambda text: pattern.sub(replace, text)


def _whole_argument(pattern: re.Pattern[str], replacement: str) -> Callable[[object], object]:
    def apply(value: object) -> object:
        if isinstance(value, (bytes, bytearray)):
            text = bytes(value).decode("utf-8", "replace")
        else:
            text = value if isinstance(value, str) else str(value)
        return replacement if pattern.search(text) else value

    return apply


class RedactingFilter(logging.Filter):
    """Rewrite each record so that nothing registered for redaction remains:
    the message is formatted, cleaned and stored without arguments; a
    traceback and a stack are cleaned too. Every handler that formats the
    record after this filter prints the clean text.

    Attach it to a handler, never to a logger: a logger's filter misses the
    records of its children. It lets every record through.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        registry = _state.registry
        name = record.name
        rules = [rule.apply for rule in registry.rules if rule.applies(name)]
        arguments = [rule.apply for rule in registry.arguments if rule.applies(name)]
        if not (rules or arguments or registry.values):
            return True
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
        record.msg, record.args = _clean(text, rules, registry.values), ()
        if record.exc_info and not record.exc_text:
            # Formatted here, once, so that every handler prints the clean text.
            record.exc_text = _FORMATTER.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = _clean(record.exc_text, rules, registry.values)
        if record.stack_info:
            record.stack_info = _clean(record.stack_info, rules, registry.values)
        return True


_FORMATTER = logging.Formatter()


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
    """Install the handler of the command line (called again, replace it).

    ``0``: the warnings and errors of envsecrets and of its ``envsecrets_*``
    plugins only. ``1`` (``-v``): every logger at INFO, so an SDK's DEBUG
    dumps stay off. ``2`` and more (``-vv``): every logger at DEBUG,
    botocore's request and answer dumps included. Messages go to *stream*
    (stderr) prefixed ``envsecrets:``, through a :class:`RedactingFilter`.
    Python warnings are routed into logging, so that they too appear only
    through this handler.

    :return: the handler installed on the root logger.
    """
    handler = logging.StreamHandler(sys.stderr if stream is None else stream)
    handler.setFormatter(logging.Formatter(LONG_FORMAT if verbosity > 0 else SHORT_FORMAT))
    if verbosity <= 0:
        handler.addFilter(_own)  # first: a record dropped costs no redaction
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
