"""Secret documents: parsing JSON, finding a key, rendering a value as text.

Numbers keep the exact text they had in the document (``1.50`` stays
``1.50``), which :func:`json.loads` alone would lose.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from envsecrets.errors import DocumentError, KeyNotFound


class JSONNumber(str):
    """A JSON number, kept as the text it was written with."""

    __slots__ = ()


def _reject_constant(text: str) -> object:
    raise ValueError(f"{text} is not a JSON number")


def _unique_object(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"duplicate key {key!r}")
            seen.add(key)
    return result


_DECODER = json.JSONDecoder(
    parse_float=JSONNumber,
    parse_int=JSONNumber,
    parse_constant=_reject_constant,
    object_pairs_hook=_unique_object,
)


def parse_json(text: str) -> object:
    """Parse JSON text, keeping number text; reject NaN, Infinity and duplicate keys.

    :raise DocumentError: with a message that never quotes the text.
    """
    try:
        return _DECODER.decode(text)
    except RecursionError:
        raise DocumentError("the secret is nested too deeply to parse") from None
    except ValueError as error:
        # JSONDecodeError messages hold positions only, never document text;
        # our own ValueErrors name a key at most.
        if isinstance(error, json.JSONDecodeError):
            reason = f"{error.msg} at line {error.lineno} column {error.colno}"
        else:
            reason = str(error)
        raise DocumentError(f"the secret is not valid JSON ({reason})") from None


def as_object(document: object) -> Mapping[str, object]:
    """Return *document* as a JSON object, parsing it if it is text.

    :raise DocumentError: when it is not a JSON object.
    """
    if isinstance(document, str) and not isinstance(document, JSONNumber):
        document = parse_json(document)
    if not isinstance(document, Mapping):
        raise DocumentError(
            f"a key was asked for but the secret is {_kind(document)}, not a JSON object"
        )
    return document


def lookup(document: Mapping[str, object], key: str) -> object:
    """Return *key* of *document*: the literal key first, else a JSON Pointer.

    :raise KeyNotFound: naming the key, never a value.
    """
    if key in document:
        return document[key]
    if key.startswith("/"):
        return _resolve_pointer(document, key)
    raise KeyNotFound(f"the secret has no key {key!r}")


def _resolve_pointer(document: object, pointer: str) -> object:
    # RFC 6901: "/"-separated tokens, "~1" means "/" and "~0" means "~".
    current = document
    for escaped in pointer[1:].split("/"):
        token = escaped.replace("~1", "/").replace("~0", "~")
        if isinstance(current, Mapping) and token in current:
            current = current[token]
        elif (
            isinstance(current, Sequence)
            and not isinstance(current, str)
            and token.isascii()  # "²".isdigit() is true, int("²") fails
            and token.isdigit()
            and not (len(token) > 1 and token.startswith("0"))  # RFC 6901: no leading zeros
            and int(token) < len(current)
        ):
            current = current[int(token)]
        else:
            raise KeyNotFound(f"the secret has no key {pointer!r} (read as a JSON Pointer)")
    return current


def render(value: object) -> str:
    """Render a JSON value as an environment string (see DESIGN: Values)."""
    if isinstance(value, str):  # JSONNumber included: its text as written
        return str.__str__(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    if isinstance(value, (int, float)):  # parsed elsewhere (hvac): no text kept
        return json.dumps(value)
    return _compact(value)


def _compact(value: object) -> str:
    if isinstance(value, JSONNumber):
        return str.__str__(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        items = (f"{_compact(str(k))}:{_compact(v)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_compact(item) for item in value) + "]"
    if value is None or isinstance(value, (bool, int, float)):
        return json.dumps(value)
    raise DocumentError(f"the secret holds a {type(value).__name__}, which is not JSON")


def json_type(value: object) -> str:
    """The JSON type name of a parsed value: string, number, boolean, null,
    object or array (what discovery shows instead of the value)."""
    if isinstance(value, JSONNumber) or (
        isinstance(value, (int, float)) and not isinstance(value, bool)
    ):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return "object"
    return "array"


def _kind(document: object) -> str:
    if isinstance(document, JSONNumber):
        return "a JSON number"
    if isinstance(document, str):
        return "a JSON string"
    if isinstance(document, bool):
        return "a JSON boolean"
    if document is None:
        return "JSON null"
    if isinstance(document, (list, tuple)):
        return "a JSON array"
    return f"a {type(document).__name__}"
