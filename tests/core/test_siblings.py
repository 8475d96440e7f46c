"""The cross-variable mechanism (envsecrets.siblings): a reference that needs
the resolved values of other variables of its set, with a test provider."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping

import pytest

import envsecrets
from envsecrets.errors import SiblingError
from envsecrets.siblings import SiblingValues, plan
from tests.conftest import SENTINEL, assert_no_sentinel
from tests.support.plugins import DictPlugin, make_dict_provider


class JoinProvider(envsecrets.Provider):
    """``_join:A+B`` is the values of variables A and B joined by ``-``
    (it needs them as siblings); ``_join:word`` is ``word`` itself."""

    prefix = "join"
    description = "Joins sibling values (tests)."
    calls: list[tuple[str, str]] = []
    seen: list[object] = []
    delay = 0.0
    lock = threading.Lock()

    @classmethod
    def siblings(cls, name: str) -> tuple[str, ...]:
        return tuple(name.split("+")) if "+" in name else ()

    def fetch(self, name: str) -> envsecrets.Document:
        return name

    def fetch_with_siblings(self, name: str, siblings: Mapping[str, str]) -> envsecrets.Document:
        with self.lock:
            type(self).calls.append((name, repr(siblings)))
            type(self).seen.append(siblings)
        if self.delay:
            time.sleep(self.delay)
        joined = "-".join(siblings[variable] for variable in self.siblings(name))
        if joined.startswith("fail"):
            # A provider that breaks its promise and quotes a sibling value.
            raise envsecrets.ProviderError(f"refused {joined}")
        return joined


@pytest.fixture(autouse=True)
def _fresh_counters() -> None:
    JoinProvider.calls = []
    JoinProvider.seen = []
    JoinProvider.delay = 0.0


DOCS: dict[str, envsecrets.Document] = {
    "db": '{"host": "db.internal", "password": "' + SENTINEL + '"}',
}


def resolver(**options: object) -> envsecrets.Resolver:
    plugin = DictPlugin(JoinProvider, make_dict_provider(DOCS))
    return envsecrets.Resolver({}, plugins=[plugin], entry_points=False, **options)  # type: ignore[arg-type]


def failures(env: Mapping[str, str], **options: object) -> dict[str, str]:
    with pytest.raises(envsecrets.ResolutionError) as info:
        resolver(**options).resolve(env)
    assert_no_sentinel(info.value, *(repr(f) for f in info.value.failures))
    return {failure.variable: str(failure.error) for failure in info.value.failures}


def test_siblings_are_resolved_first_whatever_they_hold() -> None:
    env = {
        "PASS": "_join:HOST+PORT+USER",
        "HOST": "_dict:db:host",
        "PORT": "5432",
        "USER": "_join:app",
    }
    assert resolver().resolve(env) == {
        "PASS": "db.internal-5432-app",
        "HOST": "db.internal",
        "PORT": "5432",
        "USER": "app",
    }


def test_chains_resolve_layer_after_layer() -> None:
    env = {"A": "_join:B+C", "B": "_join:C+D", "C": "_join:D+D", "D": "x"}
    assert resolver().resolve(env) == {"A": "x-x-x-x-x", "B": "x-x-x", "C": "x-x", "D": "x"}
    layers, unresolvable = plan({"A": ("B", "C"), "B": ("C", "D"), "C": ("D",)}, "ABCD")
    assert (layers, unresolvable) == ([["C"], ["B"], ["A"]], {})


def test_a_missing_sibling_is_an_error_naming_it_and_nothing_is_returned() -> None:
    found = failures({"PASS": "_join:HOST+PORT+USER", "HOST": "h", "OTHER": "kept"})
    assert found == {
        "PASS": "needs HOST, PORT and USER of the same variables; PORT and USER are not set"
    }


def test_a_cycle_is_an_error_naming_its_variables() -> None:
    env = {"A": "_join:B+X", "B": "_join:C+X", "C": "_join:A+X", "X": "x", "D": "_join:A+X"}
    found = failures(env)
    cycle = "its siblings form a cycle: A -> B -> C -> A (each needs the next)"
    assert found == {
        "A": cycle,
        "B": cycle,
        "C": cycle,
        "D": "needs A and X; A fails (see there)",
    }
    assert JoinProvider.calls == []


def test_two_cycles_are_both_reported() -> None:
    layers, unresolvable = plan({"A": ("B",), "B": ("A",), "C": ("D",), "D": ("C",)}, "ABCD")
    assert layers == []
    assert {v: str(e) for v, e in unresolvable.items()} == {
        "A": "its siblings form a cycle: A -> B -> A (each needs the next)",
        "B": "its siblings form a cycle: A -> B -> A (each needs the next)",
        "C": "its siblings form a cycle: C -> D -> C (each needs the next)",
        "D": "its siblings form a cycle: C -> D -> C (each needs the next)",
    }


def test_a_variable_needing_itself_is_a_cycle() -> None:
    found = failures({"A": "_join:A+A"})
    assert found == {"A": "its siblings form a cycle: A -> A (each needs the next)"}


def test_a_failing_sibling_fails_its_dependents_too() -> None:
    found = failures({"PASS": "_join:HOST+PORT", "HOST": "_dict:nosuch:host", "PORT": "1"})
    assert set(found) == {"PASS", "HOST"}
    assert found["PASS"] == "needs HOST and PORT; HOST fails (see there)"
    assert "nosuch" in found["HOST"]


def test_check_reports_missing_siblings_and_cycles_without_fetching() -> None:
    results = resolver().check({"A": "_join:B+NOPE", "B": "_join:B+B", "C": "_join:x"})
    by_variable = {result.variable: result for result in results}
    assert isinstance(by_variable["A"].error, SiblingError)
    assert "NOPE is not set" in str(by_variable["A"].error)
    assert isinstance(by_variable["B"].error, SiblingError)
    assert by_variable["C"].ok
    assert JoinProvider.calls == []


def test_the_provider_gets_the_values_it_named_and_their_repr_hides_them() -> None:
    env = {"PASS": "_join:USER+SECRET", "USER": "app", "SECRET": "_dict:db:password"}
    assert resolver().resolve(env)["PASS"] == f"app-{SENTINEL}"
    [(name, shown)] = JoinProvider.calls
    [values] = JoinProvider.seen
    assert name == "USER+SECRET"
    assert isinstance(values, SiblingValues)
    assert dict(values) == {"USER": "app", "SECRET": SENTINEL}
    assert shown == "<SiblingValues ['SECRET', 'USER']>"
    assert_no_sentinel(shown)


def test_a_provider_message_quoting_a_fetched_sibling_is_withheld() -> None:
    docs = {"v": '{"x": "fail-' + SENTINEL + '"}'}
    plugin = DictPlugin(JoinProvider, make_dict_provider(docs))
    with pytest.raises(envsecrets.ResolutionError) as info:
        envsecrets.Resolver({}, plugins=[plugin], entry_points=False).resolve(
            {"A": "_join:B+C", "B": "_dict:v:x", "C": "c"}
        )
    [failure] = info.value.failures
    assert failure.variable == "A"
    assert "withheld" in str(failure.error)
    assert_no_sentinel(info.value)


def test_one_fetch_per_dependent_reference_and_never_cached() -> None:
    now = [0.0]
    cached = resolver(cache_ttl=60, clock=lambda: now[0])
    env = {"P1": "_join:H+U", "P2": "_join:H+U", "H": "h1", "U": "u"}
    assert cached.resolve(env) == {"P1": "h1-u", "P2": "h1-u", "H": "h1", "U": "u"}
    assert len(JoinProvider.calls) == 1
    # The same reference in another set of variables: the other values.
    assert cached.resolve({**env, "H": "h2"})["P1"] == "h2-u"
    assert len(JoinProvider.calls) == 2


def test_an_uncacheable_provider_skips_the_ttl_cache() -> None:
    fresh = make_dict_provider({"t": "token"}, prefix="fresh")
    fresh.cacheable = False
    kept = make_dict_provider({"t": "doc"}, prefix="kept")
    plugin = DictPlugin(fresh, kept)
    with envsecrets.Resolver(
        {}, plugins=[plugin], entry_points=False, cache_ttl=60, clock=lambda: 0.0
    ) as cached:
        for _ in range(3):
            assert cached.resolve({"A": "_fresh:t", "B": "_kept:t"}) == {"A": "token", "B": "doc"}
    assert fresh.calls == ["t", "t", "t"]
    assert kept.calls == ["t"]


def test_a_dependent_fetch_past_the_deadline_fails_closed() -> None:
    JoinProvider.delay = 2.0
    found = failures({"A": "_join:B+B", "B": "b"}, timeout=0.3)
    assert set(found) == {"A"}
    assert "before the deadline" in found["A"]


def test_a_closed_resolver_refuses_dependent_work() -> None:
    closed = resolver()
    closed.close()
    with pytest.raises(envsecrets.EnvsecretsError):
        closed.resolve({"A": "_join:B+B", "B": "b"})
