"""Every error path: the message names the secret and the AWS error code,
and no secret value (a sentinel) shows anywhere: message, repr, traceback,
log record at DEBUG."""

# ruff: noqa: PLR0917

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from typing import Any

import pytest

import envsecrets
import envsecrets_aws
from envsecrets import ResolutionError, SecretNotFound
from tests.aws.conftest import AMZ_JSON, assert_no_leak, aws_error, capture
from testservers.faults import Answer as CannedResponse
from testservers.faults import Seen as SeenRequest

Make = Callable[..., envsecrets.Resolver]


@pytest.fixture
def good(sm: Any, unique: Any, sentinel: str) -> str:
    """A readable secret holding the sentinel, resolved next to the failing one."""
    name = unique("good")
    sm.create_secret(Name=name, SecretString=json.dumps({"password": sentinel}))
    return name


def fail(resolver: envsecrets.Resolver, env: dict[str, str]) -> ResolutionError:
    with pytest.raises(ResolutionError) as caught:
        resolver.resolve(env)
    return caught.value


def only(error: ResolutionError, variable: str) -> envsecrets.EnvsecretsError:
    failures = [f for f in error.failures if f.variable == variable]
    assert len(failures) == 1, error
    assert [f.variable for f in error.failures] == [variable], "only the bad one fails"
    return failures[0].error


def through(proxy: Any, environ: dict[str, str], **extra: str) -> dict[str, str]:
    return {**environ, "AWS_ENDPOINT_URL": proxy.url, **extra}


def test_secret_not_found(
    environ: dict[str, str], make_resolver: Make, good: str, unique: Any, sentinel: str, caplog: Any
) -> None:
    capture(caplog)
    missing = unique("missing/app")
    error = fail(
        make_resolver(environ),
        {"OK": f"_aws:{good}:password", "BAD": f"_aws:{missing}:password"},
    )
    bad = only(error, "BAD")
    assert isinstance(bad, SecretNotFound)
    assert str(bad) == f"AWS Secrets Manager has no secret '{missing}' (ResourceNotFoundException)"
    assert "BAD" in str(error)
    assert_no_leak(sentinel, error, caplog)


def test_version_not_found(
    environ: dict[str, str], make_resolver: Make, good: str, sentinel: str, caplog: Any
) -> None:
    capture(caplog)
    error = fail(
        make_resolver(environ),
        {"OK": f"_aws:{good}:password", "BAD": f"_aws:{good}?version_stage=NOPE:password"},
    )
    bad = only(error, "BAD")
    assert isinstance(bad, SecretNotFound)
    assert f"secret '{good}' (version_stage NOPE)" in str(bad)
    assert_no_leak(sentinel, error, caplog)


def test_deleted_secret(
    sm: Any,
    environ: dict[str, str],
    make_resolver: Make,
    good: str,
    unique: Any,
    sentinel: str,
    caplog: Any,
) -> None:
    gone = unique("gone")
    sm.create_secret(Name=gone, SecretString=json.dumps({"password": sentinel + "-gone"}))
    sm.delete_secret(SecretId=gone)
    capture(caplog)
    env = {
        "OK": f"_aws:{good}:password",
        "BATCHED": f"_aws:{gone}:password",
        "SINGLE": f"_aws:{gone}?version_stage=AWSCURRENT:password",
    }
    error = fail(make_resolver(environ), env)
    assert [f.variable for f in error.failures] == ["BATCHED", "SINGLE"]
    for failure in error.failures:
        assert isinstance(failure.error, envsecrets_aws.SecretDeleted)
        assert f"secret '{gone}'" in str(failure.error)
        assert "scheduled for deletion" in str(failure.error)
        assert "InvalidRequestException" in str(failure.error)
    assert_no_leak(sentinel, error, caplog)


def batch_answer(values: list[dict[str, Any]], errors: list[dict[str, str]]) -> CannedResponse:
    body = json.dumps({"SecretValues": values, "Errors": errors}).encode()
    return CannedResponse(200, body, dict(AMZ_JSON))


