"""From a reference NAME to the mount and secret path hvac's KV methods read (no server asked).

KV v1: ``mount/path`` reads ``/v1/mount/path``. KV v2: ``app`` (no ``/``) reads the default mount
(``/v1/secret/data/app``); a NAME with ``data`` as a segment after the first is the API path as
written (``team/kv/data/app``: the original agent's form, the mount before ``data``); otherwise the
first segment is the mount (``kv/app/db`` reads ``/v1/kv/data/app/db``). ``?version=N`` pins a
KV v2 version.
"""

from __future__ import annotations

import functools
import urllib.parse
from dataclasses import dataclass, field

from envsecrets import ReferenceSyntaxError

#: The mount of a KV v2 NAME without ``/``, as in the original agent.
DEFAULT_KV2_MOUNT = "secret"

_VERSION_MARK = "?version="
#: Confinement: first segments never read (Vault's own identity, configuration, private storage).
DENIED_ROOTS = ("auth", "sys", "cubbyhole", "identity", "token")
_NEVER_READ = ", ".join(f"{root}/" for root in DENIED_ROOTS) + " are never read"


@dataclass(frozen=True)
class ApiPath:
    """What one reference NAME reads: an API path and maybe a KV v2 version."""

    path: str  # below /v1/: kv/data/app
    version: int | None = None  # a pinned KV v2 version
    # For hvac's KV methods; not compared (two NAMEs of one path are one read).
    mount: str = field(default="", compare=False)
    secret: str = field(default="", compare=False)
    engine: int = field(default=2, compare=False)  # KV version

    @property
    def name(self) -> str:
        """The shortest NAME that reads this path: NAMEs that name one API path (``app``,
        ``secret/app``, ``secret/data/app``) are one NAME, so that the core fetches it once per
        resolution."""
        if self.engine == 1:
            name = self.path
        elif self.mount == DEFAULT_KV2_MOUNT and "/" not in self.secret:
            name = self.secret
        elif "/" not in self.mount and "data" not in self.secret.split("/"):
            name = f"{self.mount}/{self.secret}"
        else:
            name = self.path
        return name if self.version is None else f"{name}{_VERSION_MARK}{self.version}"

    @property
    def url(self) -> str:
        """The request path, percent-encoded: ``/v1/kv/data/app``."""
        return "/v1/" + urllib.parse.quote(self.path, safe="/")

    @property
    def params(self) -> dict[str, str]:
        return {} if self.version is None else {"version": str(self.version)}

    def describe(self) -> str:
        """``/v1/kv/data/app`` or ``/v1/kv/data/app?version=2``, for messages."""
        suffix = "" if self.version is None else f"?version={self.version}"
        return f"/v1/{self.path}{suffix}"


@functools.lru_cache(maxsize=4096)
def kv1_path(name: str) -> ApiPath:
    """Map a ``_vaultkv1`` NAME to its API path. :raise ReferenceSyntaxError: if it has none."""
    if _VERSION_MARK in name:
        raise ReferenceSyntaxError("KV v1 secrets have no versions: ?version= is for _vaultkv2")
    path = _clean(name, 1)
    mount, _, secret = path.partition("/")
    if not secret:
        raise ReferenceSyntaxError("a KV v1 path names a mount and a secret in it (kv/app)")
    return ApiPath(path, None, mount, secret, 1)


@functools.lru_cache(maxsize=4096)
def kv2_path(name: str) -> ApiPath:
    """Map a ``_vaultkv2`` NAME to its API path. :raise ReferenceSyntaxError: if it has none."""
    path, mark, raw_version = name.partition(_VERSION_MARK)
    version = _version(raw_version) if mark else None
    segments = _clean(path, 2).split("/")
    if len(segments) == 1:
        mount, secret = DEFAULT_KV2_MOUNT, segments[0]
    elif "data" in segments[1:]:
        at = segments.index("data", 1)
        mount, secret = "/".join(segments[:at]), "/".join(segments[at + 1 :])
        if not secret:
            raise ReferenceSyntaxError("the Vault path names no secret after 'data/'")
    else:
        mount, secret = segments[0], "/".join(segments[1:])
    return ApiPath(f"{mount}/data/{secret}", version, mount, secret, 2)


@dataclass(frozen=True)
class ListPath:
    """What a name prefix lists: a folder of a mount, and how its entries become NAMEs."""

    mount: str
    folder: str  # in the mount: empty or ending with "/"
    name_prefix: str  # put before each listed key to make a NAME
    start: str  # only keys starting with this are kept

    def describe(self, engine: int) -> str:
        """``LIST /v1/kv/metadata/app/``, for messages."""
        middle = "metadata/" if engine == 2 else ""
        return f"LIST /v1/{self.mount}/{middle}{self.folder}"


def list_path(prefix: str, engine: int) -> ListPath | None:
    """The folder a *prefix* lists, by the read rules; ``None`` for the top level (no ``/``)."""
    prefix = prefix.removeprefix("/")
    if "/" not in prefix:
        return None
    folder, _, start = prefix.rpartition("/")
    api = (kv2_path if engine == 2 else kv1_path)(folder + "/_")  # the folder of a secret "_"
    inside = api.secret.rpartition("/")[0]
    return ListPath(api.mount, inside + "/" if inside else "", folder + "/", start)


def _clean(path: str, engine: int) -> str:
    # The original agent trims one leading slash; trailing ones name nothing.
    path = path.removeprefix("/").rstrip("/")
    if not path:
        raise ReferenceSyntaxError("the Vault path is empty")
    if any(segment in ("", ".", "..") for segment in path.split("/")):
        raise ReferenceSyntaxError(f"the Vault path {path} has an empty, '.' or '..' segment")
    root, slash, _ = path.partition("/")
    if slash and root in DENIED_ROOTS:  # a bare NAME is a secret of the default mount
        raise ReferenceSyntaxError(
            f"the Vault path {path} is not in a KV v{engine} mount ({_NEVER_READ})"
        )
    return path


def _version(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or text.startswith("0"):
        raise ReferenceSyntaxError("?version= needs a positive integer (?version=2)")
    return int(text)
