"""Extraction: each reference's value out of its fetched document, checked
to be text that an environment variable can hold."""

from __future__ import annotations

import contextlib
import logging
import traceback
from collections.abc import Mapping

from envsecrets import values
from envsecrets.errors import DocumentError, EnvsecretsError, ProviderError
from envsecrets.provider import FetchResult
from envsecrets.results import Reference, SecretId

log = logging.getLogger(__name__)


def extract_all(
    references: Mapping[str, Reference], documents: Mapping[SecretId, FetchResult]
) -> dict[str, str | EnvsecretsError]:
    """Return the value, or the error, of each variable in *references*."""
    parsed: dict[SecretId, object] = {}  # each document parsed once
    outcomes: dict[str, str | EnvsecretsError] = {}
    for variable, reference in references.items():
        try:
            outcomes[variable] = _checked(_value(reference, documents, parsed))
        except EnvsecretsError as error:
            outcomes[variable] = error
        except RecursionError:
            outcomes[variable] = DocumentError("the secret is nested too deeply")
    return outcomes


def as_error(error: BaseException, prefix: str) -> EnvsecretsError:
    """Return *error* as the error of a reference to the ``_prefix`` provider."""
    if isinstance(error, EnvsecretsError):
        return error
    # A foreign exception's text may quote anything, a secret included:
    # keep its type only.
    log_provider_bug(error, prefix)
    return ProviderError(f"the _{prefix} provider failed ({type(error).__name__})")


def log_provider_bug(error: BaseException, prefix: str, doing: str = "") -> None:
    """Log where a provider's bug was raised, at DEBUG (``-vv``), once per
    error: its frames (source lines, never runtime values) and its type,
    without its message (a ``KeyError`` quotes its key, maybe a value).
    *doing* says what failed after "the _PREFIX provider failed" (``" to
    list 'app/'"``); fetching by default."""
    log_bug(error, f"the _{prefix} provider failed{doing}")


def log_bug(error: BaseException, what: str) -> None:
    """Log where a plugin's bug was raised, at DEBUG (``-vv``), once per
    error, after *what* (``the _x provider failed``): its frames (source
    lines, never runtime values) and its type, never its message."""
    if not log.isEnabledFor(logging.DEBUG) or getattr(error, "_envsecrets_logged", False):
        return
    frames = "".join(traceback.format_tb(error.__traceback__))
    log.debug(
        "%s (%s); its message is withheld, it may quote a value:\n"
        "Traceback (most recent call last):\n%s%s",
        what,
        type(error).__name__,
        frames,
        type(error).__name__,
    )
    with contextlib.suppress(AttributeError):  # an exception without a __dict__
        error._envsecrets_logged = True  # type: ignore[attr-defined]


def _value(
    reference: Reference,
    documents: Mapping[SecretId, FetchResult],
    parsed: dict[SecretId, object],
) -> str:
    secret_id = reference.secret_id
    key = reference.key
    if key is not None:
        # The hot path: a key of a document already parsed for an
        # earlier reference to the same secret.
        obj = parsed.get(secret_id)
        if obj is not None and not isinstance(obj, EnvsecretsError):
            return values.render(values.lookup(obj, key))  # type: ignore[arg-type]
    document = documents[secret_id]
    if isinstance(document, BaseException):
        raise as_error(document, reference.prefix)
    if key is None:
        if isinstance(document, str):
            return document
        return values.render(document)
    if secret_id not in parsed:
        try:
            parsed[secret_id] = values.as_object(document)
        except EnvsecretsError as error:
            parsed[secret_id] = error
    obj = parsed[secret_id]
    if isinstance(obj, EnvsecretsError):
        raise obj
    assert isinstance(obj, Mapping)
    return values.render(values.lookup(obj, key))


def _checked(value: str) -> str:
    """Return *value* if a process can receive it as a variable."""
    if "\x00" in value:
        raise DocumentError("the value holds a NUL character, which no environment variable can")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            # A JSON escape such as "\ud800": no process can receive it,
            # and printing it would crash.
            raise DocumentError(
                "the value holds a lone UTF-16 surrogate (a \\uD800-\\uDFFF escape), "
                "which is not text"
            ) from None
    return value
