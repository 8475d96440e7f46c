"""A long-lived resolver's resources: named workers that exit, a bounded
cache, and slow backends that cannot starve other prefixes (issue 15)."""

from __future__ import annotations

import contextlib
import gc
import json
import threading
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import envsecrets
from envsecrets import _pool
from tests.support.plugins import DictPlugin, make_dict_provider


@pytest.fixture
def release() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()  # let hung fetches end after the test


def envsecrets_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("envsecrets-")]


def test_workers_are_named_and_exit_when_the_resolver_is_collected() -> None:
    provider = make_dict_provider({f"s{i}": {"k": "v"} for i in range(8)}, prefix="gcd")
    for _ in range(5):  # never closed: only garbage collection ends them
        resolver = envsecrets.Resolver(
            {}, plugins=[DictPlugin(provider)], entry_points=False, max_workers=4
        )
        resolver.resolve({f"V{i}": f"_gcd:s{i}:k" for i in range(8)})
        assert any(t.name.startswith("envsecrets-gcd-") for t in envsecrets_threads())
        del resolver
        gc.collect()
    workers = [t for t in envsecrets_threads() if t.name.startswith("envsecrets-gcd-")]
    for thread in workers:
        thread.join(timeout=5)
        assert not thread.is_alive(), thread.name


def test_close_stops_the_workers() -> None:
    provider = make_dict_provider({f"s{i}": {"k": "v"} for i in range(4)}, prefix="closing")
    with envsecrets.Resolver({}, plugins=[DictPlugin(provider)], entry_points=False) as resolver:
        resolver.resolve({f"V{i}": f"_closing:s{i}:k" for i in range(4)})
        workers = [t for t in envsecrets_threads() if t.name.startswith("envsecrets-closing-")]
        assert workers
    for worker in workers:
        worker.join(timeout=5)
        assert not worker.is_alive()


def test_idle_workers_exit_on_their_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_pool, "IDLE_SECONDS", 0.05)
    pool = _pool.DaemonPool(3, "idle")
    futures = [pool.submit(int, "1") for _ in range(3)]
    assert [future.result() for future in futures] == [1, 1, 1]
    for thread in [t for t in threading.enumerate() if "envsecrets-idle-" in t.name]:
        thread.join(timeout=5)
        assert not thread.is_alive()
    assert pool.submit(int, "2").result(timeout=5) == 2  # a new worker starts


def test_a_hung_prefix_never_starves_another(release: threading.Event) -> None:
    class Hung(envsecrets.Provider):
        prefix = "hung"

        def fetch(self, name: str) -> envsecrets.Document:
            release.wait(60)
            return {"k": "late"}

    fast = make_dict_provider({"cfg": {"k": "v"}}, prefix="fast")
    resolver = envsecrets.Resolver(
        {}, plugins=[DictPlugin(Hung, fast)], entry_points=False, max_workers=4
    )
    with resolver:
        for index in range(100):
            # The hung prefix never answers: its failure does not depend on
            # timing, and the other prefix gets a generous deadline.
            with pytest.raises(envsecrets.ResolutionError) as caught:
                resolver.resolve({"H": f"_hung:h{index}:k"}, timeout=0.01)
            assert [failure.variable for failure in caught.value.failures] == ["H"]
            assert resolver.resolve({"F": "_fast:cfg:k"}, timeout=30) == {"F": "v"}
        hung = [t for t in envsecrets_threads() if t.name.startswith("envsecrets-hung-")]
        assert len(hung) <= 4  # abandoned fetches are bounded by the pool
        assert len(fast.calls) == 100


def test_fetches_still_queued_at_the_deadline_never_start(release: threading.Event) -> None:
    started: list[str] = []

    class Slow(envsecrets.Provider):
        prefix = "slow"

        def fetch(self, name: str) -> envsecrets.Document:
            started.append(name)
            release.wait(60)
            return {"k": "late"}

    resolver = envsecrets.Resolver(
        {}, plugins=[DictPlugin(Slow)], entry_points=False, max_workers=2
    )
    with resolver, pytest.raises(envsecrets.ResolutionError):
        resolver.resolve({f"V{i}": f"_slow:s{i}:k" for i in range(10)}, timeout=0.05)
    release.set()
    assert len(started) == 2


