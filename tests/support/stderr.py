"""What envsecrets writes to stderr: its own words only (a library's text is foreign)."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence

#: What starts a line envsecrets writes to stderr itself (argparse's usage included).
OWN_LINE = ("envsecrets:", "usage: envsecrets")


def foreign_lines(stderr: str, *, child: str = "") -> list[str]:
    """The lines of *stderr* that envsecrets did not write: a library's warning, a traceback.

    A line is envsecrets' own when it starts with :data:`OWN_LINE`, is indented under such a line
    (the failures of an aggregate error), or follows argparse's ``usage:`` (its help text).
    *child* is what the command that ``envsecrets run`` started wrote to stderr itself: its lines
    are its own, not foreign.
    """
    expected = child.splitlines()
    foreign: list[str] = []
    own = usage = False
    for line in stderr.splitlines():
        if expected and line == expected[0]:
            expected.pop(0)
            own = False
            continue
        if line.startswith(OWN_LINE):
            own, usage = True, line.startswith("usage: ")
        elif usage:
            continue  # the rest of argparse's help, up to envsecrets' next line
        elif not (own and line[:1].isspace()):
            foreign.append(line)
            own = False
    return foreign


def assert_own_stderr(stderr: str, *, child: str = "") -> None:
    """Fail when *stderr* holds text envsecrets did not write (see :func:`foreign_lines`)."""
    foreign = foreign_lines(stderr, child=child)
    assert not foreign, f"foreign text on stderr: {foreign!r}\n--- stderr:\n{stderr}"


def quiet(args: Sequence[str]) -> bool:
    """Whether *args* run envsecrets without ``-v`` (then stderr must be all its own)."""
    return not any(arg in {"-v", "-vv", "-vvv", "--verbose"} for arg in args)


def checked(
    done: subprocess.CompletedProcess[str], args: Sequence[str]
) -> subprocess.CompletedProcess[str]:
    """*done*, after checking that a run without ``-v`` wrote envsecrets' own words only."""
    if quiet(args):
        assert_own_stderr(done.stderr)
    return done
