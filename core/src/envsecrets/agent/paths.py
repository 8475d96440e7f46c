"""Where the agent listens: the default socket and its private directory."""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping

#: Set to a socket path, the clients ask the agent there.
SOCKET_VARIABLE = "ENVSECRETS_AGENT_SOCK"
#: ``required``: a client fails when no agent answers; ``off``: never asks one.
MODE_VARIABLE = "ENVSECRETS_AGENT"


def default_socket(environ: Mapping[str, str]) -> str:
    """``$XDG_RUNTIME_DIR/envsecrets/agent.sock``, else
    ``envsecrets-UID/agent.sock`` in ``$TMPDIR`` (``/tmp`` without it, as
    ssh-agent). Cheap: every ``run`` without an agent asks where it would be."""
    runtime = environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isabs(runtime):
        return os.path.join(runtime, "envsecrets", "agent.sock")
    temporary = environ.get("TMPDIR")
    if not (temporary and os.path.isabs(temporary)):
        temporary = "/tmp"  # noqa: S108 (a private directory is made in it, as ssh-agent's)
    return os.path.join(temporary, f"envsecrets-{os.getuid()}", "agent.sock")


def client_socket(environ: Mapping[str, str]) -> str | None:
    """The socket a client asks: ``ENVSECRETS_AGENT_SOCK``, else the default
    one when it exists; ``None`` for none (or ``ENVSECRETS_AGENT=off``)."""
    if environ.get(MODE_VARIABLE) == "off":
        return None
    named = environ.get(SOCKET_VARIABLE)
    if named:
        return named
    path = default_socket(environ)
    return path if os.path.exists(path) else None


def private_directory(path: str) -> None:
    """Create the socket's directory *path* mode 0700, or check that an
    existing one is this user's and nobody else's (as ssh-agent's).

    :raise OSError: when it cannot be created, or is not private.
    """
    import contextlib  # the agent's, not on a client's path

    with contextlib.suppress(FileExistsError):
        os.mkdir(path, 0o700)
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode):
        raise OSError(f"{path} is not a directory")
    if info.st_uid != os.getuid():
        raise OSError(f"{path} belongs to uid {info.st_uid}, not to this user")
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise OSError(f"{path} is open to other users (mode {stat.S_IMODE(info.st_mode):o})")
