"""Hostile input: property-based and corpus tests over references, env files
and secret documents.

Every input gives either the right value or a clear envsecrets error;
nothing crashes. Through the command line: no "Traceback" in stderr and an
exit code from the documented set.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import envsecrets
import envsecrets_aws
import envsecrets_envjson
import envsecrets_vault
from envsecrets.envfiles import read_env_files
from tests.conftest import SENTINEL, assert_no_sentinel
from tests.faults.conftest import Servers, aws_environ, run_cli
from testservers.openbao import token_env

EXIT_CODES = {0, 1, 2, 126, 127}
MIB = 1024 * 1024

# derandomize: the same examples on every run (a deterministic suite); the
# corpus below holds the inputs known to be hostile.
FAST = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


def resolver(environ: dict[str, str], *plugins: object) -> envsecrets.Resolver:
    return envsecrets.Resolver(
        environ, plugins=plugins or (envsecrets_envjson,), entry_points=False, timeout=30
    )


#: One long-lived resolver for the library tests; envjson reads this mapping
#: at fetch time, so each example sets its documents here.
_ENVIRON: dict[str, str] = {}
_RESOLVER: list[envsecrets.Resolver] = []


def outcome(
    environ: dict[str, str], env: dict[str, str]
) -> dict[str, str] | envsecrets.EnvsecretsError:
    """The resolution of *env*, or the envsecrets error it raised (anything
    else fails the test)."""
    if not _RESOLVER:
        _RESOLVER.append(resolver(_ENVIRON))
    _ENVIRON.clear()
    _ENVIRON.update(environ)
    try:
        return _RESOLVER[0].resolve(env)
    except envsecrets.EnvsecretsError as error:
        return error


# Text with everything: control characters, colons, slashes, unicode,
# surrogates as os.environ holds bytes that are not UTF-8.
hostile_text = st.text(
    st.characters(codec=None, exclude_characters="\x00") | st.sampled_from(":/_~\n\r\t\x7f"),
    max_size=60,
)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(exclude_categories=["Cs"]), max_size=30)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@FAST
@given(value=hostile_text)
def test_any_value_passes_through_or_fails_with_an_envsecrets_error(value: str) -> None:
    result = outcome({"CFG": '{"k": "v"}'}, {"X": value, "CFG": '{"k": "v"}'})
    if envsecrets.is_reference(value):
        if isinstance(result, dict):
            assert value.startswith("_envjson:")
    else:
        assert result == {"X": value, "CFG": '{"k": "v"}'}


@FAST
@given(prefix=st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True), rest=hostile_text)
def test_references_with_any_prefix_and_rest_never_crash(prefix: str, rest: str) -> None:
    result = outcome({}, {"X": f"_{prefix}:{rest}"})
    if not envsecrets.is_reference(f"_{prefix}:{rest}"):
        assert result == {"X": f"_{prefix}:{rest}"}  # "_a:" has no rest: a plain value
    elif isinstance(result, dict):
        assert prefix == "envjson"
    else:
        assert isinstance(result, envsecrets.ResolutionError)
        assert [failure.variable for failure in result.failures] == ["X"]


@FAST
@given(
    document=st.dictionaries(st.text(min_size=1, max_size=20), json_values, min_size=1, max_size=8)
)
def test_every_key_of_any_document_renders_per_the_design(document: dict[str, Any]) -> None:
    text = json.dumps(document)
    env = {f"V{index}": f"_envjson:DOC:{key}" for index, key in enumerate(document)}
    result = outcome({"DOC": text}, {**env, "DOC": text})
    for index, value in enumerate(document.values()):
        variable = f"V{index}"
        if isinstance(result, envsecrets.ResolutionError):
            failed = {failure.variable: failure.error for failure in result.failures}
            if variable in failed:
                # Only values no environment can hold fail: NUL characters.
                assert "\x00" in json.dumps(value, ensure_ascii=False) or "\\u0000" in json.dumps(
                    value
                )
                assert isinstance(failed[variable], envsecrets.DocumentError)
            continue
        rendered = result[variable]
        if isinstance(value, str):
            assert rendered == value
        elif value is None:
            assert rendered == ""
        else:
            assert json.loads(rendered) == value


@FAST
@given(document=st.text(max_size=200), key=st.text(min_size=1, max_size=20))
def test_any_document_text_gives_a_value_or_a_document_error(document: str, key: str) -> None:
    result = outcome({"DOC": document}, {"X": f"_envjson:DOC:{key}"})
    if isinstance(result, envsecrets.ResolutionError):
        (failure,) = result.failures
        assert isinstance(
            failure.error, (envsecrets.ProviderError, envsecrets.ReferenceSyntaxError)
        )


@FAST
@given(lines=st.lists(hostile_text, max_size=12))
def test_env_files_of_any_content_read_or_fail_clearly(
    tmp_path_factory: Any, lines: list[str]
) -> None:
    path = tmp_path_factory.mktemp("env") / "hostile.env"
    # surrogatepass: lone surrogates become bytes that are not valid UTF-8.
    path.write_bytes("\n".join(lines).encode("utf-8", "surrogatepass"))
    try:
        variables = read_env_files([path])
    except envsecrets.EnvsecretsError as error:
        assert str(path) in str(error)  # noqa: PT017 (the error is the expected outcome)
        return
    result = outcome({}, variables)
    assert isinstance(result, (dict, envsecrets.ResolutionError))


# -- a corpus of known-hostile documents -------------------------------------

CORPUS: list[tuple[str, str, str, Callable[[str | envsecrets.EnvsecretsError], bool]]] = [
    # (id, document, key, check of the outcome)
    (
        "huge-1MiB",
        json.dumps({"k": SENTINEL + "x" * MIB}),
        "k",
        lambda r: r == SENTINEL + "x" * MIB,
    ),
    (
        "deep-nesting",
        '{"k": ' + "[" * 100_000 + "]" * 100_000 + "}",
        "k",
        lambda r: isinstance(r, envsecrets.DocumentError),
    ),
    (
        "deep-valid",
        '{"k": ' + "[" * 500 + "1" + "]" * 500 + "}",
        "k",
        lambda r: r == "[" * 500 + "1" + "]" * 500 or isinstance(r, envsecrets.DocumentError),
    ),
    (
        "duplicate-keys",
        '{"k": "a", "k": "' + SENTINEL + '"}',
        "k",
        lambda r: isinstance(r, envsecrets.DocumentError) and "duplicate key 'k'" in str(r),
    ),
    ("nan", '{"k": NaN}', "k", lambda r: isinstance(r, envsecrets.DocumentError)),
    ("infinity", '{"k": Infinity}', "k", lambda r: isinstance(r, envsecrets.DocumentError)),
    ("minus-infinity", '{"k": -Infinity}', "k", lambda r: isinstance(r, envsecrets.DocumentError)),
    ("huge-number", '{"k": 1e400}', "k", lambda r: r == "1e400"),
    ("long-integer", '{"k": ' + "9" * 5000 + "}", "k", lambda r: r == "9" * 5000),
    (
        "unicode",
        json.dumps({"k": "пароль🔑\u200b\u202e"}),
        "k",
        lambda r: r == "пароль🔑\u200b\u202e",
    ),
    (
        "control-chars",
        json.dumps({"k": "a\x01\x1b[31m\r\nb"}),
        "k",
        lambda r: r == "a\x01\x1b[31m\r\nb",
    ),
    (
        "nul",
        json.dumps({"k": SENTINEL + "\x00"}),
        "k",
        lambda r: isinstance(r, envsecrets.DocumentError) and "NUL" in str(r),
    ),
    (
        "lone-surrogate",
        '{"k": "' + SENTINEL + '\\ud800"}',
        "k",
        lambda r: isinstance(r, envsecrets.DocumentError) and "surrogate" in str(r),
    ),
    ("key-with-colons", json.dumps({"a:b:c": "v1"}), "a:b:c", lambda r: r == "v1"),
    (
        "key-with-slashes",
        json.dumps({"/a/b": "literal", "a": {"b": "pointer"}}),
        "/a/b",
        lambda r: r == "literal",
    ),
    ("pointer", json.dumps({"a": {"b/c": ["x", "y"]}}), "/a/b~1c/1", lambda r: r == "y"),
    (
        "pointer-leading-zero",
        json.dumps({"a": ["x", "y"]}),
        "/a/01",
        lambda r: isinstance(r, envsecrets.KeyNotFound),
    ),
    (
        "not-an-object",
        json.dumps([SENTINEL]),
        "k",
        lambda r: isinstance(r, envsecrets.DocumentError),
    ),
    (
        "bom",
        "\ufeff" + json.dumps({"k": "v"}),
        "k",
        lambda r: isinstance(r, envsecrets.DocumentError),
    ),
    (
        "trailing-garbage",
        '{"k": "v"} ' + SENTINEL,
        "k",
        lambda r: isinstance(r, envsecrets.DocumentError),
    ),
]


@pytest.mark.parametrize(
    ("document", "key", "check"), [c[1:] for c in CORPUS], ids=[c[0] for c in CORPUS]
)
def test_hostile_document_corpus(document: str, key: str, check: Callable[[object], bool]) -> None:
    result = outcome({"DOC": document}, {"X": f"_envjson:DOC:{key}"})
    value: object
    if isinstance(result, envsecrets.ResolutionError):
        value = result.failures[0].error
        assert_no_sentinel(str(result), repr(result), repr(value))
    else:
        assert isinstance(result, dict)
        value = result["X"]
    assert check(value), repr(value)[:300]


def test_thousands_of_variables() -> None:
    document = json.dumps({f"key:{n}/x": f"value-{n}" for n in range(5000)})
    env = {f"VAR_{n}": f"_envjson:DOC:key:{n}/x" for n in range(5000)}
    env.update({f"PLAIN_{n}": f"plain-{n}" for n in range(5000)})
    result = outcome({"DOC": document}, env)
    assert isinstance(result, dict)
    assert result == {
        **{f"VAR_{n}": f"value-{n}" for n in range(5000)},
        **{f"PLAIN_{n}": f"plain-{n}" for n in range(5000)},
    }
    broken = {**env, "VAR_17": "_envjson:DOC:missing", "VAR_4242": "_envjson:NOPE:k"}
    error = outcome({"DOC": document}, broken)
    assert isinstance(error, envsecrets.ResolutionError)
    assert [failure.variable for failure in error.failures] == ["VAR_17", "VAR_4242"]


# -- real backends ----------------------------------------------------------


def test_aws_binary_secrets_and_huge_values(servers: Servers, tmp_path: Path) -> None:
    import boto3

    sm = boto3.client(
        "secretsmanager",
        endpoint_url=servers.moto_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    big = SENTINEL + "b" * 60_000  # Secrets Manager holds at most 64 KiB
    sm.create_secret(Name="hostile/binary-bad", SecretBinary=b"\xff\xfe" + SENTINEL.encode())
    sm.create_secret(Name="hostile/binary-good", SecretBinary=json.dumps({"k": "ü"}).encode())
    sm.create_secret(Name="hostile/big", SecretString=big)
    sm.create_secret(Name="hostile/dup", SecretString='{"k": 1, "k": "' + SENTINEL + '"}')
    sm.create_secret(Name="hostile/nan", SecretString='{"k": NaN}')
    with resolver(aws_environ(servers.moto_url, tmp_path), envsecrets_aws) as instance:
        assert instance.resolve({"G": "_aws:hostile/binary-good:k", "B": "_aws:hostile/big"}) == {
            "G": "ü",
            "B": big,
        }
        with pytest.raises(envsecrets.ResolutionError) as caught:
            instance.resolve(
                {
                    "BAD": "_aws:hostile/binary-bad",
                    "DUP": "_aws:hostile/dup:k",
                    "NAN": "_aws:hostile/nan:k",
                    "COLON": "_aws:arn:aws:secretsmanager:us-east-1:123456789012:secret:x:y",
                }
            )
    failures = {failure.variable: failure.error for failure in caught.value.failures}
    assert set(failures) == {"BAD", "DUP", "NAN", "COLON"}
    assert isinstance(failures["BAD"], envsecrets.DocumentError)
    assert "not UTF-8" in str(failures["BAD"])
    assert isinstance(failures["DUP"], envsecrets.DocumentError)
    assert isinstance(failures["NAN"], envsecrets.DocumentError)
    assert isinstance(failures["COLON"], envsecrets.SecretNotFound)
    assert_no_sentinel(str(caught.value), repr(caught.value))


def test_vault_huge_and_odd_values(servers: Servers) -> None:
    huge = SENTINEL + "v" * MIB
    servers.bao.kv_put(
        "secret",
        "hostile/odd",
        {"huge": huge, "a:b": "colon", "/x": "slash", "uni": "ключ🔑", "ctl": "\x01\x1b"},
    )
    env = {
        "HUGE": "_vaultkv2:secret/hostile/odd:huge",
        "SLASH": "_vaultkv2:secret/hostile/odd:/x",
        "UNI": "_vaultkv2:secret/hostile/odd:uni",
        "CTL": "_vaultkv2:secret/hostile/odd:ctl",
    }
    with resolver(token_env(servers.bao.address), envsecrets_vault) as instance:
        result = instance.resolve(env)
        assert result == {"HUGE": huge, "SLASH": "slash", "UNI": "ключ🔑", "CTL": "\x01\x1b"}
        # The rest splits at the last colon (DESIGN): a key with a colon
        # reads path "odd:a", which does not exist. A clear error, not a crash.
        with pytest.raises(envsecrets.ResolutionError) as caught:
            instance.resolve({"COLON": "_vaultkv2:secret/hostile/odd:a:b"})
    assert isinstance(caught.value.failures[0].error, envsecrets.SecretNotFound)


# -- the command line ---------------------------------------------------------

CLI_CORPUS = {
    # One environment string holds at most 128 KiB (MAX_ARG_STRLEN); the
    # 1 MiB documents are tested above, through the library and OpenBao.
    "huge": json.dumps({"k": SENTINEL + "h" * 100_000}),
    "deep": "[" * 100_000,
    "surrogate": '{"k": "\\udc80' + SENTINEL + '"}',
    "dup": '{"k": 1, "k": 2}',
    "nan": '{"k": NaN}',
    "nul": '{"k": "a\\u0000b"}',
}


@pytest.mark.parametrize("name", sorted(CLI_CORPUS))
def test_cli_never_shows_a_traceback_for_hostile_documents(name: str, tmp_path: Path) -> None:
    env = {"DOC": CLI_CORPUS[name], "X": "_envjson:DOC:k"}
    env_file = tmp_path / "hostile.env"
    env_file.write_bytes(b"A=\xff\xfe\nB=_envjson:DOC:k\nC=" + b"_envjson:" * 10_000 + b"\n")
    runs = [
        ("get", "_envjson:DOC:k"),
        ("resolve", "-f", "shell"),
        ("check", "--fetch"),
        ("check", "-e", str(env_file)),
        ("run", "--", "true"),
    ]
    for args in runs:
        result = run_cli(*args, env=env, cwd=tmp_path)
        assert result.returncode in EXIT_CODES
        assert "Traceback" not in result.stderr, result.stderr[-3000:]
        if args[0] != "get" and args[0] != "resolve":
            assert_no_sentinel(result.stdout)
        assert_no_sentinel(result.stderr)
        if name == "huge" and args[0] in {"get", "resolve", "run"}:
            assert result.returncode == 0, result.stderr[-500:]
        elif name != "huge" and args[:2] != ("check", "-e"):
            assert result.returncode == 1, (args, result.stderr[-500:])


def test_cli_with_invalid_utf8_in_the_environment_and_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.env"
    bad.write_bytes(b"A=\xff\xfe\n")
    nul = tmp_path / "nul.env"
    nul.write_bytes(b"A=x\x00y\n")
    for args in [
        ("check", "-e", str(bad)),
        ("resolve", "-e", str(bad)),
        ("run", "-e", str(nul), "--", "true"),
    ]:
        result = run_cli(*args, env={}, cwd=tmp_path)
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
    # os.environ holds non-UTF-8 bytes as lone surrogates: resolve cannot write them.
    import os
    import subprocess
    import sys

    completed = subprocess.run(
        [sys.executable, "-m", "envsecrets", "resolve"],
        env={b"PATH": os.environ["PATH"].encode(), b"WEIRD": b"\xff\xfe"},
        capture_output=True,
    )
    assert completed.returncode == 1
    assert b"Traceback" not in completed.stderr
    assert b"'WEIRD'" in completed.stderr


def test_infinite_and_tiny_timeouts_are_usage_errors(tmp_path: Path) -> None:
    for value in ("inf", "nan", "0", "-1", "1e999", "abc"):
        result = run_cli("run", "--timeout", value, "--", "true", env={}, cwd=tmp_path)
        assert result.returncode == 2, value
        assert "Traceback" not in result.stderr
    assert not math.isnan(0.0)
