"""Confinement: a reference reads and lists KV secrets only, never the agent's own token, cubbyhole
or identity. Vault's own roots are refused at parse time; any other path is checked, before the
request, against the mount serving it (``GET /v1/sys/internal/ui/mounts/PATH``: its type and KV
version), one lookup per mount per client."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from envsecrets import ProviderError, ReferenceSyntaxError
from envsecrets.errors import AccessDenied

#: First segments never read: Vault's own identity, configuration and private storage.
DENIED_ROOTS = ("auth", "sys", "cubbyhole", "identity", "token")
#: The mount lookup (percent-encoded PATH appended).
LOOKUP = "/v1/sys/internal/ui/mounts/"


class NotInKVMount(ProviderError):
    """The path is served by a mount that is not KV of the prefix's version: nothing was read."""


def not_kv(path: str, engine: int, why: str) -> str:
    return f"the Vault path {path} is not in a KV v{engine} mount ({why})"


def check_root(path: str, engine: int) -> None:
    """:raise ReferenceSyntaxError: if *path* starts with one of Vault's own roots."""
    root = path.partition("/")[0]
    if root in DENIED_ROOTS:
        roots = ", ".join(f"{name}/" for name in DENIED_ROOTS)
        raise ReferenceSyntaxError(not_kv(path, engine, f"{roots} are never read"))


@dataclass(frozen=True)
class Mount:
    """A mount as the lookup answered: ``team/kv/``, its type and KV version."""

    path: str
    kind: str
    version: str

    def covers(self, path: str) -> bool:
        return (path + "/").startswith(self.path)


class MountTable:
    """The mounts looked up so far by one client (thread-safe; Vault forbids a mount inside
    another, so the mount covering a path is the one serving it)."""

    def __init__(self, lookup: Callable[[str], Mapping[str, object]]) -> None:
        self._lookup = lookup  # the answer of LOOKUP + path, or an error
        self._known: list[Mount] = []
        self._lock = threading.Lock()  # one lookup at a time: one per mount

    def check(self, path: str, engine: int) -> None:
        """:raise NotInKVMount: unless a KV mount of *engine* serves *path*;
        :raise AccessDenied: when the lookup is denied (fail closed)."""
        with self._lock:
            mount = next((known for known in self._known if known.covers(path)), None)
            if mount is None:
                mount = self._look_up(path, engine)
                if mount.path and mount.covers(path):  # else an odd answer: not reused
                    self._known.append(mount)
        if mount.kind not in ("kv", "generic"):
            raise NotInKVMount(not_kv(path, engine, f"{mount.path} is a {mount.kind} mount"))
        if mount.version != str(engine):
            use = f"use _vaultkv{mount.version}" if mount.version in ("1", "2") else "not KV"
            raise NotInKVMount(not_kv(path, engine, f"{mount.path} is KV v{mount.version}: {use}"))

    def _look_up(self, path: str, engine: int) -> Mount:
        try:
            body = self._lookup(path)
        except AccessDenied as error:
            allow = f'path "{path}" {{ capabilities = ["read"] }}'
            raise AccessDenied(
                f"the mount of the Vault path {path} cannot be looked up, so nothing was read (no "
                f"KV v{engine} mount known): no mount serves it, or the token has no capability "
                f"on it ({allow}): {error}"
            ) from None
        data = body.get("data")
        info = data if isinstance(data, Mapping) else {}
        options = info.get("options")
        version = options.get("version", "1") if isinstance(options, Mapping) else "1"
        return Mount(str(info.get("path", "")), str(info.get("type", "")), str(version))