@pytest.mark.parametrize(
    ("code", "kind", "words"),
    [
        ("AccessDeniedException", envsecrets_aws.AWSAccessDenied, "denied access to secret"),
        ("DecryptionFailure", envsecrets_aws.AWSDecryptionFailure, "could not decrypt secret"),
        ("InternalServiceError", envsecrets.ProviderError, "failed to serve secret"),
        ("SomethingNew", envsecrets.ProviderError, "could not return secret"),
    ],
)
def test_per_secret_errors_of_a_batch(
    environ: dict[str, str],
    make_resolver: Make,
    make_proxy: Any,
    good: str,
    unique: Any,
    sentinel: str,
    caplog: Any,
    code: str,
    kind: type[Exception],
    words: str,
) -> None:
    bad_name = unique("bad")

    def rule(request: SeenRequest) -> CannedResponse | None:
        if request.operation != "BatchGetSecretValue":
            return None
        # The server's message echoes a value: it must never be quoted.
        values = [
            {"Name": good, "ARN": f"arn:x:{good}", "SecretString": f'{{"password": "{sentinel}"}}'}
        ]
        errors = [{"SecretId": bad_name, "ErrorCode": code, "Message": f"echo {sentinel}"}]
        return batch_answer(values, errors)

    proxy = make_proxy(rule=rule)
    capture(caplog)
    error = fail(
        make_resolver(through(proxy, environ)),
        {"OK": f"_aws:{good}:password", "BAD": f"_aws:{bad_name}:password"},
    )
    bad = only(error, "BAD")
    assert isinstance(bad, kind)
    assert f"{words} '{bad_name}' " in str(bad)
    assert f"({code})" in str(bad)
    assert proxy.operations() == {"BatchGetSecretValue": 1}
    assert_no_leak(sentinel, error, caplog)


@pytest.mark.parametrize(
    ("code", "kind", "words"),
    [
        ("AccessDeniedException", envsecrets_aws.AWSAccessDenied, "denied access to secret"),
        ("DecryptionFailure", envsecrets_aws.AWSDecryptionFailure, "could not decrypt secret"),
        (
            "UnrecognizedClientException",
            envsecrets_aws.AWSCredentialsError,
            "rejected the credentials",
        ),
        ("ResourceNotFoundException", SecretNotFound, "has no secret"),
    ],
)
def test_errors_of_get_secret_value(
    environ: dict[str, str],
    make_resolver: Make,
    make_proxy: Any,
    good: str,
    unique: Any,
    sentinel: str,
    caplog: Any,
    code: str,
    kind: type[Exception],
    words: str,
) -> None:
    bad_name = unique("bad")

    def rule(request: SeenRequest) -> CannedResponse | None:
        if request.operation == "BatchGetSecretValue":
            return aws_error("AccessDeniedException", f"no batch for you {sentinel}")
        if request.operation == "GetSecretValue" and bad_name.encode() in request.body:
            return aws_error(code, f"echo {sentinel}")
        return None

    proxy = make_proxy(rule=rule)
    capture(caplog)
    error = fail(
        make_resolver(through(proxy, environ)),
        {"OK": f"_aws:{good}:password", "BAD": f"_aws:{bad_name}:password"},
    )
    bad = only(error, "BAD")
    assert isinstance(bad, kind)
    assert f"secret '{bad_name}'" in str(bad)
    assert words in str(bad)
    assert f"({code})" in str(bad)
    assert proxy.operations() == {"BatchGetSecretValue": 1, "GetSecretValue": 2}
    assert_no_leak(sentinel, error, caplog)


@pytest.mark.parametrize(
    ("attempts", "extra"), [(3, {}), (2, {"ENVSECRETS_AWS_MAX_ATTEMPTS": "2"})]
)
def test_throttling_after_bounded_retries(
    environ: dict[str, str],
    make_resolver: Make,
    make_proxy: Any,
    good: str,
    sentinel: str,
    caplog: Any,
    attempts: int,
    extra: dict[str, str],
) -> None:
    proxy = make_proxy(rule=lambda request: aws_error("ThrottlingException", f"slow {sentinel}"))
    capture(caplog)
    error = fail(make_resolver(through(proxy, environ, **extra)), {"OK": f"_aws:{good}:password"})
    bad = only(error, "OK")
    assert isinstance(bad, envsecrets_aws.AWSThrottled)
    assert str(bad) == (
        f"AWS Secrets Manager throttled the request for secret '{good}' "
        f"after {attempts} attempts (ThrottlingException)"
    )
    assert proxy.operations() == {"BatchGetSecretValue": attempts}
    assert_no_leak(sentinel, error, caplog)


