"""Which addresses are loopback, and which ``Host`` headers name this server.

Standard library only: the command imports it before the web stack.
"""

from __future__ import annotations

import ipaddress

_LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")


def is_loopback(host: str) -> bool:
    """Tell whether *host* (a name or an address) stays on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_wildcard(host: str) -> bool:
    return host.strip("[]") in ("0.0.0.0", "::", "")  # noqa: S104 - comparing, not binding


def allowed_hosts(host: str, port: int) -> frozenset[str]:
    """The ``Host`` header values accepted for a server bound to *host*."""
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    names = {shown}
    if is_loopback(host):
        names.update(_LOOPBACK_NAMES)
    return frozenset(f"{name}:{port}".lower() for name in names)


def is_ip_literal(host_header: str) -> bool:
    name = host_header.rpartition(":")[0] if not host_header.endswith("]") else host_header
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True
