"""The proxy of the Vault address, decided once per configuration from the provider's environment
(requests' helpers read ``os.environ`` and match ``NO_PROXY`` without domain boundaries or IPv6
ranges). curl's rules: ``https_proxy``/``http_proxy`` by scheme, else ``all_proxy``; ``NO_PROXY``
holds host names on a domain boundary (``example.com``, ``.example.com``, ``*.example.com``), an
optional ``:port``, IPv4/IPv6 addresses or ranges, or ``*``."""

from __future__ import annotations

import ipaddress
import urllib.parse
from collections.abc import Mapping


def proxy_for(url: str, environ: Mapping[str, str]) -> str | None:
    """The proxy URL for *url*, or ``None`` to connect directly; *environ*'s keys are lower-case."""
    parts = urllib.parse.urlsplit(url)
    proxy = environ.get(f"{parts.scheme.lower()}_proxy") or environ.get("all_proxy")
    if not proxy or bypasses(parts.hostname or "", parts.port, environ.get("no_proxy", "")):
        return None
    return proxy if "://" in proxy else "http://" + proxy


def bypasses(host: str, port: int | None, no_proxy: str) -> bool:
    """True when *no_proxy* exempts *host* (and *port*) from the proxy."""
    host = host.lower().rstrip(".")
    address = _ip(host)
    for raw in no_proxy.replace(" ", "").lower().split(","):
        if raw == "*":
            return True
        entry, entry_port = _split_port(raw)
        if not entry or (entry_port is not None and entry_port != port):
            continue
        if address is None:
            domain = entry.lstrip("*").lstrip(".")
            if domain and (host == domain or host.endswith("." + domain)):
                return True
        elif "/" in entry:
            try:
                if address in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                continue
        elif _ip(entry) == address:
            return True
    return False


def _split_port(entry: str) -> tuple[str, int | None]:
    """``host:8200`` -> ("host", 8200); ``[::1]:8200`` -> ("::1", 8200); a bare IPv6 address keeps
    its colons."""
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        port = rest.removeprefix(":")
        return host, int(port) if port.isdigit() else None
    host, colon, port = entry.partition(":")
    if colon and ":" not in port and port.isdigit():
        return host, int(port)
    return entry, None


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None
