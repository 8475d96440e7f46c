"""envsecrets provider for ``_envjson:VAR:KEY``: KEY of the JSON object in
environment variable VAR of the agent (or of the env file being resolved)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

import envsecrets

__all__ = ["EnvJSONProvider", "envsecrets_providers"]


class EnvJSONProvider(envsecrets.Provider):
    """Reads a JSON object held in an environment variable; needs no server."""

    prefix = "envjson"
    description = "JSON object held in an environment variable (_envjson:VAR:KEY)."
    name_hint = "ENV_CONFIG"
    key_hint = "PG_PORT"

    @classmethod
    def split(cls, rest: str) -> tuple[str, str | None]:
        # VAR never holds a colon, so KEY may: split at the first one.
        variable, colon, key = rest.partition(":")
        if not colon or not key:
            raise envsecrets.ReferenceSyntaxError(
                "an _envjson reference needs a key: _envjson:VAR:KEY"
            )
        if not variable:
            raise envsecrets.ReferenceSyntaxError("the variable name before the key is empty")
        return variable, key

    def fetch(self, name: str) -> envsecrets.Document:
        # A document is data, not a setting: env files may hold it too.
        document = self.variables.get(name)
        if document is None:
            raise envsecrets.SecretNotFound(f"environment variable {name} is not set")
        if not document.strip():
            raise envsecrets.SecretNotFound(f"environment variable {name} is empty")
        if envsecrets.is_reference(document):
            raise envsecrets.DocumentError(
                f"environment variable {name} is itself a reference, not JSON"
            )
        # The core parses the JSON (keeping number text) and reports errors.
        return document

    def list_names(self, prefix: str) -> Iterator[str]:
        """The variables starting with *prefix* whose value is a JSON object."""
        for name, value in self.variables.items():
            if name.startswith(prefix) and _holds_object(value):
                yield name


def _holds_object(value: str) -> bool:
    if not value.lstrip().startswith("{"):  # most variables: no parse at all
        return False
    try:
        return isinstance(json.loads(value), dict)
    except (ValueError, RecursionError):
        return False


@envsecrets.hookimpl
def envsecrets_providers() -> Sequence[type[envsecrets.Provider]]:
    """Register the ``_envjson`` provider."""
    return [EnvJSONProvider]
