"""What is particular to the _ssm provider: batches of ten and the names
left to the core, listing every page, errors that name the reference and
never a value, botocore's -vv log redacted but kept."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import envsecrets
import pytest
from testservers.faults import AMZ_JSON, Answer, Seen
from testservers.proxy import Proxy

import envsecrets_ssm
from envsecrets_ssm import SSMProvider

Unique = Callable[[str], str]


def resolver(environ: dict[str, str]) -> envsecrets.Resolver:
    return envsecrets.Resolver(environ, plugins=[envsecrets_ssm], entry_points=False)


@pytest.fixture
def proxy(ssm_url: str) -> Iterator[Proxy]:
    """A counting proxy in front of moto; its rule answers some requests itself."""
    with Proxy(ssm_url) as proxy:
        yield proxy


def refuse(operation: str, code: str, message: str) -> Callable[[Seen], Answer | None]:
    """A proxy rule answering every *operation* with AWS's error *code*."""
    body = json.dumps({"__type": code, "message": message}).encode()
    return lambda seen: Answer(400, body, dict(AMZ_JSON)) if seen.operation == operation else None


def test_names_are_fetched_ten_per_getparameters_call(
    ssm: Any, environ: dict[str, str], unique: Unique, proxy: Proxy
) -> None:
    names = [unique(f"batch/p{i:02}") for i in range(23)]
    for index, name in enumerate(names):
        ssm.put_parameter(Name=name, Type="SecureString", Value=f"v-{index}-4e1a")
    env = {f"P{i}": f"_ssm:{name}" for i, name in enumerate(names)}
    with resolver({**environ, "AWS_ENDPOINT_URL": proxy.url}) as r:
        assert r.resolve(env) == {f"P{i}": f"v-{i}-4e1a" for i in range(23)}
    assert proxy.operations() == {"GetParameters": 3}  # 10 + 10 + 3, none singly


def test_a_refused_batch_leaves_every_name_to_the_core(
    ssm: Any, environ: dict[str, str], unique: Unique, proxy: Proxy
) -> None:
    names = [unique(f"denied/p{i}") for i in range(3)]
    for name in names:
        ssm.put_parameter(Name=name, Type="String", Value=f"{name}-value")
    proxy.rule = refuse("GetParameters", "AccessDeniedException", "not ssm:GetParameters")
    env = {f"P{i}": f"_ssm:{name}" for i, name in enumerate(names)}
    with resolver({**environ, "AWS_ENDPOINT_URL": proxy.url}) as r:
        assert r.resolve(env) == {f"P{i}": f"{name}-value" for i, name in enumerate(names)}
    assert proxy.operations() == {"GetParameters": 1, "GetParameter": 3}


def test_fetch_many_answers_missing_names_and_leaves_malformed_ones_out(
    ssm: Any, environ: dict[str, str], unique: Unique
) -> None:
    name, gone = unique("one"), unique("gone")
    ssm.put_parameter(Name=name, Type="String", Value="one-value-7d2c")
    provider = SSMProvider(environ)
    try:
        answer = provider.fetch_many([name, gone, "not a name", name])
    finally:
        provider.close()
    assert set(answer) == {name, gone}  # "not a name": the core's fetch will tell
    assert answer[name] == "one-value-7d2c"
    assert isinstance(answer[gone], envsecrets.SecretNotFound)


def test_a_key_of_a_json_parameter_and_keys_holding_colons(
    ssm: Any, environ: dict[str, str], unique: Unique
) -> None:
    name = unique("app/db")
    ssm.put_parameter(Name=name, Type="SecureString", Value='{"password": "pw-51c2", "a:b": 1.50}')
    env = {"PW": f"_ssm:{name}:password", "AB": f"_ssm:{name}:a:b", "ALL": f"_ssm:{name}"}
    with resolver(environ) as r:
        resolved = r.resolve(env)
    assert resolved["PW"] == "pw-51c2"
    assert resolved["AB"] == "1.50"  # the number as written
    assert json.loads(resolved["ALL"])["password"] == "pw-51c2"


