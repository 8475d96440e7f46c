"""A long-lived resolver shared by an agent's sessions: threads, token reuse,
re-login after a real revocation, the opt-in cache, memory and the disk.

Requests and logins are counted at a proxy in front of the real servers,
not by the code under test.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import textwrap
import threading
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import envsecrets
import envsecrets_aws
import envsecrets_vault
from tests.conftest import SENTINEL
from tests.faults.conftest import AWS_SECRETS, VAULT_SECRETS, Servers, aws_environ
from tests.support.plugins import DictPlugin
from tests.vault.conftest import Proxy as VaultProxy
from testservers.faults import Seen
from testservers.openbao import approle_env
from testservers.proxy import Proxy as FaultProxy
from testservers.stubs import Trickler

THREADS = 200
LOGIN = "POST /v1/auth/approle/login"

ENV = {variable: reference for variable, (reference, _) in {**AWS_SECRETS, **VAULT_SECRETS}.items()}
EXPECTED = {variable: value for variable, (_, value) in {**AWS_SECRETS, **VAULT_SECRETS}.items()}


def is_login(request: Seen) -> bool:
    return request.operation == LOGIN


def is_vault_read(request: Seen) -> bool:
    return request.method == "GET" and request.path.startswith("/v1/")


@pytest.fixture
def proxies(
    servers: Servers, fault_proxy: Callable[..., FaultProxy]
) -> tuple[FaultProxy, FaultProxy]:
    # Vault's counts leave out the mount lookups (one per mount and client).
    return fault_proxy(servers.moto_url), fault_proxy(servers.bao.address, VaultProxy)


@pytest.fixture
def agent_environ(
    servers: Servers, proxies: tuple[FaultProxy, FaultProxy], tmp_path: Path
) -> dict[str, str]:
    aws, vault = proxies
    return {
        **aws_environ(aws.url, tmp_path),
        **approle_env(vault.url, servers.approle["batch"]),
    }


@pytest.fixture
def make_resolver() -> Iterator[Callable[..., envsecrets.Resolver]]:
    made: list[envsecrets.Resolver] = []

    def make(environ: dict[str, str], **options: object) -> envsecrets.Resolver:
        resolver = envsecrets.Resolver(
            environ,
            plugins=[envsecrets_aws, envsecrets_vault],
            entry_points=False,
            **options,  # type: ignore[arg-type]
        )
        made.append(resolver)
        return resolver

    yield make
    for resolver in made:
        resolver.close()


def hammer(resolver: envsecrets.Resolver, threads: int = THREADS) -> list[object]:
    """Resolve ENV once on each of *threads* threads, all released at once."""
    barrier = threading.Barrier(threads)
    results: list[object] = [None] * threads

    def session(index: int) -> None:
        barrier.wait()
        try:
            results[index] = resolver.resolve(ENV, timeout=60)
        except Exception as error:  # reported by the assertion below
            results[index] = error

    workers = [threading.Thread(target=session, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    return results


def test_200_threads_share_one_resolver_one_login(
    agent_environ: dict[str, str],
    proxies: tuple[FaultProxy, FaultProxy],
    make_resolver: Callable[..., envsecrets.Resolver],
) -> None:
    aws, vault = proxies
    resolver = make_resolver(agent_environ)
    results = hammer(resolver)
    assert all(result == EXPECTED for result in results), {repr(r)[:200] for r in results}
    # Without a cache each resolution fetches its secrets: one batch call each...
    assert aws.operations() == {"BatchGetSecretValue": THREADS}
    # ...one AppRole login for every thread, and at most two reads per
    # resolution (concurrent reads of one path share a request).
    assert vault.count(is_login) == 1
    assert 2 <= vault.count(is_vault_read) - 1 <= 2 * THREADS


def test_cache_ttl_fetches_each_secret_exactly_once_under_200_threads(
    agent_environ: dict[str, str],
    proxies: tuple[FaultProxy, FaultProxy],
    make_resolver: Callable[..., envsecrets.Resolver],
) -> None:
    aws, vault = proxies
    resolver = make_resolver(agent_environ, cache_ttl=300)
    results = hammer(resolver)
    assert all(result == EXPECTED for result in results), {repr(r)[:200] for r in results}
    # 200 sessions starting together, one request per secret (the two AWS
    # secrets share one batch call).
    assert aws.operations() == {"BatchGetSecretValue": 1}
    assert vault.operations() == {
        LOGIN: 1,
        "GET /v1/secret/data/faults/app": 1,
        "GET /v1/kv1/faults/db": 1,
    }
    # Later sessions are served from memory.
    for _ in range(50):
        assert resolver.resolve(ENV) == EXPECTED
    assert aws.count() + vault.count() == 4


def test_a_few_hundred_resolutions_through_real_servers_reuse_clients_and_token(
    agent_environ: dict[str, str],
    proxies: tuple[FaultProxy, FaultProxy],
    make_resolver: Callable[..., envsecrets.Resolver],
) -> None:
    aws, vault = proxies
    resolver = make_resolver(agent_environ)
    threads_before = threading.active_count()
    for _ in range(300):
        assert resolver.resolve(ENV) == EXPECTED
    assert aws.operations() == {"BatchGetSecretValue": 300}
    assert vault.count(is_login) == 1
    assert vault.count(is_vault_read) == 1 + 600 - 1  # 600 reads, the login is a POST
    # The pool is bounded: no thread per resolution piles up.
    assert threading.active_count() <= threads_before + 16 + 2


def revoke_tokens_of_role(servers: Servers, role: str) -> int:
    """Revoke, with the root token, every token issued to AppRole *role*."""
    bao = servers.bao
    status, body = bao.request("LIST", "auth/token/accessors")
    assert status == 200, body
    revoked = 0
    for accessor in body["data"]["keys"]:
        status, info = bao.request("POST", "auth/token/lookup-accessor", {"accessor": accessor})
        meta = (info or {}).get("data", {}).get("meta") or {}
        if status == 200 and meta.get("role_name") == role:
            bao.api("POST", "auth/token/revoke-accessor", {"accessor": accessor})
            revoked += 1
    return revoked


def test_a_really_revoked_token_causes_one_more_login(
    servers: Servers,
    proxies: tuple[FaultProxy, FaultProxy],
    make_resolver: Callable[..., envsecrets.Resolver],
) -> None:
    _, vault = proxies
    environ = approle_env(vault.url, servers.approle["service"])
    resolver = make_resolver(environ)
    env = {"VAULT_PASS": VAULT_SECRETS["VAULT_PASS"][0]}
    expected = {"VAULT_PASS": VAULT_SECRETS["VAULT_PASS"][1]}
    assert resolver.resolve(env) == expected
    assert resolver.resolve(env) == expected
    assert vault.count(is_login) == 1
    assert revoke_tokens_of_role(servers, "faults-service") >= 1
    vault.reset()
    assert resolver.resolve(env) == expected  # 403, one login, the read again
    assert vault.operations() == {LOGIN: 1, "GET /v1/secret/data/faults/app": 2}
    tokens = [r.headers.get("x-vault-token") for r in vault.requests if is_vault_read(r)]
    assert tokens[0] != tokens[1], "the read after the 403 carries the new token"
    vault.reset()
    assert resolver.resolve(env) == expected  # the new token is reused
    assert vault.operations() == {"GET /v1/secret/data/faults/app": 1}


class MemoryProvider(envsecrets.Provider):
    """In-memory documents; keeps nothing per call (unlike the counting DictProvider)."""

    prefix = "mem"
    documents: dict[str, envsecrets.Document] = {
        f"s{n}": {"password": f"{SENTINEL}-{n}", "port": 5432} for n in range(4)
    }

    def fetch(self, name: str) -> envsecrets.Document:
        return self.documents[name]


def test_memory_is_flat_over_10000_resolutions() -> None:
    env = {f"V{n}": f"_mem:s{n % 4}:password" for n in range(6)}
    env.update({"PORT": "_mem:s0:port", "PLAIN": "x" * 100})
    plugin = DictPlugin(MemoryProvider)
    with envsecrets.Resolver({}, plugins=[plugin], entry_points=False) as resolver:
        for _ in range(200):  # warm-up: pool threads, interpreter caches
            assert resolver.resolve(env)["V1"] == f"{SENTINEL}-1"
        gc.collect()
        tracemalloc.start()
        try:
            for _ in range(1_000):
                resolver.resolve(env)
            gc.collect()
            first = tracemalloc.take_snapshot()
            for _ in range(9_000):
                resolver.resolve(env)
            gc.collect()
            last = tracemalloc.take_snapshot()
        finally:
            tracemalloc.stop()
    diff = last.compare_to(first, "lineno")
    growth = sum(stat.size_diff for stat in diff)
    # A leak of a single 50-byte object per resolution would be 450 KB over
    # the 9,000; allow a seventh of that for noise.
    assert growth < 64 * 1024, [str(stat) for stat in diff[:5]]


NO_DISK_SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    import envsecrets
    from tests.support.plugins import DictPlugin, make_dict_provider

    SENTINEL = sys.argv[1]
    provider = make_dict_provider({"db": {"password": SENTINEL}})
    env = {"PASS": "_dict:db:password", "CFG": "_envjson:CONFIG:password"}
    environ = {"CONFIG": json.dumps({"password": SENTINEL + "-envjson"})}
    resolver = envsecrets.Resolver(
        environ, plugins=[DictPlugin(provider)], cache_ttl=300,
    )
    resolver.resolve(env)  # imports and plugin loading happen here, before the hook
    writes = []

    def hook(event, args):
        if event == "open":
            path, mode, flags = args
            if (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)
            ):
                writes.append((event, str(path)))
        elif event in {"os.rename", "os.replace", "os.link", "os.symlink", "shutil.copyfile",
                       "tempfile.mkstemp", "tempfile.mkdtemp", "os.mkdir", "os.truncate"}:
            writes.append((event, str(args[0])))

    sys.addaudithook(hook)
    for _ in range(100):
        assert resolver.resolve(env)["PASS"] == SENTINEL
    print(json.dumps({"writes": writes, "fetches": len(provider.calls)}))
    """
)