def test_server_errors_are_retried_then_reported(
    environ: dict[str, str],
    make_resolver: Make,
    make_proxy: Any,
    good: str,
    sentinel: str,
    caplog: Any,
) -> None:
    proxy = make_proxy(
        rule=lambda request: aws_error("InternalServiceError", f"oops {sentinel}", status=500)
    )
    capture(caplog)
    resolver = make_resolver(through(proxy, environ, ENVSECRETS_AWS_MAX_ATTEMPTS="2"))
    error = fail(resolver, {"OK": f"_aws:{good}:password"})
    assert "failed to serve secret" in str(only(error, "OK"))
    assert "after 2 attempts" in str(only(error, "OK"))
    assert proxy.operations() == {"BatchGetSecretValue": 2}
    assert_no_leak(sentinel, error, caplog)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_endpoint_fails_fast(
    environ: dict[str, str], make_resolver: Make, unique: Any, caplog: Any
) -> None:
    capture(caplog)
    url = f"http://127.0.0.1:{closed_port()}"
    names = [unique("a"), unique("b")]
    resolver = make_resolver({**environ, "AWS_ENDPOINT_URL": url}, timeout=15)
    error = fail(
        resolver, {"A": f"_aws:{names[0]}:k", "B": f"_aws:{names[1]}?version_id={'0' * 32}"}
    )
    # Bounded retries ended first: the reason is the endpoint's, not the 15 s deadline's.
    assert [f.variable for f in error.failures] == ["A", "B"]
    for failure, name in zip(error.failures, names, strict=True):
        assert isinstance(failure.error, envsecrets_aws.AWSEndpointUnreachable)
        assert not isinstance(failure.error, envsecrets.DeadlineExceeded)
        assert f"secret '{name}" in str(failure.error)
        assert url in str(failure.error)


def test_endpoint_credentials_are_not_shown(
    environ: dict[str, str], make_resolver: Make, unique: Any
) -> None:
    url = f"http://user:hunter2-SENTINEL@127.0.0.1:{closed_port()}"
    error = fail(
        make_resolver({**environ, "AWS_ENDPOINT_URL": url, "ENVSECRETS_AWS_MAX_ATTEMPTS": "1"}),
        {"A": f"_aws:{unique('a')}"},
    )
    assert "hunter2-SENTINEL" not in str(error)


def test_read_timeout(
    environ: dict[str, str],
    make_resolver: Make,
    make_proxy: Any,
    good: str,
    sentinel: str,
    caplog: Any,
) -> None:
    proxy = make_proxy(delay=1.5)
    capture(caplog)
    resolver = make_resolver(
        through(proxy, environ, ENVSECRETS_AWS_READ_TIMEOUT="0.3", ENVSECRETS_AWS_MAX_ATTEMPTS="1")
    )
    error = fail(resolver, {"OK": f"_aws:{good}:password"})
    bad = only(error, "OK")
    # The 0.3 s read timeout ended it (one attempt), not the resolution deadline.
    assert isinstance(bad, envsecrets_aws.AWSTimeout)
    assert not isinstance(bad, envsecrets.DeadlineExceeded)
    assert proxy.count() == 1
    assert f"did not answer in time for secret '{good}' (ReadTimeoutError)" in str(bad)
    assert_no_leak(sentinel, error, caplog)


def test_resolution_deadline_names_the_secret(
    environ: dict[str, str], make_resolver: Make, make_proxy: Any, good: str
) -> None:
    # The answer comes 60 s late; read timeouts longer still: only the
    # deadline can end the resolution (the proxy cuts the request at teardown).
    proxy = make_proxy(delay=60.0)
    error = fail(
        make_resolver(through(proxy, environ, ENVSECRETS_AWS_READ_TIMEOUT="120"), timeout=0.5),
        {"OK": f"_aws:{good}:password"},
    )
    bad = only(error, "OK")
    assert isinstance(bad, envsecrets.DeadlineExceeded)
    assert good in str(bad)


@pytest.mark.parametrize("variable", ["AWS_REGION", "AWS_DEFAULT_REGION"])
def test_either_region_variable_works(
    sm: Any, environ: dict[str, str], make_resolver: Make, unique: Any, variable: str
) -> None:
    name = unique("region")
    sm.create_secret(Name=name, SecretString="v")
    env = {k: v for k, v in environ.items() if k != "AWS_REGION"}
    env[variable] = "us-east-1"
    assert make_resolver(env).get(f"_aws:{name}") == "v"


def test_region_from_the_profile(
    sm: Any, environ: dict[str, str], make_resolver: Make, unique: Any, tmp_path: Any
) -> None:
    name = unique("profile")
    sm.create_secret(Name=name, SecretString="v")
    config = tmp_path / "config"
    config.write_text("[profile dev]\nregion = us-east-1\n")
    credentials = tmp_path / "credentials"
    credentials.write_text("[dev]\naws_access_key_id = testing\naws_secret_access_key = testing\n")
    env = {k: v for k, v in environ.items() if not k.startswith("AWS_") or k == "AWS_ENDPOINT_URL"}
    env |= {
        "AWS_PROFILE": "dev",
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(credentials),
    }
    assert make_resolver(env).get(f"_aws:{name}") == "v"


