"""Provider.prepare: called once per provider before its first call, on the
fetch workers, one provider at a time across the process; never for a
prefix the run does not use; a failure is reported for each reference and
prepared again on the next resolution."""

from __future__ import annotations

import threading
import time

import pytest

import envsecrets
from envsecrets import Resolver
from tests.support.plugins import DictPlugin, make_dict_provider

PREPARING = threading.Lock()


class Record:
    """What the prepare() calls of the providers of one test did."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.threads: set[int] = set()
        self.active = 0
        self.peak = 0
        self.failures_left: dict[str, int] = {}


def preparing(prefix: str, record: Record, documents: dict[str, str]) -> type[envsecrets.Provider]:
    base = make_dict_provider(documents, prefix=prefix)

    def prepare(self: envsecrets.Provider) -> None:
        with PREPARING:
            record.calls.append(prefix)
            record.threads.add(threading.get_ident())
            record.active += 1
            record.peak = max(record.peak, record.active)
        try:
            time.sleep(0.02)  # an SDK import: long enough for another to overlap it
            if record.failures_left.get(prefix, 0):
                record.failures_left[prefix] -= 1
                raise envsecrets.ProviderError(f"the _{prefix} client cannot be built: no region")
        finally:
            with PREPARING:
                record.active -= 1

    return type(f"Preparing_{prefix}", (base,), {"prepare": prepare})


def resolver(*classes: type[envsecrets.Provider]) -> Resolver:
    return Resolver({}, plugins=[DictPlugin(*classes)], entry_points=False)


def test_providers_prepare_one_at_a_time_on_the_workers_once_each() -> None:
    record = Record()
    classes = [preparing(p, record, {f"n{i}": "v" for i in range(5)}) for p in ("a", "b", "c")]
    env = {f"{p.upper()}{i}": f"_{p}:n{i}" for p in ("a", "b", "c") for i in range(5)}
    with resolver(*classes) as session:
        assert session.resolve(env) == dict.fromkeys(env, "v")
        assert session.resolve(env) == dict.fromkeys(env, "v")
    assert sorted(record.calls) == ["a", "b", "c"]
    assert record.peak == 1
    assert threading.get_ident() not in record.threads


def test_an_unused_prefix_is_never_prepared_nor_a_check_without_fetch() -> None:
    record = Record()
    used, unused = preparing("a", record, {"n": "v"}), preparing("b", record, {"n": "v"})
    with resolver(used, unused) as session:
        assert [r.ok for r in session.check({"X": "_a:n", "Y": "_b:n"})] == [True, True]
        assert record.calls == []
        assert session.resolve({"X": "_a:n"}) == {"X": "v"}
    assert record.calls == ["a"]


def test_a_failed_prepare_fails_each_reference_and_runs_again_next_time() -> None:
    record = Record()
    record.failures_left["a"] = 2  # the two fetches of the first resolution each try
    with resolver(preparing("a", record, {"n": "v", "m": "w"})) as session:
        with pytest.raises(envsecrets.ResolutionError) as failed:
            session.resolve({"X": "_a:n", "Y": "_a:m"})
        assert [f.variable for f in failed.value.failures] == ["X", "Y"]
        assert "the _a client cannot be built: no region" in str(failed.value)
        assert session.resolve({"X": "_a:n", "Y": "_a:m"}) == {"X": "v", "Y": "w"}
    assert record.calls == ["a", "a", "a"]


def test_listing_prepares_the_provider_first() -> None:
    record = Record()
    base = preparing("a", record, {})

    class Listing(base):  # type: ignore[misc,valid-type]
        def list_names(self, prefix: str) -> list[str]:
            assert record.calls == ["a"], "list_names before prepare"
            return ["one", "two"]

    with resolver(Listing) as session:
        assert session.list_names("a").names == ["one", "two"]