def test_the_cache_is_memory_only(tmp_path: Path) -> None:
    home, tmp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    tmp.mkdir()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "TMPDIR": str(tmp),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "PYTHONPATH": os.getcwd(),
        "PYTHONDONTWRITEBYTECODE": "1",
        "ENVSECRETS_DISABLE_PLUGINS": "aws,vault,file",
    }
    completed = subprocess.run(
        [sys.executable, "-c", NO_DISK_SCRIPT, SENTINEL],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout)
    assert report["fetches"] == 1, "the cache served the later resolutions"
    assert report["writes"] == [], "a resolution with the cache on wrote to the file system"
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert SENTINEL.encode() not in path.read_bytes(), path


def test_a_trickling_vault_never_starves_another_prefix() -> None:
    """Issue 15's starvation run: 100 sequential resolutions on one
    Resolver(max_workers=4) against a Vault that trickles its answers; the
    _envjson resolutions between them all succeed and threads stay bounded."""
    document = json.dumps({"a": SENTINEL})
    seen_threads: list[int] = []
    with Trickler(interval=0.2) as vault:
        environ = {
            "VAULT_ADDR": vault.url,
            "VAULT_TOKEN": "trickle-token",
            "VAULT_HTTP_REQ_TIMEOUT": "2s",
            "CFG": document,
        }
        with envsecrets.Resolver(environ, max_workers=4) as resolver:
            for index in range(100):
                # The trickled answer takes minutes: this one cannot win.
                with pytest.raises(envsecrets.ResolutionError) as caught:
                    resolver.resolve({"H": f"_vaultkv2:app{index}:password"}, timeout=0.05)
                assert isinstance(caught.value.failures[0].error, envsecrets.DeadlineExceeded)
                assert resolver.resolve({"J": "_envjson:CFG:a"}, timeout=30) == {"J": SENTINEL}
                seen_threads.append(
                    sum(1 for t in threading.enumerate() if t.name.startswith("envsecrets-"))
                )
    # Each prefix holds at most max_workers workers (4 for Vault, 1 for envjson).
    assert max(seen_threads) <= 4 + 4
    # Requests abandoned at the deadline were bounded by VAULT_HTTP_REQ_TIMEOUT
    # or cancelled before they started: far fewer than 100 connections.
    assert vault.connections < 100
