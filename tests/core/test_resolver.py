from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

import envsecrets
from tests.conftest import SENTINEL, assert_no_sentinel
from tests.support.plugins import DictPlugin, DictProvider, make_dict_provider

DOCS: dict[str, envsecrets.Document] = {
    "db": '{"user": "app", "password": "' + SENTINEL + '", "port": 5432, "ratio": 1.50}',
    "token": SENTINEL + "-literal",
    "parsed": {"port": 5432, "flag": True, "none": None},
    "text": "not json " + SENTINEL,
}


def resolver_for(*providers: type[envsecrets.Provider], **options: object) -> envsecrets.Resolver:
    return envsecrets.Resolver({}, plugins=[DictPlugin(*providers)], entry_points=False, **options)  # type: ignore[arg-type]


@pytest.fixture
def provider() -> type[DictProvider]:
    return make_dict_provider(DOCS)


def test_references_are_replaced_and_plain_values_kept_in_order(
    provider: type[DictProvider],
) -> None:
    env = {
        "PLAIN": "hello",
        "USER": "_dict:db:user",
        "PORT": "_dict:db:port",
        "RATIO": "_dict:db:ratio",
        "TOKEN": "_dict:token",
        "FLAG": "_dict:parsed:flag",
        "NONE": "_dict:parsed:none",
        "WHOLE": "_dict:parsed",
        "NOTREF": "_dict-x:y",
    }
    result = resolver_for(provider).resolve(env)
    assert list(result) == list(env)
    assert result == {
        "PLAIN": "hello",
        "USER": "app",
        "PORT": "5432",
        "RATIO": "1.50",
        "TOKEN": SENTINEL + "-literal",
        "FLAG": "true",
        "NONE": "",
        "WHOLE": '{"port":5432,"flag":true,"none":null}',
        "NOTREF": "_dict-x:y",
    }


def test_each_secret_is_fetched_once_per_resolution(provider: type[DictProvider]) -> None:
    env = {f"V{i}": f"_dict:db:{key}" for i, key in enumerate(["user", "password", "port"] * 5)}
    env["T"] = "_dict:token"
    resolver = resolver_for(provider)
    resolver.resolve(env)
    assert sorted(provider.calls) == ["db", "token"]
    resolver.resolve(env)
    assert sorted(provider.calls) == ["db", "db", "token", "token"]  # no cache by default


def test_distinct_secrets_are_fetched_concurrently_within_the_pool_bound() -> None:
    # Every fetch waits until 8 fetches run at once: the resolution can
    # only succeed if the pool runs 8 concurrently, and peak says never more.
    together = threading.Barrier(8)

    class Gathering(envsecrets.Provider):
        prefix = "gather"
        lock = threading.Lock()
        active = peak = 0

        def fetch(self, name: str) -> envsecrets.Document:
            cls = type(self)
            with cls.lock:
                cls.active += 1
                cls.peak = max(cls.peak, cls.active)
            try:
                together.wait(timeout=30)
            finally:
                with cls.lock:
                    cls.active -= 1
            return "{}"

    env = {f"V{i}": f"_gather:s{i}" for i in range(40)}
    assert resolver_for(Gathering, max_workers=8).resolve(env, timeout=60) == dict.fromkeys(
        env, "{}"
    )
    assert Gathering.peak == 8


