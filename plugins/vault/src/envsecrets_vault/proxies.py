"""Which proxy a request takes, from the agent's ``*_PROXY`` variables.

The semantics of requests and curl: ``https_proxy`` for ``https://``
targets, ``http_proxy`` for ``http://``, ``all_proxy`` for both; ``NO_PROXY``
entries separated by commas, each a host name matched on a domain boundary
(``example.com`` and ``.example.com`` cover ``vault.example.com``, not
``badexample.com``), an optional ``:port``, an IPv4 or IPv6 address, a CIDR
range of either family, or ``*`` for everything.

Read from the provider's environment, never from ``os.environ`` (the HTTP
session does not trust the environment: ``trust_env`` is off).
"""

from __future__ import annotations

import ipaddress
import urllib.parse
from collections.abc import Mapping

from requests.utils import address_in_network, is_ipv4_address, is_valid_cidr


def proxy_for(url: str, environ: Mapping[str, str]) -> str | None:
    """The proxy URL for *url*, or ``None`` to connect directly.

    *environ* holds lower-case keys (``https_proxy``, ``no_proxy``...).
    """
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    proxy = environ.get(f"{scheme}_proxy") or environ.get("all_proxy")
    if not proxy:
        return None
    if bypasses(parts.hostname or "", parts.port, environ.get("no_proxy", "")):
        return None
    return proxy if "://" in proxy else "http://" + proxy


def bypasses(host: str, port: int | None, no_proxy: str) -> bool:
    """True when *no_proxy* exempts *host* (and *port*) from the proxy."""
    host = host.lower().rstrip(".")
    address = _ip(host)
    for raw in no_proxy.replace(" ", "").lower().split(","):
        entry = raw.strip()
        if not entry:
            continue
        if entry == "*":
            return True
        entry, entry_port = _split_port(entry)
        if entry_port is not None and entry_port != port:
            continue
        if address is not None:
            if _address_matches(address, host, entry):
                return True
            continue
        domain = entry.lstrip("*").lstrip(".")
        if domain and (host == domain or host.endswith("." + domain)):
            return True
    return False


def _address_matches(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, host: str, entry: str
) -> bool:
    if "/" in entry:
        if is_ipv4_address(host) and is_valid_cidr(entry):
            return bool(address_in_network(host, entry))  # requests' own CIDR test
        try:
            return address in ipaddress.ip_network(entry, strict=False)
        except ValueError:
            return False
    entry_address = _ip(entry)
    return entry_address is not None and entry_address == address


def _split_port(entry: str) -> tuple[str, int | None]:
    """``host:8200`` -> ("host", 8200); ``[::1]:8200`` -> ("::1", 8200); a
    bare IPv6 address keeps its colons."""
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        port = rest.removeprefix(":")
        return host, int(port) if port.isdigit() else None
    if entry.count(":") == 1:
        host, _, port = entry.partition(":")
        if port.isdigit():
            return host, int(port)
    return entry, None


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None
