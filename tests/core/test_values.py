from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envsecrets import values
from envsecrets.errors import DocumentError, KeyNotFound

DOCUMENT = """{
  "string": "s3cr3t", "int": 5432, "big": 1000000, "decimal": 1.50, "exp": 1e6,
  "neg": -0.0, "yes": true, "no": false, "null": null,
  "object": {"a": [1, 2.50, "x"], "b": {"c": null}}, "array": [1, {"k": "v"}],
  "/literal": "slash-key", "a/b": "escaped", "m~n": "tilde", "unicode": "h\u00e9llo \\u263a",
  "empty": ""
}"""


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("string", "s3cr3t"),
        ("int", "5432"),
        ("big", "1000000"),
        ("decimal", "1.50"),
        ("exp", "1e6"),
        ("neg", "-0.0"),
        ("yes", "true"),
        ("no", "false"),
        ("null", ""),
        ("empty", ""),
        ("object", '{"a":[1,2.50,"x"],"b":{"c":null}}'),
        ("array", '[1,{"k":"v"}]'),
        ("unicode", "h\u00e9llo \u263a"),
        ("/literal", "slash-key"),
        ("/object/a/1", "2.50"),
        ("/object/b", '{"c":null}'),
        ("/array/1/k", "v"),
        ("/a~1b", "escaped"),
        ("/m~0n", "tilde"),
    ],
)
def test_rendering_follows_the_design_table(key: str, expected: str) -> None:
    document = values.as_object(DOCUMENT)
    assert values.render(values.lookup(document, key)) == expected


@pytest.mark.parametrize(
    "key", ["missing", "/missing", "/array/2", "/array/01", "/array/-1", "/int/x"]
)
def test_missing_keys_raise_key_not_found(key: str) -> None:
    with pytest.raises(KeyNotFound, match="no key"):
        values.lookup(values.as_object(DOCUMENT), key)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('"SENTINEL-doc"', "a JSON string"),
        ("[1, 2]", "a JSON array"),
        ("42", "a JSON number"),
        ("true", "a JSON boolean"),
        ("null", "JSON null"),
    ],
)
def test_documents_that_are_not_objects_are_refused_without_quoting(text: str, reason: str) -> None:
    with pytest.raises(DocumentError, match=reason) as info:
        values.as_object(text)
    assert "SENTINEL" not in str(info.value)


@pytest.mark.parametrize(
    "text",
    [
        "SENTINEL-not-json",
        '{"a": SENTINEL}',
        '{"a": NaN}',
        '{"a": Infinity}',
        '{"a": -Infinity}',
        '{"a": 1, "a": 2}',
        '{"a": "SENTINEL"',
    ],
)
def test_invalid_json_is_refused_without_quoting(text: str) -> None:
    with pytest.raises(DocumentError, match="not valid JSON") as info:
        values.as_object(text)
    assert "SENTINEL" not in str(info.value)


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    with pytest.raises(DocumentError):
        values.as_object("[" * 100_000 + "]" * 100_000)


def test_parsed_mappings_render_python_numbers() -> None:
    # Providers such as Vault hand over already parsed data.
    document = {"port": 5432, "ratio": 1.5, "flag": True, "nested": {"x": [1, None]}}
    assert values.render(document["port"]) == "5432"
    assert values.render(document["ratio"]) == "1.5"
    assert values.render(document["flag"]) == "true"
    assert (
        values.render(document) == '{"port":5432,"ratio":1.5,"flag":true,"nested":{"x":[1,null]}}'
    )


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@given(json_values)
def test_compact_rendering_is_json_equal_to_the_document(value: object) -> None:
    text = json.dumps({"k": value})
    rendered = values.render(values.lookup(values.as_object(text), "k"))
    if isinstance(value, str):
        assert rendered == value
    elif value is None:
        assert rendered == ""
    elif isinstance(value, bool):
        assert rendered == json.dumps(value)
    else:
        assert json.loads(rendered) == value


@given(st.text())
def test_parsing_arbitrary_text_never_crashes(text: str) -> None:
    with contextlib.suppress(DocumentError):
        values.as_object(text)
