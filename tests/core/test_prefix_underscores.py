"""Prefixes with underscores (issue 20): ``_aws_iam_rds:authtoken`` is a
reference, so an unknown one fails instead of becoming a password."""

from __future__ import annotations

import pytest

import envsecrets
from envsecrets.plugins import load_registry
from tests.support.plugins import DictPlugin, make_dict_provider


def resolver(*providers: type[envsecrets.Provider]) -> envsecrets.Resolver:
    return envsecrets.Resolver({}, plugins=[DictPlugin(*providers)], entry_points=False)


@pytest.mark.parametrize("value", ["_aws_iam_rds:authtoken", "_foo_bar:x", "_a_:b"])
def test_an_unserved_underscore_prefix_is_an_error_never_passed_through(value: str) -> None:
    with pytest.raises(envsecrets.ResolutionError) as info:
        resolver(make_dict_provider({})).resolve({"PASS": value, "PLAIN": "kept"})
    [failure] = info.value.failures
    assert failure.variable == "PASS"
    assert isinstance(failure.error, envsecrets.ProviderNotInstalled)
    prefix = value[1:].partition(":")[0]
    assert f"no installed provider serves the prefix _{prefix}" in str(failure.error)


def test_check_reports_an_unserved_underscore_prefix() -> None:
    [result] = resolver(make_dict_provider({})).check({"PASS": "_foo_bar:x"})
    assert not result.ok
    assert isinstance(result.error, envsecrets.ProviderNotInstalled)


def test_a_provider_may_serve_a_prefix_with_underscores() -> None:
    served = make_dict_provider({"db": '{"user": "app"}'}, prefix="dict_x")
    assert resolver(served).resolve({"U": "_dict_x:db:user"}) == {"U": "app"}
    assert resolver(served).get("_dict_x:db:user") == "app"


def test_the_rds_prefix_names_its_distribution() -> None:
    registry = load_registry(environ={}, entry_points=False)
    with pytest.raises(envsecrets.ProviderNotInstalled, match="pip install envsecrets-aws"):
        registry.get("aws_iam_rds")