def test_failures_are_aggregated_and_nothing_is_returned(
    provider: type[DictProvider], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    env = {
        "GOOD": "_dict:db:password",
        "NOKEY": "_dict:db:nope",
        "NODOC": "_dict:missing:key",
        "NOTOBJ": "_dict:text:key",
        "NOPROVIDER": "_nosuch:app:key",
        "EMPTYKEY": "_dict:db:",
        "LITERAL": "_dict:token",
    }
    resolver = resolver_for(provider)
    with pytest.raises(envsecrets.ResolutionError) as info:
        resolver.resolve(env)
    error = info.value
    assert [f.variable for f in error.failures] == [
        "NOKEY",
        "NODOC",
        "NOTOBJ",
        "NOPROVIDER",
        "EMPTYKEY",
    ]
    message = str(error)
    assert message.startswith("5 references could not be resolved:")
    assert "NOKEY=_dict:db:nope: the secret has no key 'nope'" in message
    assert "NODOC=_dict:missing:key: no document 'missing'" in message
    assert "NOTOBJ=_dict:text:key: the secret is not valid JSON" in message
    assert "no installed provider serves the prefix _nosuch" in message
    assert "EMPTYKEY=_dict:db:: the key after the last ':' is empty" in message
    assert_no_sentinel(message, repr(error), repr(error.failures), caplog.text, repr(resolver))
    assert isinstance(error.failures[1].error, envsecrets.SecretNotFound)


def test_a_provider_that_leaks_a_value_is_withheld_whole(caplog: pytest.LogCaptureFixture) -> None:
    class Leaky(envsecrets.Provider):
        prefix = "leaky"

        def fetch(self, name: str) -> envsecrets.Document:
            if name == "good":
                return SENTINEL
            raise envsecrets.ProviderError(f"bad answer {SENTINEL} for {name}")

    with pytest.raises(envsecrets.ResolutionError) as info:
        resolver_for(Leaky).resolve({"A": "_leaky:good", "B": "_leaky:bad"})
    # Replaced whole by a fixed text, never masked in place (issue 19).
    assert "B=_leaky:bad: the _leaky provider's message was withheld" in str(info.value)
    assert "***" not in str(info.value)
    assert isinstance(info.value.failures[0].error, envsecrets.ProviderError)
    assert_no_sentinel(str(info.value), caplog.text)


def test_foreign_exceptions_are_wrapped_without_their_text() -> None:
    class Broken(envsecrets.Provider):
        prefix = "broken"

        def fetch(self, name: str) -> envsecrets.Document:
            raise KeyError(SENTINEL)

    with pytest.raises(envsecrets.ResolutionError) as info:
        resolver_for(Broken).resolve({"A": "_broken:x"})
    assert "the _broken provider failed (KeyError)" in str(info.value)
    assert_no_sentinel(str(info.value), repr(info.value.failures))
    assert info.value.__cause__ is None


def test_a_provider_that_cannot_start_fails_only_its_references(
    provider: type[DictProvider],
) -> None:
    class NoStart(envsecrets.Provider):
        prefix = "nostart"

        def __init__(self, environ: Mapping[str, str]) -> None:
            raise RuntimeError(SENTINEL)

    resolver = resolver_for(provider, NoStart)
    with pytest.raises(envsecrets.ResolutionError) as info:
        resolver.resolve({"A": "_nostart:x", "B": "_dict:db:user"})
    assert [f.variable for f in info.value.failures] == ["A"]
    assert "could not start (RuntimeError)" in str(info.value)
    assert_no_sentinel(str(info.value))


def test_the_deadline_bounds_the_whole_resolution() -> None:
    # The fetches never end by themselves: returning at all, with the
    # deadline's error for both, is the deadline's doing.
    release = threading.Event()

    class Hanging(envsecrets.Provider):
        prefix = "hang"

        def fetch(self, name: str) -> envsecrets.Document:
            release.wait(60)
            return {"k": "late"}

    try:
        with pytest.raises(envsecrets.ResolutionError) as info:
            resolver_for(Hanging).resolve({"A": "_hang:a:k", "B": "_hang:b:k"}, timeout=0.3)
    finally:
        release.set()
    assert all(isinstance(f.error, envsecrets.DeadlineExceeded) for f in info.value.failures)
    assert [f.variable for f in info.value.failures] == ["A", "B"]


def test_a_secret_arriving_after_the_deadline_changes_nothing() -> None:
    """A fast secret's value is ready; a slow one misses the deadline, and
    its late answer neither reaches the failed outcome nor upsets the
    resolver, which keeps working."""
    release = threading.Event()
    arrived = threading.Event()

    class Uneven(envsecrets.Provider):
        prefix = "uneven"

        def fetch(self, name: str) -> envsecrets.Document:
            if name == "slow":
                release.wait(5)
                arrived.set()
                return {"k": SENTINEL + "-late"}
            return {"k": "fast"}

    resolver = resolver_for(Uneven)
    with pytest.raises(envsecrets.ResolutionError) as info:
        resolver.resolve({"A": "_uneven:fast:k", "B": "_uneven:slow:k"}, timeout=0.5)
    assert [f.variable for f in info.value.failures] == ["B"]
    assert isinstance(info.value.failures[0].error, envsecrets.DeadlineExceeded)
    release.set()  # the slow answer now arrives, after its resolution ended
    assert arrived.wait(5)
    time.sleep(0.1)
    assert_no_sentinel(str(info.value))
    assert_no_sentinel(repr(info.value.failures))
    assert resolver.resolve({"A": "_uneven:fast:k"}) == {"A": "fast"}


def test_batching_providers_get_chunks_of_max_batch() -> None:
    batches: list[list[str]] = []
    singles: list[str] = []
    lock = threading.Lock()

    class Batching(envsecrets.Provider):
        prefix = "batch"
        max_batch = 20

        def fetch_many(self, names: Iterable[str]) -> Mapping[str, envsecrets.provider.FetchResult]:
            names = list(names)
            with lock:
                batches.append(names)
            return {n: {"v": n} for n in names if n not in {"s7", "s8"}}

        def fetch(self, name: str) -> envsecrets.Document:
            with lock:
                singles.append(name)
            if name == "s7":
                raise envsecrets.SecretNotFound(f"no secret {name!r}")
            return {"v": f"{name} alone"}

    env = {f"V{i}": f"_batch:s{i % 45}:v" for i in range(90)}
    with pytest.raises(envsecrets.ResolutionError) as info:
        resolver_for(Batching).resolve(env)
    assert sorted(len(b) for b in batches) == [5, 20, 20]
    # Names a batch leaves out are fetched singly by the core.
    assert sorted(singles) == ["s7", "s8"]
    assert {f.variable for f in info.value.failures} == {"V7", "V52"}
    assert "no secret 's7'" in str(info.value)
    del env["V7"], env["V52"]
    resolved = resolver_for(Batching).resolve(env)
    assert resolved["V8"] == resolved["V53"] == "s8 alone"
    assert resolved["V9"] == "s9"


def test_a_batch_that_raises_fails_only_its_own_names() -> None:
    class Failing(envsecrets.Provider):
        prefix = "batch"
        max_batch = 2

        def fetch_many(self, names: Iterable[str]) -> Mapping[str, envsecrets.provider.FetchResult]:
            if "bad" in names:
                raise envsecrets.ProviderError("the batch call failed")
            return {n: {"v": n} for n in names}

    env = {"A": "_batch:bad:v", "B": "_batch:b:v", "C": "_batch:c:v"}
    with pytest.raises(envsecrets.ResolutionError) as info:
        resolver_for(Failing).resolve(env)
    failed = {f.variable for f in info.value.failures}
    assert "A" in failed
    assert "the batch call failed" in str(info.value)


def test_the_default_fetch_many_leaves_every_name_to_fetch(provider: type[DictProvider]) -> None:
    assert provider({}).fetch_many(["db", "missing", "token", "db"]) == {}

    class Batched(provider):  # type: ignore[valid-type,misc]
        max_batch = 2

    env = {"U": "_dict:db:user", "T": "_dict:token", "M": "_dict:missing:x"}
    with pytest.raises(envsecrets.ResolutionError) as info:
        resolver_for(Batched).resolve(env)
    assert [f.variable for f in info.value.failures] == ["M"]
    assert isinstance(info.value.failures[0].error, envsecrets.SecretNotFound)
    del env["M"]
    assert resolver_for(Batched).resolve(env) == {"U": "app", "T": DOCS["token"]}


def test_nul_characters_cannot_reach_the_environment() -> None:
    provider = make_dict_provider({"x": '{"k": "a\\u0000b"}', "y": "a\x00" + SENTINEL})
    with pytest.raises(envsecrets.ResolutionError) as info:
        resolver_for(provider).resolve({"A": "_dict:x:k", "B": "_dict:y"})
    assert "NUL" in str(info.value)
    assert len(info.value.failures) == 2
    assert_no_sentinel(str(info.value))


def test_cache_is_off_by_default_and_honours_its_ttl(provider: type[DictProvider]) -> None:
    now = [0.0]
    resolver = resolver_for(provider, cache_ttl=30, clock=lambda: now[0])
    for _ in range(3):
        resolver.resolve({"A": "_dict:db:user"})
    now[0] = 29.9  # still fresh
    resolver.resolve({"A": "_dict:db:user"})
    assert provider.calls == ["db"]
    now[0] = 30.1  # expired
    resolver.resolve({"A": "_dict:db:user"})
    assert provider.calls == ["db", "db"]
    resolver.close()
    with pytest.raises(envsecrets.ResolutionError, match="closed"):
        resolver.resolve({"A": "_dict:db:user"})


def test_one_resolver_is_safe_to_share_across_threads(provider: type[DictProvider]) -> None:
    resolver = resolver_for(provider)
    env = {"U": "_dict:db:user", "P": "_dict:db:port", "F": "_dict:parsed:flag"}
    results: list[dict[str, str]] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(20):
                results.append(resolver.resolve(env))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(results) == 320
    assert all(r == {"U": "app", "P": "5432", "F": "true"} for r in results)


def test_check_reports_without_values(provider: type[DictProvider]) -> None:
    resolver = resolver_for(provider)
    env = {"PLAIN": SENTINEL, "A": "_dict:db:password", "B": "_dict:missing:k", "C": "_nope:x"}
    quick = resolver.check(env)
    assert [(r.variable, r.ok) for r in quick] == [("A", True), ("B", True), ("C", False)]
    assert provider.calls == []
    fetched = resolver.check(env, fetch=True)
    assert [(r.variable, r.ok) for r in fetched] == [("A", True), ("B", False), ("C", False)]
    assert_no_sentinel(repr(quick), repr(fetched), *(str(r.error) for r in fetched))


def test_get_resolves_one_reference(provider: type[DictProvider]) -> None:
    resolver = resolver_for(provider)
    assert resolver.get("_dict:db:port") == "5432"
    with pytest.raises(envsecrets.ReferenceSyntaxError, match="not a reference"):
        resolver.get("plain")


def test_resolve_env_reads_settings_from_environ_and_documents_from_env() -> None:
    class FromEnv(envsecrets.Provider):
        prefix = "fromenv"

        def fetch(self, name: str) -> envsecrets.Document:
            setting = self.environ.get("FROMENV_SETTING", "unset")
            return {"data": self.variables[name], "setting": setting}

    env = {
        "CONFIG": "value-of-config",
        "FROMENV_SETTING": "from-the-variables",
        "A": "_fromenv:CONFIG:data",
        "S": "_fromenv:CONFIG:setting",
    }
    plugins = [DictPlugin(FromEnv)]
    resolved = envsecrets.resolve_env(env, environ={"FROMENV_SETTING": "real"}, plugins=plugins)
    # Documents may come from the variables; settings only from environ.
    assert (resolved["A"], resolved["S"]) == ("value-of-config", "real")


def test_reprs_hold_no_values(provider: type[DictProvider]) -> None:
    resolver = resolver_for(provider)
    reference = resolver.parse("_dict:db:password")
    assert reference is not None
    resolver.resolve({"A": "_dict:db:password"})
    assert_no_sentinel(repr(resolver), repr(reference), repr(resolver.provider("dict")))


def test_the_public_names_are_importable_from_the_package_and_the_resolver_module() -> None:
    from envsecrets import resolver

    for name in ("Reference", "CheckResult", "KeyInfo", "NameListing", "Resolver", "resolve_env"):
        assert getattr(resolver, name) is getattr(envsecrets, name), name
        assert name in envsecrets.__all__
    assert resolver.DEFAULT_TIMEOUT == 30.0
    assert resolver.DEFAULT_MAX_WORKERS == 64
    assert resolver.DEFAULT_LIST_LIMIT == 1000


CACHE_PROBE = """
import sys, envsecrets
from tests.support.plugins import DictPlugin, make_dict_provider
provider = make_dict_provider({"s": {"k": "v"}})
options = {"cache_ttl": 60} if sys.argv[1] == "ttl" else {}
with envsecrets.Resolver({}, plugins=[DictPlugin(provider)], entry_points=False, **options) as r:
    assert r.resolve({"V": "_dict:s:k"}) == {"V": "v"}
print("cachetools" in sys.modules)
"""


@pytest.mark.parametrize(("mode", "loaded"), [("plain", "False"), ("ttl", "True")])
def test_the_cache_library_loads_only_for_a_resolver_with_a_ttl(mode: str, loaded: str) -> None:
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", CACHE_PROBE, mode], capture_output=True, text=True, cwd=root
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == loaded
