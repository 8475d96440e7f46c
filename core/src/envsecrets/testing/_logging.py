"""Checks that a provider redacts its SDK's logs rather than silencing them.

``envsecrets -vv`` shows every logger at DEBUG, an SDK's request log
included: users need it to debug a refused or slow request. A provider that
raises ``botocore`` to INFO (or stops it propagating, disables it, puts a
filter on it) hides that log and passes every leak check; this check tells
the two apart.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import ClassVar

import pytest

from envsecrets import logs, sdk_logs
from envsecrets.provider import Document
from envsecrets.testing._settings import SettingsChecks

#: The loggers of the SDKs providers are built on: never above DEBUG.
WATCHED_LOGGERS = ("botocore", "urllib3", "requests", "httpx", "httpcore", "hvac")

#: A logger's state as far as DEBUG records go: level, propagate, disabled, filters.
_State = tuple[int, bool, bool, int]


class LoggingChecks(SettingsChecks):
    """The provider's DEBUG logs, SDKs included, reach envsecrets' handler."""

    __test__: ClassVar[bool] = False

    #: Loggers allowed above DEBUG (an SDK that sets its own level on import).
    quiet_loggers: ClassVar[Collection[str]] = ()

    def test_logs_are_redacted_not_silenced(
        self,
        contract_environ: Mapping[str, str],
        contract_credentials: Mapping[str, str],
        contract_secrets: Mapping[str, Document],
        missing_name: str,
    ) -> None:
        environ = {**contract_environ, **contract_credentials}
        before, calls = _states(), sdk_logs.sdk_calls()
        records = _listen(lambda: self._credential_paths(environ, contract_secrets, missing_name))
        named = sorted(
            sdk for sdk, count in sdk_logs.sdk_calls().items() if count > calls.get(sdk, 0)
        )
        package = self.provider_class.__module__.partition(".")[0]
        watched = (*WATCHED_LOGGERS, package, *named)
        problems = list(_silenced(before, _states(), watched, self.quiet_loggers))
        if problems:
            pytest.fail(
                "the provider silences logs that `envsecrets -vv` must show:\n"
                + "\n".join(f"  {problem}" for problem in problems)
                + "\n  Redact instead: envsecrets.redact_logs(self, sdks=[...]) keeps "
                "credentials and values out and the records in",
                pytrace=False,
            )
        loggers = [logger for sdk in named for logger in sdk_logs.SDK_LOGGERS.get(sdk, (sdk,))]
        if named and not any(_under(record.name, loggers) for record in records):
            pytest.fail(
                f"the provider named {', '.join(map(repr, named))} to envsecrets.redact_logs, "
                f"but none of their loggers ({', '.join(loggers)}) logged at DEBUG while it "
                "fetched: `envsecrets -vv` must still show its requests",
                pytrace=False,
            )


def _under(name: str, loggers: Collection[str]) -> bool:
    return any(name == logger or name.startswith(logger + ".") for logger in loggers)


def _loggers() -> Iterator[tuple[str, logging.Logger]]:
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger):
            yield name, logger


def _states() -> dict[str, _State]:
    return {
        name: (logger.level, logger.propagate, logger.disabled, len(logger.filters))
        for name, logger in _loggers()
    }


def _silenced(
    before: Mapping[str, _State],
    after: Mapping[str, _State],
    watched: Collection[str],
    allowed: Collection[str],
) -> Iterator[str]:
    """Why DEBUG records of some logger no longer reach the root's handler:
    each logger changed by the action, or watched, that now hides them."""
    if logging.root.manager.disable >= logging.DEBUG:
        yield f"logging.disable({logging.getLevelName(logging.root.manager.disable)}) is in force"
    for name, state in sorted(after.items()):
        if _under(name, allowed):
            continue
        # A logger made during the action (an SDK imported on first fetch)
        # may set its own level; one that existed must not be changed.
        changed = name in before and before[name] != state
        if not (changed or _under(name, watched)):
            continue
        level, propagate, disabled, filters = state
        if level > logging.DEBUG:
            yield f"logger {name} is set to {logging.getLevelName(level)}"
        if not propagate:
            yield f"logger {name} does not propagate"
        if disabled:
            yield f"logger {name} is disabled"
        if filters > before.get(name, (0, True, False, 0))[3]:
            yield (
                f"logger {name} got a filter (it sees none of its children's records: "
                "redaction belongs on the handler)"
            )


class _Listener(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _listen(action: Callable[[], object]) -> list[logging.LogRecord]:
    """Run *action* as ``envsecrets -vv`` would (the root at DEBUG, no
    logger forced open); return the records that reached the root."""
    listener = _Listener()
    listener.addFilter(logs.RedactingFilter())  # the records are searched by nobody, kept clean
    root = logging.root
    level, handlers = root.level, root.handlers
    root.handlers = [listener]  # nothing else (pytest's capture) keeps the DEBUG records
    root.setLevel(logging.DEBUG)
    try:
        action()
    finally:
        root.handlers = handlers
        root.setLevel(level)
    return listener.records
