"""End to end: references resolved against a real HTTP Secrets Manager (moto)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

import envsecrets
from envsecrets import DocumentError, KeyNotFound, ResolutionError

Make = Callable[..., envsecrets.Resolver]

DOCUMENT = (
    '{"user": "admin", "password": "pa:ss/w0rd", "port": 5432, "ratio": 1.50, "big": 1e6,'
    ' "on": true, "off": false, "none": null, "nested": {"a": [1, 2.50], "b": "x"},'
    ' "a/b": "slash", "db": {"host": "db.internal", "replicas": [{"host": "r0"}]}}'
)


def test_json_keys_and_rendering(
    sm: Any, environ: dict[str, str], make_resolver: Make, unique: Any
) -> None:
    name = unique("app/db")
    sm.create_secret(Name=name, SecretString=DOCUMENT)
    env = {
        "USER": f"_aws:{name}:user",
        "PASS": f"_aws:{name}:password",
        "PORT": f"_aws:{name}:port",
        "RATIO": f"_aws:{name}:ratio",
        "BIG": f"_aws:{name}:big",
        "ON": f"_aws:{name}:on",
        "OFF": f"_aws:{name}:off",
        "NONE": f"_aws:{name}:none",
        "NESTED": f"_aws:{name}:nested",
        "LITERAL_SLASH_KEY": f"_aws:{name}:a/b",
        "HOST": f"_aws:{name}:/db/host",
        "REPLICA": f"_aws:{name}:/db/replicas/0/host",
        "PLAIN": "untouched",
    }
    assert make_resolver(environ).resolve(env) == {
        "USER": "admin",
        "PASS": "pa:ss/w0rd",
        "PORT": "5432",
        "RATIO": "1.50",
        "BIG": "1e6",
        "ON": "true",
        "OFF": "false",
        "NONE": "",
        "NESTED": '{"a":[1,2.50],"b":"x"}',
        "LITERAL_SLASH_KEY": "slash",
        "HOST": "db.internal",
        "REPLICA": "r0",
        "PLAIN": "untouched",
    }


def test_literal_secret_is_the_whole_string(
    sm: Any, environ: dict[str, str], make_resolver: Make, unique: Any
) -> None:
    token, doc = unique("app/token"), unique("app/doc")
    sm.create_secret(Name=token, SecretString="  s3cr3t:with:colons  \n")
    sm.create_secret(Name=doc, SecretString='{"port": 5432}')
    result = make_resolver(environ).resolve({"T": f"_aws:{token}", "D": f"_aws:{doc}"})
    assert result == {"T": "  s3cr3t:with:colons  \n", "D": '{"port": 5432}'}


def test_names_with_every_allowed_character(
    sm: Any, environ: dict[str, str], make_resolver: Make, unique: Any
) -> None:
    name = unique("team/app+x=y.z@corp_1")
    sm.create_secret(Name=name, SecretString='{"k": "v"}')
    resolver = make_resolver(environ)
    assert resolver.get(f"_aws:{name}:k") == "v"
    assert resolver.get(f"_aws:{name}") == '{"k": "v"}'


def test_arn_with_and_without_key(
    sm: Any, environ: dict[str, str], make_resolver: Make, unique: Any
) -> None:
    name = unique("app/arn")
    arn = sm.create_secret(Name=name, SecretString='{"password": "p1"}')["ARN"]
    assert arn.count(":") == 6
    partial = arn.rsplit("-", 1)[0]
    env = {
        "WHOLE": f"_aws:{arn}",
        "KEY": f"_aws:{arn}:password",
        "POINTER": f"_aws:{arn}:/password",
        "PARTIAL": f"_aws:{partial}:password",
        "BY_NAME": f"_aws:{name}:password",
    }
    assert make_resolver(environ).resolve(env) == {
        "WHOLE": '{"password": "p1"}',
        "KEY": "p1",
        "POINTER": "p1",
        "PARTIAL": "p1",
        "BY_NAME": "p1",
    }


def test_version_stage_and_id(
    sm: Any, environ: dict[str, str], make_resolver: Make, unique: Any
) -> None:
    name = unique("app/rotated")
    first = sm.create_secret(Name=name, SecretString='{"password": "old"}')["VersionId"]
    sm.put_secret_value(SecretId=name, SecretString='{"password": "new"}')
    arn = sm.describe_secret(SecretId=name)["ARN"]
    env = {
        "CURRENT": f"_aws:{name}:password",
        "PREVIOUS": f"_aws:{name}?version_stage=AWSPREVIOUS:password",
        "BY_ID": f"_aws:{name}?version_id={first}:password",
        "ARN_PREVIOUS": f"_aws:{arn}?version_stage=AWSPREVIOUS:password",
        "WHOLE_PREVIOUS": f"_aws:{name}?version_stage=AWSPREVIOUS",
    }
    assert make_resolver(environ).resolve(env) == {
        "CURRENT": "new",
        "PREVIOUS": "old",
        "BY_ID": "old",
        "ARN_PREVIOUS": "old",
        "WHOLE_PREVIOUS": '{"password": "old"}',
    }


def test_binary_secret_read_as_utf8(
    sm: Any, environ: dict[str, str], make_resolver: Make, unique: Any
) -> None:
    text, doc = unique("bin/text"), unique("bin/json")
    sm.create_secret(Name=text, SecretBinary="héllo wörld".encode())
    sm.create_secret(Name=doc, SecretBinary=json.dumps({"port": 5432}).encode())
    resolver = make_resolver(environ)
    assert resolver.resolve({"T": f"_aws:{text}", "P": f"_aws:{doc}:port"}) == {
        "T": "héllo wörld",
        "P": "5432",
    }


def test_binary_secret_not_utf8(
    sm: Any, environ: dict[str, str], make_resolver: Make, unique: Any
) -> None:
    name = unique("bin/raw")
    raw = b"\xffSENTINEL-aws-binary\xfe"
    sm.create_secret(Name=name, SecretBinary=raw)
    with pytest.raises(ResolutionError) as caught:
        make_resolver(environ).resolve({"RAW": f"_aws:{name}"})
    (failure,) = caught.value.failures
    assert isinstance(failure.error, DocumentError)
    assert "not UTF-8" in str(failure.error)
    assert name in str(failure.error)
    assert "SENTINEL-aws-binary" not in str(caught.value)
    assert "\\xff" not in str(caught.value)


def test_key_on_a_literal_secret_is_an_error(
    sm: Any, environ: dict[str, str], make_resolver: Make, unique: Any, sentinel: str
) -> None:
    literal, array = unique("lit"), unique("arr")
    sm.create_secret(Name=literal, SecretString=sentinel)
    sm.create_secret(Name=array, SecretString=f'["{sentinel}"]')
    with pytest.raises(ResolutionError) as caught:
        make_resolver(environ).resolve({"A": f"_aws:{literal}:password", "B": f"_aws:{array}:x"})
    errors = {failure.variable: failure.error for failure in caught.value.failures}
    assert isinstance(errors["A"], DocumentError)
    assert "not valid JSON" in str(errors["A"])
    assert isinstance(errors["B"], DocumentError)
    assert "JSON array, not a JSON object" in str(errors["B"])
    assert sentinel not in str(caught.value)


def test_missing_key(
    sm: Any, environ: dict[str, str], make_resolver: Make, unique: Any, sentinel: str
) -> None:
    name = unique("app")
    sm.create_secret(Name=name, SecretString=json.dumps({"password": sentinel}))
    with pytest.raises(ResolutionError) as caught:
        make_resolver(environ).resolve({"U": f"_aws:{name}:user", "P": f"_aws:{name}:/no/such"})
    assert all(isinstance(f.error, KeyNotFound) for f in caught.value.failures)
    assert [f.variable for f in caught.value.failures] == ["U", "P"]
    assert sentinel not in str(caught.value)


def test_found_through_entry_points(sm: Any, environ: dict[str, str], unique: Any) -> None:
    name = unique("ep")
    sm.create_secret(Name=name, SecretString='{"k": "v"}')
    with envsecrets.Resolver(environ) as resolver:  # plugins from the installed entry points
        assert resolver.registry.get("aws").distribution == "envsecrets-aws"
        assert resolver.resolve({"K": f"_aws:{name}:k"}) == {"K": "v"}


def test_resolve_env_reads_settings_from_the_process_environment_only(
    sm: Any, environ: dict[str, str], unique: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = unique("renv")
    sm.create_secret(Name=name, SecretString='{"k": "v"}')
    env = {"K": f"_aws:{name}:k"}
    # Settings among the variables being resolved (an env file) are data,
    # never configuration: no region, no endpoint.
    with pytest.raises(envsecrets.ResolutionError, match="no AWS region"):
        envsecrets.resolve_env({**environ, **env})
    assert envsecrets.resolve_env(env, environ=environ) == {"K": "v"}
    for variable, value in environ.items():
        monkeypatch.setenv(variable, value)
    assert envsecrets.resolve_env(env)["K"] == "v"
