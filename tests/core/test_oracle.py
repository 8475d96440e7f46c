"""No error oracle (issue 19): what a failure says never depends on a fetched
value, and every string from outside is escaped for the terminal."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import envsecrets
from tests.conftest import SENTINEL, assert_no_sentinel
from tests.support.plugins import DictPlugin, make_dict_provider

#: The attack: thirty candidates in a key, next to a reference to the secret.
CANDIDATES = "|".join(str(number) for number in range(4800, 4830))


def resolver_for(*providers: type[envsecrets.Provider]) -> envsecrets.Resolver:
    return envsecrets.Resolver({}, plugins=[DictPlugin(*providers)], entry_points=False)


def failure_text(documents: dict[str, envsecrets.Document], env: dict[str, str]) -> str:
    """The whole error text of resolving *env* against *documents*."""
    with resolver_for(make_dict_provider(documents)) as resolver:
        with pytest.raises(envsecrets.ResolutionError) as info:
            resolver.resolve(env)
        checked = [str(result.error) for result in resolver.check(env, fetch=True)]
    return "\n".join([str(info.value), *checked])


def attack(secret: str) -> str:
    documents: dict[str, envsecrets.Document] = {"db": json.dumps({"pin": secret})}
    env = {
        "S": "_dict:db:pin",
        "G": f"_dict:db:{CANDIDATES}",  # a missing key: the core's message quotes it
        "N": f"_dict:{CANDIDATES}",  # a missing secret: the provider's message quotes it
    }
    return failure_text(documents, env)


def test_candidates_in_a_key_do_not_mark_the_secret() -> None:
    texts = {attack(str(number)) for number in (4800, 4817, 4829, 9999)}
    assert len(texts) == 1, texts
    (text,) = texts
    assert "***" not in text
    assert f"the secret has no key '{CANDIDATES}'" in text
    assert f"no document '{CANDIDATES}'" in text


@settings(max_examples=40, deadline=None)
@given(
    first=st.text(min_size=4, max_size=12).filter(lambda v: "\x00" not in v),
    second=st.text(min_size=4, max_size=12).filter(lambda v: "\x00" not in v),
    around=st.text(max_size=6),
)
def test_errors_are_byte_identical_whatever_the_secret_holds(
    first: str, second: str, around: str
) -> None:
    # The role quotes both values in a missing key and a missing name: the
    # messages must not change when the secret is one or the other.
    key = f"{around}{first}{around}{second}".replace(":", "")
    name = f"x{first}{second}".replace(":", "")

    def text(secret: str) -> str:
        documents: dict[str, envsecrets.Document] = {"db": json.dumps({"pin": secret})}
        env = {"S": "_dict:db:pin", "G": f"_dict:db:{key}", "N": f"_dict:{name}:k"}
        return failure_text(documents, env)

    assert text(first) == text(second)


def test_a_leaky_provider_is_withheld_whole_and_whatever_the_role_wrote() -> None:
    class Leaky(envsecrets.Provider):
        prefix = "leaky"

        def fetch(self, name: str) -> envsecrets.Document:
            if name == "good":
                return SENTINEL
            raise envsecrets.ProviderError(f"refused {name}: stored {SENTINEL}")

    with resolver_for(Leaky) as resolver, pytest.raises(envsecrets.ResolutionError) as info:
        resolver.resolve({"A": "_leaky:good", "B": f"_leaky:{SENTINEL}x"})
    message = str(info.value)
    assert_no_sentinel(message.replace(f"_leaky:{SENTINEL}x", ""))
    assert "the _leaky provider's message was withheld" in message
    assert "***" not in message


def test_a_provider_quoting_the_role_is_not_withheld_for_it() -> None:
    # The role's words in a provider message are set aside before the
    # search: a name holding the secret is echoed, not withheld.
    class Echo(envsecrets.Provider):
        prefix = "echo"

        def fetch(self, name: str) -> envsecrets.Document:
            if name == "good":
                return "4817"
            raise envsecrets.SecretNotFound(f"server: no secret at path {name!r} (404)")

    def text(good: str) -> str:
        env = {"A": good} if good else {}
        with resolver_for(Echo) as resolver, pytest.raises(envsecrets.ResolutionError) as info:
            resolver.resolve({**env, "B": f"_echo:{CANDIDATES}"})
        return info.value.failures[-1].describe()

    assert text("_echo:good") == text("")
    assert f"no secret at path '{CANDIDATES}' (404)" in text("_echo:good")


ESC = "\x1b[2J\x1b]0;owned\x07\x9b1m\x7f"


def test_provider_text_and_variable_names_are_escaped() -> None:
    class Raw(envsecrets.Provider):
        prefix = "raw"

        def fetch(self, name: str) -> envsecrets.Document:
            raise envsecrets.ProviderError(f"server said: {name} \x1b[31mdenied\u202e")

    env = {f"V{ESC}": f"_raw:p{ESC}"}
    with resolver_for(Raw) as resolver:
        with pytest.raises(envsecrets.ResolutionError) as info:
            resolver.resolve(env)
        texts = [str(info.value), *(str(r.error) for r in resolver.check(env, fetch=True))]
    for text in texts:
        assert not set(text) & set("\x1b\x9b\x7f\x07\u202e"), text
    assert "\\x1b[31mdenied\\u202e" in texts[0]
    assert "V\\x1b[2J\\x1b]0;owned\\x07\\x9b1m\\x7f=_raw:p\\x1b[2J" in texts[0]


def test_errors_found_without_fetching_are_escaped_too() -> None:
    class Picky(envsecrets.Provider):
        prefix = "picky"

        @classmethod
        def split(cls, rest: str) -> tuple[str, str | None]:
            raise envsecrets.ReferenceSyntaxError(f"bad name {rest}")

        def fetch(self, name: str) -> envsecrets.Document:
            raise AssertionError("never fetched")

    with resolver_for(Picky) as resolver:
        (result,) = resolver.check({"V": f"_picky:{ESC}"})
    assert str(result.error) == "bad name \\x1b[2J\\x1b]0;owned\\x07\\x9b1m\\x7f"
