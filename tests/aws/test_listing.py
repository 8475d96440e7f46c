"""Discovery: ``list_names`` is ListSecrets with a name filter, every page
followed, names only; counted at a proxy in front of moto."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

import envsecrets
import envsecrets_aws
from tests.aws.conftest import AMZ_JSON, capture, deny
from testservers.faults import Answer as CannedResponse
from testservers.faults import Seen as SeenRequest
from testservers.proxy import Proxy as LoopbackProxy

Make = Callable[..., envsecrets.Resolver]


def through(proxy: LoopbackProxy, environ: dict[str, str]) -> dict[str, str]:
    return {**environ, "AWS_ENDPOINT_URL": proxy.url}


@pytest.fixture
def folder(sm: Any, unique: Any, sentinel: str) -> tuple[str, list[str]]:
    """Seven secrets under one folder, each holding the sentinel as its
    value, its description and a tag (ListSecrets returns the last two)."""
    base = unique("ls") + "/"
    names = [f"{base}app{i}" for i in range(7)]
    for name in names:
        sm.create_secret(
            Name=name,
            SecretString=json.dumps({"password": sentinel}),
            Description=f"described {sentinel}",
            Tags=[{"Key": "owner", "Value": sentinel}],
        )
    return base, names


def provider_for(environ: dict[str, str], page_size: int = 3) -> envsecrets_aws.AWSProvider:
    provider = envsecrets_aws.AWSProvider(environ)
    provider.list_page_size = page_size
    return provider


def test_every_page_is_followed(
    environ: dict[str, str], make_proxy: Any, folder: tuple[str, list[str]]
) -> None:
    base, names = folder
    proxy = make_proxy()
    provider = provider_for(through(proxy, environ), page_size=3)
    try:
        assert sorted(provider.list_names(base)) == names
    finally:
        provider.close()
    # 7 names, 3 a page: 3 ListSecrets calls, each with the name filter.
    assert proxy.operations() == {"ListSecrets": 3}
    bodies = [json.loads(request.body) for request in proxy.requests]
    assert all(body["Filters"] == [{"Key": "name", "Values": [base]}] for body in bodies)
    assert [("NextToken" in body) for body in bodies] == [False, True, True]


def test_the_prefix_is_a_prefix_of_the_name(
    sm: Any, environ: dict[str, str], folder: tuple[str, list[str]], unique: Any
) -> None:
    base, names = folder
    provider = provider_for(environ)
    try:
        assert sorted(provider.list_names(f"{base}app1")) == [f"{base}app1"]
        assert list(provider.list_names(base.upper())) == []  # exact case
        assert list(provider.list_names(f"x{base}")) == []  # not a substring match
        everything = set(provider.list_names(""))  # empty prefix: every secret
        assert set(names) <= everything
    finally:
        provider.close()


@pytest.mark.parametrize("prefix", ["!app", "has space", "with:colon", "é", "a" * 513])
def test_a_prefix_no_name_can_have_lists_nothing_without_a_request(
    environ: dict[str, str], make_proxy: Any, prefix: str
) -> None:
    proxy = make_proxy()
    provider = provider_for(through(proxy, environ))
    try:
        assert list(provider.list_names(prefix)) == []
    finally:
        provider.close()
    assert proxy.operations() == {}  # "!" would have negated AWS's filter


def test_listing_never_returns_nor_logs_a_value(
    environ: dict[str, str],
    make_resolver: Make,
    folder: tuple[str, list[str]],
    sentinel: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    base, names = folder
    capture(caplog)
    listing = make_resolver(environ).list_names("aws", base)
    assert listing.names == names
    assert listing.truncated is False
    bodies = [
        r for r in caplog.records if r.name == "botocore.parsers" and "Response body" in r.msg
    ]
    assert bodies, "the control: botocore logged the ListSecrets answer (redacted)"
    assert sentinel not in caplog.text
    for record in caplog.records:
        assert sentinel not in record.getMessage()


def test_resolver_bounds_the_listing(
    environ: dict[str, str], make_resolver: Make, folder: tuple[str, list[str]]
) -> None:
    base, names = folder
    listing = make_resolver(environ).list_names("aws", base, limit=5)
    assert listing.names == names[:5]
    assert listing.truncated is True


def test_denied_listing_is_access_denied(
    environ: dict[str, str],
    make_resolver: Make,
    make_proxy: Any,
    sentinel: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    proxy = make_proxy(rule=deny("ListSecrets", message=sentinel))
    provider = provider_for(through(proxy, environ))
    capture(caplog)
    try:
        with pytest.raises(envsecrets.AccessDenied) as caught:
            list(provider.list_names("prod/"))
    finally:
        provider.close()
    assert isinstance(caught.value, envsecrets_aws.AWSAccessDenied)
    assert str(caught.value) == (
        "AWS Secrets Manager denied listing the secret names starting with 'prod/' "
        "(AccessDeniedException); listing needs secretsmanager:ListSecrets, "
        "which reading secrets does not"
    )
    # The server's message is never quoted, nor logged.
    assert sentinel not in repr(caught.value)
    assert sentinel not in caplog.text
    with pytest.raises(envsecrets.AccessDenied):
        make_resolver(through(proxy, environ)).list_names("aws", "")


def test_envsecrets_ls(
    environ: dict[str, str],
    folder: tuple[str, list[str]],
    sentinel: str,
    make_proxy: Any,
    run_cli: Any,
) -> None:
    base, names = folder
    done = run_cli(["-vv", "ls", f"_aws:{base}"], environ)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == names
    assert sentinel not in done.stdout + done.stderr

    denied = make_proxy(rule=deny("ListSecrets"))
    done = run_cli(["ls", f"_aws:{base}"], through(denied, environ))
    assert done.returncode == 1
    assert "secretsmanager:ListSecrets" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_server_repeating_its_page_token_is_an_error(
    environ: dict[str, str], make_proxy: Any
) -> None:
    def same_page(request: SeenRequest) -> CannedResponse | None:
        if request.operation != "ListSecrets":
            return None
        body = json.dumps({"SecretList": [{"Name": "loop/a"}], "NextToken": "again"})
        return CannedResponse(200, body.encode(), dict(AMZ_JSON))

    proxy = make_proxy(rule=same_page)
    provider = provider_for(through(proxy, environ))
    try:
        with pytest.raises(envsecrets.ProviderError, match="same page twice"):
            list(provider.list_names("loop/"))
    finally:
        provider.close()
    assert proxy.operations() == {"ListSecrets": 2}


def test_ls_keys_of_a_literal_secret_says_it_has_none(
    environ: dict[str, str], sm: Any, unique: Any, sentinel: str, run_cli: Any
) -> None:
    name = unique("literal")
    sm.create_secret(Name=name, SecretString=f"plain {sentinel}")
    done = run_cli(["ls", f"_aws:{name}:"], environ)
    assert done.returncode == 1
    assert done.stderr == (
        f"envsecrets: error: _aws:{name}:: the secret is a literal secret (not JSON), it has "
        f"no keys: _aws:{name} returns it whole\n"
    )
    assert sentinel not in done.stdout + done.stderr
