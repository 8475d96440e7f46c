"""The last pass over failure messages: escaped for the terminal, and never
shaped by a fetched value.

A message joins the role's own words (variable, reference, name, key: echoed
as written, escaped) with a provider's words. Masking a value inside the
role's words would answer "which of these candidates is the secret?" (the
oracle of issue 19), so nothing here transforms them. A provider promises
value-free messages (the contract kit checks it); should one break that
promise, its message is replaced whole by a fixed text, decided on the
provider's own words only, with every occurrence of the role's words set
aside first. Core-made messages (a missing key, a document that is not an
object) are built from the role's words and fixed text and are not searched.
See docs/security.md, "No error oracle".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from envsecrets.errors import EnvsecretsError, Failure, ProviderError, escaped
from envsecrets.provider import FetchResult
from envsecrets.results import Reference, SecretId

#: Shorter values are not searched for: "1" would withhold every message.
MIN_SEARCHED = 4


def withheld_text(prefix: str) -> str:
    """The fixed text that replaces a provider message quoting a fetched value."""
    return f"the _{prefix} provider's message was withheld: it quoted a fetched value (a bug)"


def finished(
    failures: list[Failure],
    documents: Mapping[SecretId, FetchResult],
    result: Mapping[str, str],
    references: Mapping[str, Reference],
) -> list[Failure]:
    """Return *failures* with every message escaped for the terminal, and a
    provider message that quotes a fetched value (outside the role's own
    words) replaced by :func:`withheld_text`."""
    secrets = {value for variable, value in result.items() if variable in references}
    secrets.update(doc for doc in documents.values() if isinstance(doc, str))
    ordered = sorted((s for s in secrets if len(s) >= MIN_SEARCHED), key=len, reverse=True)
    cleaned = []
    for failure in failures:
        reference = references.get(failure.variable)
        message = str(failure.error)
        text = message
        if (
            ordered
            and reference is not None
            and _from_provider(reference, documents)
            and _quotes_a_value(message, _role_words(failure, reference), ordered)
        ):
            text = withheld_text(reference.prefix)
        text = escaped(text)
        if text == message:
            cleaned.append(failure)
            continue
        try:
            error: EnvsecretsError = type(failure.error)(text)
        except Exception:  # an error class that takes other arguments
            error = ProviderError(text)
        cleaned.append(Failure(failure.variable, failure.reference, error))
    return cleaned


def _from_provider(reference: Reference, documents: Mapping[SecretId, FetchResult]) -> bool:
    """Whether the failure is the provider's (its fetch failed), not the core's."""
    return isinstance(documents.get(reference.secret_id), BaseException)


def _role_words(failure: Failure, reference: Reference) -> set[str]:
    """The strings the role wrote, as written and as messages quote them."""
    words = {failure.variable, failure.reference, reference.name}
    if reference.key is not None:
        words.add(reference.key)
    return {form for word in words if word for form in (word, escaped(word), repr(word))}


def _quotes_a_value(message: str, role_words: Iterable[str], secrets: list[str]) -> bool:
    """Whether a secret occurs in *message* outside the role's words: each
    piece between them is searched on its own, so the decision never
    depends on what the role wrote."""
    ordered = sorted(role_words, key=len, reverse=True)
    pieces = re.split("|".join(map(re.escape, ordered)), message) if ordered else [message]
    return any(secret in piece for piece in pieces for secret in secrets)
