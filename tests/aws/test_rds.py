"""The _aws_iam_rds provider: RDS IAM auth tokens, each checked by
recomputing its SigV4 signature independently (tests/aws/sigv4.py)."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import envsecrets
from envsecrets.errors import SiblingError
from envsecrets_aws import AWSConfigurationError, AWSCredentialsError, RDSEndpointError
from envsecrets_aws.rds import RDSIAMProvider, region_of
from tests.aws.conftest import assert_no_leak, capture, failure_text
from tests.aws.sigv4 import assert_fresh, signature_of, verify

INSTANCE = "mydb.c9akciq32.eu-west-3.rds.amazonaws.com"
CLUSTER = "app.cluster-c9akciq32.ap-southeast-2.rds.amazonaws.com"
Make = Callable[..., envsecrets.Resolver]


@pytest.fixture
def keys() -> dict[str, str]:
    """Long-lived credentials of the agent (no session token), unique per test."""
    token = uuid.uuid4().hex
    return {
        "AWS_ACCESS_KEY_ID": f"AKIARDS{token[:13].upper()}",
        "AWS_SECRET_ACCESS_KEY": f"rds-secret-key-{token}",
    }


@pytest.fixture
def agent(environ: dict[str, str], keys: dict[str, str]) -> dict[str, str]:
    """The agent's environment: the moto server's, with the keys above."""
    return {**environ, **keys}


def role(host: str = INSTANCE, **extra: str) -> dict[str, str]:
    """A role as the original web app's AWS IAM Role flow writes it."""
    return {
        "HOST": host,
        "PORT": "5432",
        "USER": "_aws_iam_rds:app",
        "PASS": "_aws_iam_rds:authtoken",
        **extra,
    }


def errors_of(resolver: envsecrets.Resolver, env: dict[str, str]) -> dict[str, Exception]:
    with pytest.raises(envsecrets.ResolutionError) as info:
        resolver.resolve(env)
    return {failure.variable: failure.error for failure in info.value.failures}


# -- the two forms -------------------------------------------------------------


def test_the_one_reference_form_is_a_token_for_that_user_host_and_port(
    make_resolver: Make, agent: dict[str, str], keys: dict[str, str]
) -> None:
    resolved = make_resolver(agent).resolve(
        {"PASS": f"_aws_iam_rds:report_reader@{CLUSTER}:3306", "PLAIN": "kept"}
    )
    token = verify(resolved["PASS"], keys["AWS_SECRET_ACCESS_KEY"])
    assert (token.user, token.host, token.port) == ("report_reader", CLUSTER, 3306)
    assert token.region == "ap-southeast-2"  # from the host name, not AWS_REGION
    assert token.access_key_id == keys["AWS_ACCESS_KEY_ID"]
    assert token.security_token is None
    assert_fresh(token)
    assert resolved["PLAIN"] == "kept"


def test_the_originals_pair_gives_the_user_and_a_token_for_the_roles_endpoint(
    make_resolver: Make, agent: dict[str, str], keys: dict[str, str]
) -> None:
    resolved = make_resolver(agent).resolve(role())
    assert resolved["USER"] == "app"
    assert (resolved["HOST"], resolved["PORT"]) == (INSTANCE, "5432")
    token = verify(resolved["PASS"], keys["AWS_SECRET_ACCESS_KEY"])
    assert (token.user, token.host, token.port, token.region) == (
        "app",
        INSTANCE,
        5432,
        "eu-west-3",
    )
    assert_fresh(token)


def test_a_host_from_a_secrets_manager_secret(
    make_resolver: Make, agent: dict[str, str], keys: dict[str, str], sm: Any, unique: Any
) -> None:
    name = unique("rds/pg")
    sm.create_secret(Name=name, SecretString=json.dumps({"host": CLUSTER, "port": 6432}))
    env = role(f"_aws:{name}:host", PORT=f"_aws:{name}:port", USER="reader")
    resolved = make_resolver(agent).resolve(env)
    token = verify(resolved["PASS"], keys["AWS_SECRET_ACCESS_KEY"])
    assert (token.user, token.host, token.port, token.region) == (
        "reader",
        CLUSTER,
        6432,
        "ap-southeast-2",
    )


def test_a_host_from_an_envjson_document(
    agent: dict[str, str], keys: dict[str, str], make_resolver: Make
) -> None:
    envjson = pytest.importorskip("envsecrets_envjson")
    import envsecrets_aws

    config = json.dumps({"PG_HOST": INSTANCE, "PG_PORT": 5433})
    env = role("_envjson:ENV_CONFIG:PG_HOST", PORT="_envjson:ENV_CONFIG:PG_PORT")
    env["ENV_CONFIG"] = config
    with envsecrets.Resolver(
        agent, data=env, plugins=[envsecrets_aws, envjson], entry_points=False
    ) as resolver:
        resolved = resolver.resolve(env)
    token = verify(resolved["PASS"], keys["AWS_SECRET_ACCESS_KEY"])
    assert (token.host, token.port, token.user) == (INSTANCE, 5433, "app")


