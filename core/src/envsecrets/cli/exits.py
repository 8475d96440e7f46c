"""The documented exit codes, and the one way a command reports an error."""

from __future__ import annotations

import sys

#: typing.TYPE_CHECKING without importing typing (a thin client of the agent never does).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from envsecrets.registry import Registry

EXIT_OK = 0
#: A reference failed: nothing was run or written.
EXIT_FAILURE = 1
#: Bad option, unreadable env file, an env file setting a provider setting.
EXIT_USAGE = 2
#: The command was found but could not be started.
EXIT_CANNOT_EXECUTE = 126
#: The command was not found.
EXIT_NOT_FOUND = 127
EXIT_INTERRUPTED = 130


def error(message: str) -> None:
    """Print *message* to stderr as ``envsecrets: error: ...``, every line
    escaped for the terminal (a name or server text from outside cannot
    send an escape sequence)."""
    from envsecrets.errors import escaped_lines  # only when there is an error to print

    print(f"envsecrets: error: {escaped_lines(message)}", file=sys.stderr)


def refused_allowlist(registry: Registry) -> bool:
    """Report an ``ENVSECRETS_PLUGINS`` that names what is not installed (no
    plugin was loaded then); tell whether it did."""
    if registry.allowlist_error:
        error(registry.allowlist_error)
        return True
    return False