@pytest.mark.parametrize(
    ("code", "error", "words"),
    [
        ("AccessDeniedException", envsecrets.AccessDenied, "refused to let these credentials"),
        ("KMSAccessDeniedException", envsecrets.AccessDenied, "cannot be decrypted"),
        ("InternalServerError", envsecrets.ProviderError, "(InternalServerError)"),
    ],
)
def test_refusals_name_the_reference_never_the_server_text(
    environ: dict[str, str], proxy: Proxy, code: str, error: type[Exception], words: str
) -> None:
    sentinel = "server-text-sentinel-93fa"
    proxy.rule = refuse("GetParameter", code, f"{sentinel} is not for you")
    provider = SSMProvider({**environ, "AWS_ENDPOINT_URL": proxy.url})
    with pytest.raises(error) as caught:
        provider.fetch("/app/secret")
    provider.close()
    assert "SSM parameter '/app/secret'" in str(caught.value)
    assert words in str(caught.value)
    assert sentinel not in str(caught.value) + repr(caught.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"AWS_REGION": ""}, "no AWS region: set AWS_REGION"),
        ({"AWS_SECRET_ACCESS_KEY": ""}, "set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"),
        ({"AWS_ENDPOINT_URL": "http://127.0.0.1:9"}, "cannot reach SSM for SSM parameter"),
    ],
)
def test_configuration_errors_say_what_to_set(
    environ: dict[str, str], change: dict[str, str], message: str
) -> None:
    with resolver({**environ, **change}) as r, pytest.raises(envsecrets.ResolutionError) as caught:
        r.resolve({"PG": "_ssm:/app/db:password"})
    assert f"PG=_ssm:/app/db:password: {message}" in str(caught.value)


def test_a_malformed_name_fails_before_any_request(environ: dict[str, str]) -> None:
    with resolver(environ) as r:
        (result,) = r.check({"BAD": "_ssm:/app/db name:key"})
    assert not result.ok
    assert isinstance(result.error, envsecrets.ReferenceSyntaxError)
    assert "not an SSM parameter name" in str(result.error)


def test_listing_reads_every_page_and_never_a_value(
    ssm: Any, environ: dict[str, str], unique: Unique
) -> None:
    names = sorted(unique(f"list/p{i:02}") for i in range(25))  # moto pages at 10
    for name in names:
        ssm.put_parameter(Name=name, Type="SecureString", Value="list-value-0c4d")
    folder = names[0].rpartition("/")[0] + "/"
    with resolver(environ) as r:
        listing = r.list_names("ssm", folder)
        assert r.list_names("ssm", folder + "p1").names == names[10:20]
        assert r.list_names("ssm", "bad prefix!").names == []
    assert listing.names == names
    assert "list-value" not in repr(listing)


def cli(*argv: str, **environ: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **environ}
    for variable in ("ENVSECRETS_PLUGINS", "ENVSECRETS_DISABLE_PLUGINS"):
        if variable not in environ:
            env.pop(variable, None)
    return subprocess.run(
        [sys.executable, "-m", "envsecrets", *argv],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def test_vv_shows_botocore_requests_without_values_or_credentials(
    ssm: Any, environ: dict[str, str], unique: Unique
) -> None:
    name = unique("vv/db")
    ssm.put_parameter(Name=name, Type="SecureString", Value='{"password": "pw-vv-sentinel-2b7f"}')
    keys = {
        "AWS_ACCESS_KEY_ID": "AKIAVVSENTINEL5C1D",
        "AWS_SECRET_ACCESS_KEY": "vv-secret-key-sentinel-8a3e",
        "AWS_SESSION_TOKEN": "vv-session-token-sentinel-6f90",
    }
    done = cli("-vv", "get", "--no-agent", f"_ssm:{name}:password", **{**environ, **keys})
    assert (done.returncode, done.stdout) == (0, "pw-vv-sentinel-2b7f\n"), done.stderr
    log = done.stderr
    assert "DEBUG botocore.endpoint: Making request for OperationModel(name=GetParameters)" in log
    assert "DEBUG botocore.parsers: Response body:" in log  # the record stays, its body not
    assert "Authorization" in log
    for secret in ("pw-vv-sentinel", *keys.values()):
        assert secret not in log


def test_an_ssm_and_an_aws_provider_read_the_same_aws_settings(
    environ: dict[str, str], unique: Unique
) -> None:
    pytest.importorskip("envsecrets_aws", reason="envsecrets-aws is not installed next to _ssm")
    from testservers.moto import aws_client, moto_environ, moto_server

    with moto_server() as url:  # every service: Secrets Manager and SSM, one endpoint
        shared = moto_environ(url)
        name = unique("both/db")
        aws_client("ssm", url).put_parameter(Name=name, Type="SecureString", Value="ssm-pw-41aa")
        aws_client("secretsmanager", url).create_secret(
            Name=name.strip("/"), SecretString='{"password": "aws-pw-92bb"}'
        )
        env = {"FROM_SSM": f"_ssm:{name}", "FROM_AWS": f"_aws:{name.strip('/')}:password"}
        with envsecrets.Resolver(shared) as r:  # the installed plugins, as the CLI loads them
            assert r.resolve(env) == {"FROM_SSM": "ssm-pw-41aa", "FROM_AWS": "aws-pw-92bb"}
            registry = r.registry
        assert not registry.conflicts
        # Declared by both, kept from `run`'s command once; an env file may set none.
        assert "AWS_SESSION_TOKEN" in registry.get("aws").provider_class.credentials
        assert "AWS_SESSION_TOKEN" in registry.get("ssm").provider_class.credentials
        assert SSMProvider.credentials <= registry.credentials()
