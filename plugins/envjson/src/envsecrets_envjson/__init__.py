"""envsecrets provider for ``_envjson:VAR:KEY``: KEY of the JSON object in
environment variable VAR of the agent (or of the env file being resolved)."""

from __future__ import annotations

from collections.abc import Sequence

import envsecrets

__all__ = ["EnvJSONProvider", "envsecrets_providers"]


class EnvJSONProvider(envsecrets.Provider):
    """Reads a JSON object held in an environment variable; needs no server."""

    prefix = "envjson"
    description = "JSON object held in an environment variable (_envjson:VAR:KEY)."

    def split(self, rest: str) -> tuple[str, str | None]:
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
        document = self.environ.get(name)
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


@envsecrets.hookimpl
def envsecrets_providers() -> Sequence[type[envsecrets.Provider]]:
    """Register the ``_envjson`` provider."""
    return [EnvJSONProvider]