def test_the_cache_is_bounded_and_evicts_expired_entries() -> None:
    clock = [0.0]
    provider = make_dict_provider({f"s{i}": {"k": str(i)} for i in range(10)})
    resolver = envsecrets.Resolver(
        {},
        plugins=[DictPlugin(provider)],
        entry_points=False,
        cache_ttl=10,
        cache_size=4,
        clock=lambda: clock[0],
    )
    every = {f"V{i}": f"_dict:s{i}:k" for i in range(10)}

    def fetches(env: dict[str, str]) -> int:
        before = len(provider.calls)
        resolver.resolve(env)
        return len(provider.calls) - before

    with resolver:
        assert fetches(every) == 10
        assert fetches(every) == 6  # only 4 of them were held
        assert fetches(every) == 6
        clock[0] = 11.0
        assert fetches(every) == 10  # expired documents are never served
        # Expired entries go first: s3 is the least recently used document,
        # yet the expired ones make room for s4, and s3 stays.
        clock[0] = 100.0
        for name in ("s0", "s1", "s2"):
            assert fetches({"V": f"_dict:{name}:k"}) == 1
        clock[0] = 108.0
        assert fetches({"V": "_dict:s3:k"}) == 1
        clock[0] = 109.0
        assert fetches({"A": "_dict:s0:k", "B": "_dict:s1:k", "C": "_dict:s2:k"}) == 0
        clock[0] = 111.0  # s0, s1, s2 expired; s3 held until 118
        assert fetches({"V": "_dict:s4:k"}) == 1
        assert fetches({"V": "_dict:s3:k"}) == 0


def test_pointer_indexes_are_ascii_digits_only() -> None:
    provider = make_dict_provider({"cfg": '{"a": ["x", "y", "z"]}'})
    with envsecrets.Resolver({}, plugins=[DictPlugin(provider)], entry_points=False) as resolver:
        assert resolver.resolve({"A": "_dict:cfg:/a/2"}) == {"A": "z"}
        for pointer in ("/a/\u00b2", "/a/\u0662", "/a/\U0001d7d0"):
            with pytest.raises(envsecrets.ResolutionError) as caught:
                resolver.resolve({"A": f"_dict:cfg:{pointer}"})
            assert isinstance(caught.value.failures[0].error, envsecrets.KeyNotFound)


def test_list_keys_gives_names_and_types_only() -> None:
    provider = make_dict_provider({"cfg": '{"p": "SECRET", "n": 1.50, "b": false, "o": {}}'})
    with envsecrets.Resolver({}, plugins=[DictPlugin(provider)], entry_points=False) as resolver:
        keys = resolver.list_keys("dict", "cfg")
        assert [(k.key, k.json_type) for k in keys] == [
            ("b", "boolean"),
            ("n", "number"),
            ("o", "object"),
            ("p", "string"),
        ]
        assert "SECRET" not in repr(keys)
        with pytest.raises(envsecrets.ListingNotSupported):
            resolver.list_names("dict", "")
        assert not resolver.can_list("dict")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    document=st.dictionaries(st.text(max_size=4), json_values, max_size=4),
    tokens=st.lists(st.text(max_size=4) | st.integers(-2, 5).map(str), min_size=1, max_size=4),
)
def test_any_pointer_into_arrays_resolves_or_fails_as_a_resolution_error(
    document: dict[str, object], tokens: list[str]
) -> None:
    provider = make_dict_provider({"doc": json.dumps(document)}, prefix="fuzz")
    pointer = "/" + "/".join(tokens)
    if ":" in pointer:  # the key would be split at its last colon
        pointer = pointer.replace(":", "")
    resolver = envsecrets.Resolver({}, plugins=[DictPlugin(provider)], entry_points=False)
    with resolver, contextlib.suppress(envsecrets.ResolutionError):
        resolver.resolve({"A": f"_fuzz:doc:{pointer}"})