def test_temporary_credentials_sign_with_their_session_token(
    make_resolver: Make, agent: dict[str, str], keys: dict[str, str]
) -> None:
    session_token = f"IQoJb3JpZ2luX2VjE{uuid.uuid4().hex}/+=="
    resolved = make_resolver({**agent, "AWS_SESSION_TOKEN": session_token}).resolve(role())
    token = verify(resolved["PASS"], keys["AWS_SECRET_ACCESS_KEY"])
    assert token.security_token == session_token


def test_credentials_from_a_profile_sign_too(
    make_resolver: Make, environ: dict[str, str], tmp_path: Path
) -> None:
    credentials = tmp_path / "credentials"
    credentials.write_text(
        "[rds]\naws_access_key_id = AKIAPROFILE0000001\n"
        "aws_secret_access_key = profile-secret-key-1234\n"
        "aws_session_token = profile-session-token-1234\n"
    )
    agent = {
        k: v for k, v in environ.items() if k not in {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    }
    agent.update(AWS_SHARED_CREDENTIALS_FILE=str(credentials), AWS_PROFILE="rds")
    resolved = make_resolver(agent).resolve(role())
    token = verify(resolved["PASS"], "profile-secret-key-1234")
    assert token.access_key_id == "AKIAPROFILE0000001"
    assert token.security_token == "profile-session-token-1234"


# -- region --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "region"),
    [
        ("mydb.c9akciq32.us-east-1.rds.amazonaws.com", "us-east-1"),
        ("MyDB.C9AKCIQ32.EU-WEST-1.RDS.AMAZONAWS.COM", "eu-west-1"),
        ("app.cluster-c9akciq32.ap-southeast-2.rds.amazonaws.com", "ap-southeast-2"),
        ("app.cluster-ro-c9akciq32.ca-central-1.rds.amazonaws.com", "ca-central-1"),
        ("app.cluster-custom-c9akciq32.sa-east-1.rds.amazonaws.com", "sa-east-1"),
        ("pool.proxy-c9akciq32.eu-central-2.rds.amazonaws.com", "eu-central-2"),
        ("ro.endpoint.proxy-c9akciq32.eu-north-1.rds.amazonaws.com", "eu-north-1"),
        ("db.c9akciq32.us-gov-west-1.rds.amazonaws.com", "us-gov-west-1"),
        ("db.c9akciq32.cn-north-1.rds.amazonaws.com.cn", "cn-north-1"),
        ("mydb.c9akciq32.us-east-1.rds.amazonaws.com.", "us-east-1"),
    ],
)
def test_the_region_is_read_from_rds_host_names(host: str, region: str) -> None:
    assert region_of(host) == region


@pytest.mark.parametrize(
    "host",
    [
        "db.internal",
        "10.0.0.5",
        "rds.amazonaws.com",
        "us-east-1.rds.amazonaws.com",
        "mydb.notaregion.rds.amazonaws.com",
        "mydb.c9akciq32.us-east-1.rds.amazonaws.com.evil.example",
    ],
)
def test_other_hosts_have_no_region(host: str) -> None:
    assert region_of(host) is None


def test_a_host_that_is_not_an_rds_name_takes_aws_region(
    make_resolver: Make, agent: dict[str, str], keys: dict[str, str]
) -> None:
    resolved = make_resolver({**agent, "AWS_REGION": "eu-south-1"}).resolve(role("db.internal"))
    assert verify(resolved["PASS"], keys["AWS_SECRET_ACCESS_KEY"]).region == "eu-south-1"


def test_then_the_profiles_region(
    make_resolver: Make, agent: dict[str, str], keys: dict[str, str], tmp_path: Path
) -> None:
    config = tmp_path / "config"
    config.write_text("[profile app]\nregion = af-south-1\n")
    agent = {k: v for k, v in agent.items() if k not in {"AWS_REGION", "AWS_DEFAULT_REGION"}}
    agent.update(AWS_CONFIG_FILE=str(config), AWS_PROFILE="app")
    resolved = make_resolver(agent).resolve(role("10.1.2.3"))
    assert verify(resolved["PASS"], keys["AWS_SECRET_ACCESS_KEY"]).region == "af-south-1"


