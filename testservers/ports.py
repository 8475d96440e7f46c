"""Free loopback ports."""

from __future__ import annotations

import socket

__all__ = ["free_port_pair", "refused_url"]


def free_port_pair() -> int:
    """Return a port P such that P and P+1 are free on loopback (OpenBao binds both)."""
    for _ in range(100):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = int(first.getsockname()[1])
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free pair of loopback ports")


def refused_url() -> str:
    """An http URL on loopback where nothing listens: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
