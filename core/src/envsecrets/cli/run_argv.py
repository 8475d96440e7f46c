"""``run``'s command line in the plain forms a launcher writes, read without
argparse: argparse, with the gettext, locale and shutil it loads when a
parser is built, cost ~10 ms of a ~50 ms ``run`` through the agent.

:func:`parse` reads ``run [-e FILE]... [--timeout S] [--no-agent]
[--pristine | --keep-credentials] [--] COMMAND [ARG]...`` into what ``run``'s
argparse parser returns, and returns ``None`` for anything else (``-v``,
``--help``, an abbreviation, ``-eFILE``, a value starting with ``-``, a bad
number, both ``--pristine`` and ``--keep-credentials``...), which argparse
then parses and reports. ``tests/cli/test_run_argv.py`` checks that the two
read every form alike.
"""

from __future__ import annotations

#: typing.TYPE_CHECKING without importing typing (a thin client never does).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from argparse import Namespace
    from collections.abc import Sequence
else:  # the same interface (attributes, equality by them), without argparse
    from types import SimpleNamespace as Namespace

#: The default of --timeout (the resolver's DEFAULT_TIMEOUT, not imported:
#: a thin client parses options without the resolver).
DEFAULT_TIMEOUT = 30.0

#: The options without a value, by the attribute each sets.
_FLAGS = {
    "--no-agent": "no_agent",
    "--pristine": "pristine",
    "--keep-credentials": "keep_credentials",
}
#: The options with a value (``--NAME VALUE``, ``--NAME=VALUE``, ``-e VALUE``).
_VALUED = ("-e", "--env-file", "--timeout")


def parse(argv: Sequence[str]) -> Namespace | None:
    """``run``'s options and COMMAND from *argv* (``["run", ...]``), as
    argparse reads them; ``None`` for a form left to argparse."""
    if not argv or argv[0] != "run":
        return None
    words = argv[1:]
    found: dict[str, object] = {"no_agent": False, "pristine": False, "keep_credentials": False}
    env_files: list[str] = []
    timeout = DEFAULT_TIMEOUT
    at = 0
    while at < len(words) and words[at] != "--" and words[at].startswith("-"):
        word = words[at]
        if word in _FLAGS:
            found[_FLAGS[word]] = True
            at += 1
            continue
        option, equals, value = word.partition("=")
        if option not in _VALUED or (equals and option == "-e"):
            return None
        if not equals:
            if at + 1 == len(words) or words[at + 1].startswith("-"):
                return None
            value = words[at + 1]
        at += 1 if equals else 2
        if option == "--timeout":
            seconds = positive_seconds(value)
            if seconds is None:
                return None
            timeout = seconds
        else:
            env_files.append(value)
    if found["pristine"] and found["keep_credentials"]:
        return None
    return Namespace(
        command="run",
        env_file=env_files,
        allow_provider_settings=False,
        timeout=timeout,
        argv=list(words[at:]),
        **found,
    )


def positive_seconds(text: str) -> float | None:
    """*text* as a positive, finite number of seconds, or ``None``."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if 0 < value < float("inf") else None
