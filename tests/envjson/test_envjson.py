from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest

import envsecrets
from envsecrets_envjson import EnvJSONProvider
from tests.conftest import SENTINEL, assert_no_sentinel

CONFIG = json.dumps(
    {"PG_PORT": 5432, "PASSWORD": SENTINEL, "a:b": "colon", "nested": {"x": [1, 2]}}
).replace("5432", "5432")


def resolve(env: dict[str, str]) -> dict[str, str]:
    return envsecrets.resolve_env(env)


def test_the_plugin_is_found_through_its_entry_point() -> None:
    with envsecrets.Resolver({}) as resolver:
        info = resolver.registry.get("envjson")
    assert info.provider_class is EnvJSONProvider
    assert info.distribution == "envsecrets-envjson"


def test_keys_are_read_from_the_json_in_the_variable() -> None:
    env = {
        "ENV_CONFIG": CONFIG,
        "PORT": "_envjson:ENV_CONFIG:PG_PORT",
        "PASS": "_envjson:ENV_CONFIG:PASSWORD",
        "COLON": "_envjson:ENV_CONFIG:a:b",
        "NESTED": "_envjson:ENV_CONFIG:nested",
        "POINTER": "_envjson:ENV_CONFIG:/nested/x/1",
    }
    result = envsecrets.resolve_env(env)
    assert result["PORT"] == "5432"
    assert result["PASS"] == SENTINEL
    assert result["COLON"] == "colon"
    assert result["NESTED"] == '{"x":[1,2]}'
    assert result["POINTER"] == "2"
    assert result["ENV_CONFIG"] == CONFIG


def test_numbers_keep_their_text() -> None:
    env = {
        "C": '{"r": 1.50, "m": 1000000, "e": 1e6}',
        "R": "_envjson:C:r",
        "M": "_envjson:C:m",
        "E": "_envjson:C:e",
    }
    assert envsecrets.resolve_env(env) == {**env, "R": "1.50", "M": "1000000", "E": "1e6"}


def test_the_agent_environment_is_read_when_the_variable_is_not_in_the_mapping() -> None:
    resolver = envsecrets.Resolver({"CFG": CONFIG})
    assert resolver.resolve({"P": "_envjson:CFG:PG_PORT"}) == {"P": "5432"}


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        ({"A": "_envjson:UNSET:key"}, "environment variable UNSET is not set"),
        ({"E": "  ", "A": "_envjson:E:key"}, "environment variable E is empty"),
        ({"E": "{" + SENTINEL, "A": "_envjson:E:key"}, "the secret is not valid JSON"),
        (
            {"E": json.dumps([SENTINEL]), "A": "_envjson:E:key"},
            "the secret is a JSON array, not a JSON object",
        ),
        (
            {"E": json.dumps(SENTINEL), "A": "_envjson:E:key"},
            "the secret is a JSON string, not a JSON object",
        ),
        ({"E": CONFIG, "A": "_envjson:E:missing"}, "the secret has no key 'missing'"),
        ({"E": CONFIG, "A": "_envjson:E"}, "needs a key"),
        ({"E": CONFIG, "A": "_envjson:E:"}, "needs a key"),
        ({"E": CONFIG, "A": "_envjson::key"}, "variable name before the key is empty"),
        ({"E": "_aws:x:y", "A": "_envjson:E:key"}, "is itself a reference"),
    ],
)
def test_errors_name_the_variable_and_never_a_value(
    env: dict[str, str], reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(envsecrets.ResolutionError) as info:
        resolve(env)
    message = str(info.value)
    assert f"A={env['A']}: " in message
    assert reason in message
    assert_no_sentinel(message, repr(info.value.failures), caplog.text)


def test_importing_the_plugin_stays_light() -> None:
    code = (
        "import envsecrets_envjson, sys; "
        "print(sorted(m for m in ('boto3', 'hvac', 'requests') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