def test_no_region_at_all_is_an_error_saying_where_to_set_one(
    make_resolver: Make, agent: dict[str, str]
) -> None:
    agent = {k: v for k, v in agent.items() if k not in {"AWS_REGION", "AWS_DEFAULT_REGION"}}
    found = errors_of(make_resolver(agent), role("db.internal"))
    assert set(found) == {"PASS"}
    assert isinstance(found["PASS"], AWSConfigurationError)
    assert "set AWS_REGION" in str(found["PASS"])
    assert "db.internal" not in str(found["PASS"])  # a HOST may be a secret


# -- failures --------------------------------------------------------------------


def test_no_credentials_fails_closed_with_the_usual_aggregated_error(
    make_resolver: Make, environ: dict[str, str]
) -> None:
    bare = {
        k: v for k, v in environ.items() if k not in {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    }
    env = role(ONE=f"_aws_iam_rds:app@{INSTANCE}:5432", OK="plain")
    with pytest.raises(envsecrets.ResolutionError) as info:
        make_resolver(bare).resolve(env)
    failures = {failure.variable: failure.error for failure in info.value.failures}
    assert set(failures) == {"PASS", "ONE"}
    for error in failures.values():
        assert isinstance(error, AWSCredentialsError)
        assert "no AWS credentials found to sign" in str(error)
    assert str(info.value).startswith("2 references could not be resolved:")


@pytest.mark.parametrize(
    ("drop", "message"),
    [
        (("HOST",), "needs HOST, PORT and USER of the same variables; HOST is not set"),
        (("PORT",), "needs HOST, PORT and USER of the same variables; PORT is not set"),
        (
            ("HOST", "PORT"),
            "needs HOST, PORT and USER of the same variables; HOST and PORT are not set",
        ),
        (("USER",), "needs HOST, PORT and USER of the same variables; USER is not set"),
    ],
)
def test_a_pair_without_host_or_port_names_what_is_missing(
    make_resolver: Make, agent: dict[str, str], drop: tuple[str, ...], message: str
) -> None:
    env = {k: v for k, v in role().items() if k not in drop}
    found = errors_of(make_resolver(agent), env)
    assert set(found) == {"PASS"}
    assert isinstance(found["PASS"], SiblingError)
    assert str(found["PASS"]) == message


def test_check_reports_a_missing_host_without_signing(
    make_resolver: Make, agent: dict[str, str]
) -> None:
    results = make_resolver(agent).check(
        {"USER": "_aws_iam_rds:app", "PASS": "_aws_iam_rds:authtoken"}
    )
    by_variable = {result.variable: result for result in results}
    assert by_variable["USER"].ok
    assert "HOST and PORT are not set" in str(by_variable["PASS"].error)


def test_check_with_fetch_tests_a_role_and_never_returns_the_token(
    make_resolver: Make, agent: dict[str, str]
) -> None:
    # The call the role editor's Test makes: ok or the reason, never a value.
    results = make_resolver(agent).check(role(), fetch=True)
    assert [(r.variable, r.ok) for r in results] == [("USER", True), ("PASS", True)]
    assert "X-Amz-Signature" not in repr(results)


def test_a_failing_host_reference_fails_the_token_too(
    make_resolver: Make, agent: dict[str, str], unique: Any
) -> None:
    found = errors_of(make_resolver(agent), role(f"_aws:{unique('nosuch')}:host"))
    assert set(found) == {"HOST", "PASS"}
    assert isinstance(found["HOST"], envsecrets.SecretNotFound)
    assert str(found["PASS"]) == "needs HOST, PORT and USER; HOST fails (see there)"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"PORT": "postgres"}, "the PORT is not a port number (1-65535)"),
        ({"PORT": "70000"}, "the PORT is not a port number (1-65535)"),
        ({"HOST": "db host!"}, "the HOST is not a host name"),
        ({"HOST": "  "}, "an RDS IAM auth token needs HOST, PORT and USER; HOST is empty"),
        ({"USER": ""}, "an RDS IAM auth token needs HOST, PORT and USER; USER is empty"),
    ],
)
def test_bad_sibling_values_are_named_never_quoted(
    make_resolver: Make, agent: dict[str, str], changes: dict[str, str], message: str
) -> None:
    found = errors_of(make_resolver(agent), role(**changes))
    assert set(found) == {"PASS"}
    assert isinstance(found["PASS"], RDSEndpointError)
    assert str(found["PASS"]) == message


