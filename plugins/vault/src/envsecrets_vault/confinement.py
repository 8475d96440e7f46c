"""Confinement: a reference reads and lists KV secrets only, never the agent's own token, cubbyhole
or identity. Vault's own roots, and paths with empty, ``.`` or ``..`` segments, are refused at parse
time, before any request."""

from __future__ import annotations


from envsecrets import ReferenceSyntaxError

#: First segments never read: Vault's own identity, configuration and private storage.
DENIED_ROOTS = ("auth", "sys", "cubbyhole", "identity", "token")


def not_kv(path: str, engine: int, why: str) -> str:
    return f"the Vault path {path} is not in a KV v{engine} mount ({why})"


def check_root(path: str, engine: int) -> None:
    """:raise ReferenceSyntaxError: if *path* starts with one of Vault's own roots."""
    root = path.partition("/")[0]
    if root in DENIED_ROOTS:
        roots = ", ".join(f"{name}/" for name in DENIED_ROOTS)
        raise ReferenceSyntaxError(not_kv(path, engine, f"{roots} are never read"))
