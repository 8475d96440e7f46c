"""The uid of the process at the other end of a unix socket connection."""

from __future__ import annotations

import socket
import struct
import sys

# Linux: struct ucred {pid_t pid; uid_t uid; gid_t gid;}
_UCRED = struct.Struct("=iII")
# macOS and the BSDs: struct xucred {u_int version; uid_t uid; short ngroups; ...}
_XUCRED_HEAD = struct.Struct("=II")
_SOL_LOCAL = 0


def peer_uid(connection: socket.socket) -> int | None:
    """The peer's uid as the kernel recorded it at ``connect()``, or
    ``None`` where this system offers no way to read it (the caller
    refuses the connection then)."""
    if sys.platform.startswith("linux") and hasattr(socket, "SO_PEERCRED"):
        raw = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size)
        return int(_UCRED.unpack(raw)[1])
    local_peercred = getattr(socket, "LOCAL_PEERCRED", None)
    if local_peercred is not None:  # what getpeereid(3) reads on macOS and FreeBSD
        raw = connection.getsockopt(_SOL_LOCAL, local_peercred, 256)
        return int(_XUCRED_HEAD.unpack_from(raw)[1])
    return None