def test_missing_region(environ: dict[str, str], make_resolver: Make, unique: Any) -> None:
    env = {k: v for k, v in environ.items() if k not in {"AWS_REGION", "AWS_DEFAULT_REGION"}}
    name = unique("noregion")
    error = fail(make_resolver(env), {"A": f"_aws:{name}:k"})
    bad = only(error, "A")
    assert isinstance(bad, envsecrets_aws.AWSConfigurationError)
    assert "AWS_REGION" in str(bad)
    assert "AWS_DEFAULT_REGION" in str(bad)
    assert name in str(error)  # the core quotes the reference


def test_region_is_read_from_the_given_environ_only(
    environ: dict[str, str], make_resolver: Make, unique: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    env = {k: v for k, v in environ.items() if k != "AWS_REGION"}
    error = fail(make_resolver(env), {"A": f"_aws:{unique('x')}:k"})
    assert isinstance(only(error, "A"), envsecrets_aws.AWSConfigurationError)


def test_unknown_profile(environ: dict[str, str], make_resolver: Make, unique: Any) -> None:
    env = {k: v for k, v in environ.items() if not k.startswith("AWS_ACCESS") and "SECRET" not in k}
    env["AWS_PROFILE"] = "no-such-profile"
    error = fail(make_resolver(env), {"A": f"_aws:{unique('x')}:k"})
    bad = only(error, "A")
    assert isinstance(bad, envsecrets_aws.AWSConfigurationError)
    assert "ProfileNotFound" in str(bad)


def test_half_a_key_pair(
    environ: dict[str, str], make_resolver: Make, unique: Any, sentinel: str
) -> None:
    env = {k: v for k, v in environ.items() if k != "AWS_ACCESS_KEY_ID"}
    env["AWS_SECRET_ACCESS_KEY"] = sentinel
    error = fail(make_resolver(env), {"A": f"_aws:{unique('x')}:k"})
    bad = only(error, "A")
    assert str(bad) == (
        "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not: set both or neither"
    )
    assert sentinel not in repr(make_resolver(env).provider("aws"))


def test_no_credentials(environ: dict[str, str], make_resolver: Make, unique: Any) -> None:
    env = {
        k: v for k, v in environ.items() if k not in {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    }
    name = unique("nocreds")
    error = fail(make_resolver(env), {"A": f"_aws:{name}:k"})
    bad = only(error, "A")
    assert isinstance(bad, envsecrets_aws.AWSCredentialsError)
    assert f"no AWS credentials found to read secret '{name}'" in str(bad)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ENVSECRETS_AWS_READ_TIMEOUT", "soon"),
        ("ENVSECRETS_AWS_CONNECT_TIMEOUT", "-1"),
        ("ENVSECRETS_AWS_MAX_ATTEMPTS", "0"),
        ("ENVSECRETS_AWS_BATCH", "maybe"),
    ],
)
def test_bad_options(
    environ: dict[str, str], make_resolver: Make, unique: Any, variable: str, value: str
) -> None:
    error = fail(make_resolver({**environ, variable: value}), {"A": f"_aws:{unique('x')}:k"})
    bad = only(error, "A")
    assert isinstance(bad, envsecrets_aws.AWSConfigurationError)
    assert variable in str(bad)


def test_bad_reference_syntax(environ: dict[str, str], make_resolver: Make) -> None:
    env = {"A": "_aws:app?version=1:k", "B": "_aws:app:", "C": "_aws:app?version_id=v1:k"}
    error = fail(make_resolver(environ), env)
    assert [type(f.error) for f in error.failures] == [envsecrets.ReferenceSyntaxError] * 3
    assert "32 to 64 characters" in str(error.failures[2].error)


def test_success_logs_no_value(
    environ: dict[str, str],
    make_resolver: Make,
    good: str,
    sentinel: str,
    unique: Any,
    sm: Any,
    caplog: Any,
) -> None:
    binary = unique("bin")
    sm.create_secret(Name=binary, SecretBinary=sentinel.encode() + b"-bin")
    capture(caplog)
    resolver = make_resolver(environ)
    result = resolver.resolve(
        {
            "A": f"_aws:{good}:password",
            "B": f"_aws:{good}?version_stage=AWSCURRENT",
            "C": f"_aws:{binary}",
        }
    )
    assert result["A"] == sentinel
    assert result["C"] == sentinel + "-bin"
    bodies = [
        r for r in caplog.records if r.name == "botocore.parsers" and "Response body" in r.msg
    ]
    # The control: botocore logged the bodies of both requests (batch and
    # versioned Get). In the integration run a fetch abandoned by an earlier
    # test's deadline may finish now and log one more; it is checked below too.
    assert len(bodies) >= 2, "botocore did log both response bodies, redacted"
    assert sentinel not in caplog.text
    for record in caplog.records:
        assert sentinel not in record.getMessage()
    assert sentinel not in repr(resolver) + repr(resolver.provider("aws"))
