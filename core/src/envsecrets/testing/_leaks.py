"""Helpers of the contract kit: finding secrets in texts and log records,
reporting every leak in one short failure, and capturing every log record
of an action at DEBUG."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TypeVar

import pytest

from envsecrets.logs import RedactingFilter
from envsecrets.testing._support import Text, error_texts

_T = TypeVar("_T")


#: Where-texts of log records start with this, then the logger's name.
RECORD_OF = "a log record of "
#: Places named per leak in a report; more are counted.
MAX_PLACES = 6


def find_leaks(texts: Iterable[Text], needles: Iterable[Text]) -> dict[str, dict[str, int]]:
    """Every needle found in a text: what leaked -> {where: how often}, in
    the order found."""
    needles = list(needles)
    leaks: dict[str, dict[str, int]] = {}
    for where, text in texts:
        for what, needle in needles:
            if needle in text:
                places = leaks.setdefault(what, {})
                places[where] = places.get(where, 0) + 1
    return leaks


def leak_report(
    leaks: Mapping[str, Mapping[str, int]], records: Sequence[logging.LogRecord]
) -> str:
    """A few lines: one per leaked value (named, never quoted) with every
    place it was found, log records grouped by logger; the records
    themselves summarized, never printed (they hold the values)."""
    lines = [f"{len(leaks)} value(s) leaked (named here, never quoted):"]
    via_logs = False
    for what, places in leaks.items():
        loggers = {
            where.removeprefix(RECORD_OF): count
            for where, count in places.items()
            if where.startswith(RECORD_OF)
        }
        others = [where for where in places if not where.startswith(RECORD_OF)]
        found = []
        if loggers:
            via_logs = True
            found.append("log records of " + _counted(loggers))
        found.extend(others[:MAX_PLACES])
        if len(others) > MAX_PLACES:
            found.append(f"{len(others) - MAX_PLACES} more")
        lines.append(f"  {what} is in: {'; '.join(found)}")
    if records:
        by_top: dict[str, int] = {}
        for record in records:
            top = record.name.partition(".")[0] or "root"
            by_top[top] = by_top.get(top, 0) + 1
        lines.append(
            f"  ({len(records)} log records searched at DEBUG, not shown: {_counted(by_top)})"
        )
    if via_logs:
        lines.append(
            "  Redact, do not silence: envsecrets.redact_logs(self, sdks=[...]) where the "
            "client is built (docs/writing-a-provider.md, 'Logs')"
        )
    return "\n".join(lines)


def _counted(counts: Mapping[str, int]) -> str:
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    shown = [f"{name} ({count})" for name, count in ordered[:MAX_PLACES]]
    if len(ordered) > MAX_PLACES:
        shown.append(f"{len(ordered) - MAX_PLACES} more")
    return ", ".join(shown)


def fail_on_leaks(
    texts: Iterable[Text], needles: Iterable[Text], records: Sequence[logging.LogRecord]
) -> None:
    """Fail the test once, listing every leak, when a needle is found."""
    leaks = find_leaks(texts, needles)
    if leaks:
        # Names what leaked, never quotes it: this message is printed.
        pytest.fail(leak_report(leaks, records), pytrace=False)


def record_texts(records: Iterable[logging.LogRecord]) -> Iterator[Text]:
    """What a log record can print: message, exception and stack."""
    for record in records:
        where = f"{RECORD_OF}{record.name}"
        try:
            yield where, record.getMessage()
        except Exception:  # a broken format string: search its parts instead
            yield where, f"{record.msg} {record.args!r}"
        if record.exc_info and record.exc_info[1] is not None:
            yield from ((where, text) for text in error_texts(record.exc_info[1]))
        if record.stack_info:
            yield where, record.stack_info


# -- logging --------------------------------------------------------------------


class _Collector(logging.Handler):
    """Keeps every record as the handler of the command line would print
    it: through the redaction providers register (:mod:`envsecrets.logs`)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.addFilter(RedactingFilter())
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _loggers() -> dict[str, logging.Logger]:
    manager = logging.Logger.manager
    found = {
        name: logger
        for name, logger in list(manager.loggerDict.items())
        if isinstance(logger, logging.Logger)
    }
    found[""] = logging.getLogger()
    return found


def _restrictive(logger: logging.Logger) -> bool:
    """Whether *logger* would hide DEBUG records from the root's handler."""
    return logger.level > logging.DEBUG or not logger.propagate or logger.disabled


def capture_logs(action: Callable[[], _T]) -> tuple[_T, list[logging.LogRecord]]:
    """Run *action* with every logger at DEBUG; return its result and every
    record logged meanwhile, redacted as envsecrets' own handler redacts.

    Loggers that set their own level, stop propagation or were disabled
    are opened up for the time of the action. A logger first configured
    during the action (an SDK imported on first fetch) may have dropped
    records: the action then runs a second time, with it opened up too.
    """
    before = set(_loggers())
    result, records = _capture_once(action)
    added = [logger for name, logger in _loggers().items() if name not in before]
    if any(_restrictive(logger) for logger in added):
        result, records = _capture_once(action)
    return result, records


def _capture_once(action: Callable[[], _T]) -> tuple[_T, list[logging.LogRecord]]:
    collector = _Collector()
    loggers = list(_loggers().values())
    saved = [(logger, logger.level, logger.disabled) for logger in loggers]
    disabled_level = logging.root.manager.disable
    # Other handlers (pytest's log capture on the root, a CLI handler, an
    # in-process server's own stream handler) would keep or print every
    # DEBUG record, values included, and show them with a failure: the
    # collector alone hears the action.
    handlers = [(logger, logger.handlers) for logger in loggers]
    logging.disable(logging.NOTSET)
    try:
        for logger in loggers:
            logger.handlers = []
            logger.disabled = False
            if logger.level != logging.NOTSET or logger is logging.root:
                logger.setLevel(logging.DEBUG)
            # Records of a logger that does not propagate never reach root.
            if logger is logging.root or not logger.propagate:
                logger.addHandler(collector)
        return action(), collector.records
    finally:
        for logger, kept in handlers:
            logger.handlers = kept
        for logger, level, disabled in saved:
            logger.setLevel(level)
            logger.disabled = disabled
        logging.disable(disabled_level)
