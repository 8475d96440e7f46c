"""From a reference NAME to the Vault API path it reads.

KV v1: ``PATH`` reads ``/v1/PATH``.

KV v2 (the rules decide alone: no mount probing per read):

- ``app`` (no ``/``) reads the default mount: ``/v1/secret/data/app``;
- ``custom/data/app``, ``team/kv/data/app`` (``data`` is a segment after
  the first) is the API path as written, the form the original agent needs;
- ``kv/app/db`` (anything else) takes the first segment as the mount:
  ``/v1/kv/data/app/db``.

``?version=N`` at the end of a KV v2 NAME pins version N.
"""

from __future__ import annotations

import functools
import urllib.parse
from dataclasses import dataclass, field

from envsecrets import ReferenceSyntaxError

#: The mount of a KV v2 NAME without ``/``, as in the original agent.
DEFAULT_KV2_MOUNT = "secret"

_VERSION_MARK = "?version="


@dataclass(frozen=True)
class ApiPath:
    """What one reference NAME reads: an API path and maybe a KV v2 version."""

    #: Path below ``/v1/``, without a leading slash (``kv/data/app``).
    path: str
    #: The pinned KV v2 version, or ``None`` for the latest.
    version: int | None = None
    #: The mount and the secret's path in it, for hvac's KV methods; ``None``
    #: for a path read as written (the verbatim KV v2 form, a one-segment
    #: KV v1 path).
    # Not compared: two NAMEs of one API path share one read.
    mount: str | None = field(default=None, compare=False)
    secret: str | None = field(default=None, compare=False)
    #: The KV engine version read through hvac's methods: 1 or 2.
    engine: int = field(default=2, compare=False)

    # Cached: an ApiPath is made once per NAME (see kv2_path) and read on
    # every fetch of it.
    @functools.cached_property
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


# Both are pure (an ApiPath is frozen) and run once per reference at split
# and again per fetch: cached, a repeated NAME costs a lookup. Errors are
# not cached (they are raised again).
@functools.lru_cache(maxsize=4096)
def kv1_path(name: str) -> ApiPath:
    """Map a ``_vaultkv1`` NAME to its API path.

    :raise ReferenceSyntaxError: for an empty path, ``.``/``..`` or ``?version=``.
    """
    if _VERSION_MARK in name:
        raise ReferenceSyntaxError("KV v1 secrets have no versions: ?version= is for _vaultkv2")
    path = _clean(name)
    mount, slash, secret = path.partition("/")
    return ApiPath(path, None, mount, secret, 1) if slash else ApiPath(path, engine=1)


@functools.lru_cache(maxsize=4096)
def kv2_path(name: str) -> ApiPath:
    """Map a ``_vaultkv2`` NAME to its API path and version.

    :raise ReferenceSyntaxError: for an empty path, ``.``/``..`` segments or
        a version that is not a positive integer.
    """
    path, mark, raw_version = name.partition(_VERSION_MARK)
    version = _version(raw_version) if mark else None
    path = _clean(path)
    segments = path.split("/")
    if len(segments) == 1:
        return ApiPath(f"{DEFAULT_KV2_MOUNT}/data/{path}", version, DEFAULT_KV2_MOUNT, path)
    if "data" in segments[1:]:
        return ApiPath(path, version)
    secret = "/".join(segments[1:])
    return ApiPath(f"{segments[0]}/data/{secret}", version, segments[0], secret)


@dataclass(frozen=True)
class ListPath:
    """What a name prefix lists: a folder LISTed, and how its entries become NAMEs."""

    #: The API path LISTed, below ``/v1/``, ending with ``/`` (``kv/metadata/app/``).
    path: str
    #: Put before each listed key to make a NAME usable in a reference.
    name_prefix: str
    #: Only keys starting with this are kept (the part after the last ``/``).
    start: str


def kv2_list_path(prefix: str) -> ListPath | None:
    """The KV v2 folder a name *prefix* lists, by the rules of :func:`kv2_path`.

    ``None`` for a prefix without ``/`` (the root of the default mount,
    whose folders are named ``secret/...``: see the provider).
    """
    prefix = prefix.removeprefix("/")
    if "/" not in prefix:
        return None
    folder, _, start = prefix.rpartition("/")
    _check_folder(folder)
    segments = folder.split("/")
    if "data" in segments[1:]:
        at = segments.index("data", 1)
        metadata = "/".join([*segments[:at], "metadata", *segments[at + 1 :]])
        return ListPath(metadata + "/", folder + "/", start)
    rest = "/".join(segments[1:])
    listed = f"{segments[0]}/metadata/{rest + '/' if rest else ''}"
    return ListPath(listed, folder + "/", start)


def kv1_list_path(prefix: str) -> ListPath | None:
    """The KV v1 folder a name *prefix* lists; ``None`` without ``/`` (mounts)."""
    prefix = prefix.removeprefix("/")
    if "/" not in prefix:
        return None
    folder, _, start = prefix.rpartition("/")
    _check_folder(folder)
    return ListPath(folder + "/", folder + "/", start)


def _check_folder(folder: str) -> None:
    if any(segment in ("", ".", "..") for segment in folder.split("/")):
        raise ReferenceSyntaxError("the Vault path has an empty, '.' or '..' segment")


def _clean(path: str) -> str:
    # The original agent trims one leading slash; trailing ones name nothing.
    path = path.removeprefix("/").rstrip("/")
    if not path:
        raise ReferenceSyntaxError("the Vault path is empty")
    segments = path.split("/")
    if any(segment in ("", ".", "..") for segment in segments):
        raise ReferenceSyntaxError("the Vault path has an empty, '.' or '..' segment")
    return path


def _version(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or text.startswith("0"):
        raise ReferenceSyntaxError("?version= needs a positive integer (?version=2)")
    return int(text)