@pytest.mark.parametrize(
    "rest",
    ["app@db.internal", "app@db.internal:", "@db.internal:5432", "app@db:x:5432", "app@db:0"],
)
def test_a_malformed_one_reference_form_is_a_syntax_error(make_resolver: Make, rest: str) -> None:
    with pytest.raises(envsecrets.ReferenceSyntaxError):
        RDSIAMProvider.split(rest)
    found = errors_of(make_resolver({}), {"PASS": f"_aws_iam_rds:{rest}"})
    assert isinstance(found["PASS"], envsecrets.ReferenceSyntaxError)


def test_names_split_as_the_forms_say() -> None:
    assert RDSIAMProvider.split("app") == ("app", None)
    assert RDSIAMProvider.split("authtoken") == ("authtoken", None)
    assert RDSIAMProvider.split(f"a@b@{INSTANCE}:5432") == (f"a@b@{INSTANCE}:5432", None)
    assert RDSIAMProvider.split(f"app@{INSTANCE}:5432:k") == (f"app@{INSTANCE}:5432", "k")
    assert RDSIAMProvider.siblings("authtoken") == ("HOST", "PORT", "USER")
    assert RDSIAMProvider.siblings(f"app@{INSTANCE}:5432") == ()


def test_authtoken_alone_asks_for_its_siblings(agent: dict[str, str]) -> None:
    with pytest.raises(RDSEndpointError, match="HOST, PORT and USER variables of the same set"):
        RDSIAMProvider(agent).fetch("authtoken")


# -- freshness and secrecy ---------------------------------------------------------


def test_tokens_are_never_taken_from_the_ttl_cache(
    make_resolver: Make, agent: dict[str, str], keys: dict[str, str]
) -> None:
    resolver = make_resolver(agent, cache_ttl=3600)
    env = role(ONE=f"_aws_iam_rds:app@{INSTANCE}:5432")
    first = resolver.resolve(env)
    time.sleep(1.1)  # X-Amz-Date has a resolution of one second
    second = resolver.resolve(env)
    for variable in ("PASS", "ONE"):
        before = verify(first[variable], keys["AWS_SECRET_ACCESS_KEY"])
        after = verify(second[variable], keys["AWS_SECRET_ACCESS_KEY"])
        assert after.signed_at > before.signed_at, f"{variable} came from the cache"


@pytest.fixture
def host_secret(sm: Any, unique: Any) -> str:
    """A Secrets Manager secret holding the cluster's host name."""
    name = unique("rds/host")
    sm.create_secret(Name=name, SecretString=json.dumps({"host": CLUSTER}))
    return str(name)


def test_tokens_credentials_and_sibling_secrets_never_reach_logs_or_errors(
    make_resolver: Make,
    agent: dict[str, str],
    keys: dict[str, str],
    host_secret: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    name = host_secret
    session_token = f"rds-session-token-{uuid.uuid4().hex}"
    agent = {**agent, "AWS_SESSION_TOKEN": session_token}
    capture(caplog)
    resolver = make_resolver(agent)
    resolved = resolver.resolve(role(f"_aws:{name}:host", ONE=f"_aws_iam_rds:x@{INSTANCE}:1"))
    signatures = [signature_of(resolved["PASS"]), signature_of(resolved["ONE"])]
    # A failing resolution too, with the token made in it.
    with pytest.raises(envsecrets.ResolutionError) as info:
        resolver.resolve(role(f"_aws:{name}:host", BAD=f"_aws:{name}-gone:k"))
    text = failure_text(info.value)
    for secret in [*signatures, session_token, keys["AWS_SECRET_ACCESS_KEY"]]:
        assert_no_leak(secret, info.value, caplog)
    assert CLUSTER not in text  # the fetched HOST is a secret value too
    for record in caplog.records:  # botocore's canonical request holds it
        assert CLUSTER not in record.getMessage()
    debug = [r for r in caplog.records if r.name.startswith("botocore.auth")]
    assert any("Signature:" in r.getMessage() for r in debug), "botocore logged no signing"
    assert repr(RDSIAMProvider(agent)) == "<RDSIAMProvider prefix='aws_iam_rds'>"


def test_providers_lists_both_prefixes_of_the_plugin() -> None:
    import envsecrets_aws
    from envsecrets.plugins import load_registry

    registry = load_registry(environ={}, plugins=[envsecrets_aws], entry_points=False)
    assert registry.get("aws_iam_rds").provider_class is RDSIAMProvider
    assert registry.get("aws").plugin == registry.get("aws_iam_rds").plugin


def test_the_agents_logs_name_no_token(
    make_resolver: Make, agent: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="envsecrets_aws")
    resolved = make_resolver(agent).resolve(role())
    own = [r.getMessage() for r in caplog.records if r.name.startswith("envsecrets_aws")]
    assert any("signed" in message for message in own)
    assert all(signature_of(resolved["PASS"]) not in message for message in own)
