"""Fetching: every secret a resolution needs, concurrently, up to a deadline.

Each prefix has its own bounded pool of daemon workers, so fetches abandoned
on a hung backend cannot starve the others. A batching provider gets chunks
of ``max_batch`` names; the names its ``fetch_many`` leaves out are fetched
singly on the same pool (providers start no threads). With the optional TTL
cache on, concurrent resolutions share one fetch per secret (single flight).
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from concurrent.futures import Future, wait
from functools import partial

from envsecrets._pool import DaemonPool
from envsecrets.errors import DeadlineExceeded, EnvsecretsError, ProviderError
from envsecrets.provider import Document, FetchResult, Provider, serving_a_request
from envsecrets.results import SecretId

_Slot = Future[FetchResult]  # filled with one secret's document or error
_Work = Callable[[], Mapping[str, FetchResult]]


class Fetcher:
    """Fetches secret documents for one resolver; thread-safe.

    :param provider: returns the provider of a prefix.
    :param prepare: called on the worker before each fetch of a prefix
        (the provider's :meth:`~envsecrets.Provider.prepare`, once).
    :param max_workers: most fetches running at once for each prefix.
    :param cache_ttl: seconds a fetched document is reused; ``None`` keeps
        nothing (and loads no cache library).
    :param cache_size: most documents the cache holds.
    :param clock: the cache's clock.
    """

    def __init__(
        self,
        provider: Callable[[str], Provider],
        *,
        prepare: Callable[[str], object],
        max_workers: int,
        cache_ttl: float | None,
        cache_size: int,
        clock: Callable[[], float],
    ) -> None:
        self._provider = provider
        self._prepare = prepare
        self._max_workers = max_workers
        self._lock = threading.Lock()
        self._closed = False
        self._pools: dict[str, DaemonPool] = {}  # by prefix
        self._finalizer = weakref.finalize(self, _shut_down, self._pools)
        self._cache: MutableMapping[SecretId, Document] | None = None
        if cache_ttl is not None:
            from cachetools import TTLCache  # only for long-lived resolvers

            self._cache = TTLCache(maxsize=cache_size, ttl=cache_ttl, timer=clock)
        self._inflight: dict[SecretId, _Slot] = {}  # with the cache: one fetch each

    def __repr__(self) -> str:
        return f"<Fetcher pools={sorted(self._pools)} cache={self._cache is not None}>"

    def fetch(self, ids: Iterable[SecretId], deadline: float) -> dict[SecretId, FetchResult]:
        """Return the document or the error of every secret in *ids*; one
        still missing at *deadline* (a ``time.monotonic()`` value) gets a
        :class:`DeadlineExceeded`."""
        documents: dict[SecretId, FetchResult] = {}
        slots: dict[SecretId, _Slot] = {}
        mine: dict[SecretId, _Slot] = {}
        for secret_id in sorted(ids):
            cached, slot, fetch_it = self._claim(secret_id)
            if cached is not None:
                documents[secret_id] = cached
            else:
                slots[secret_id] = slot  # maybe another resolution's fetch
                if fetch_it:
                    mine[secret_id] = slot
        tasks = self._submit(mine)
        documents.update(settled(slots, deadline))
        if self._cache is None:
            # Nobody else waits for these: fetches still queued never start.
            for task in tasks:
                task.cancel()
        return documents

    def close(self) -> None:
        """Drop the cache and stop the workers (busy ones after their fetch)."""
        with self._lock:
            self._closed = True
            if self._cache is not None:
                self._cache.clear()
            self._inflight.clear()
        self._finalizer()

    def _claim(self, secret_id: SecretId) -> tuple[Document | None, _Slot, bool]:
        """Return (the cached document, the slot its fetch will fill, whether
        this resolution must fetch it).

        With the cache on, concurrent resolutions share one fetch per secret
        (single flight): 200 sessions starting at once cost one request each.
        """
        slot: _Slot = Future()
        cache = self._cache if self._caching(secret_id[0]) else None
        if cache is None:
            return None, slot, True
        with self._lock:
            document = cache.get(secret_id)  # expired entries are gone
            if document is not None:
                return document, slot, False
            shared = self._inflight.get(secret_id)
            if shared is not None:
                return None, shared, False
            if not self._closed:
                self._inflight[secret_id] = slot
            return None, slot, True

    def _caching(self, prefix: str) -> bool:
        """Whether documents of *prefix* go through the cache: not when a
        resident agent serves a request and the provider declares no
        settings (no backend: it reads the request's own variables, as
        ``_envjson`` does, which no other client may be served)."""
        if self._cache is None:
            return False
        return not (serving_a_request() and not self._provider(prefix).settings)

    def _submit(self, slots: Mapping[SecretId, _Slot]) -> list[Future[None]]:
        """Start the fetches of *slots*: one per name, or one per chunk for
        batching providers; each fills the slots of its names when it ends."""
        by_prefix: dict[str, list[str]] = {}
        for prefix, name in slots:
            by_prefix.setdefault(prefix, []).append(name)
        tasks: list[Future[None]] = []
        for prefix, names in by_prefix.items():
            provider = self._provider(prefix)  # built during parsing already
            pool = self._pool(prefix)
            size = max(1, provider.max_batch)
            for start in range(0, len(names), size):
                chunk = names[start : start + size]
                work: _Work
                if size == 1:
                    work = partial(_fetch_one, provider, chunk[0])
                else:
                    work = partial(provider.fetch_many, chunk)
                theirs = {name: slots[(prefix, name)] for name in chunk}
                tasks.append(pool.submit(self._fetch_and_settle, prefix, theirs, work))
        return tasks

    def _pool(self, prefix: str) -> DaemonPool:
        pool = self._pools.get(prefix)
        if pool is None:
            with self._lock:
                if self._closed:
                    raise EnvsecretsError("the resolver is closed")
                pool = self._pools.setdefault(prefix, DaemonPool(self._max_workers, prefix))
        return pool

    def _fetch_and_settle(self, prefix: str, slots: Mapping[str, _Slot], work: _Work) -> None:
        """Run one fetch and hand its outcome to its *slots*, caching documents.

        Runs on a worker, to the end, even after its resolution gave up on it.
        """
        answers: Mapping[str, FetchResult] = {}
        error: BaseException | None = None
        try:
            self._prepare(prefix)
            answers = work()
        except Exception as failure:  # reported per name through the slots
            error = failure
        if error is None and len(answers) < len(slots):
            # A batch that left names out (refused, partial): each of them
            # is fetched singly, as its own task on this prefix's pool.
            left = [name for name in slots if name not in answers]
            answers = dict(answers)
            for name in left:
                try:
                    work = partial(_fetch_one, self._provider(prefix), name)
                    self._pool(prefix).submit(
                        self._fetch_and_settle, prefix, {name: slots[name]}, work
                    )
                except (EnvsecretsError, RuntimeError) as closed:  # the resolver closed meanwhile
                    answers[name] = closed
                else:
                    slots = {other: slot for other, slot in slots.items() if other != name}
        for name, slot in slots.items():
            answer = answers.get(name, error)
            if answer is None:
                answer = ProviderError(f"the _{prefix} provider returned nothing for {name!r}")
            cache = self._cache if self._caching(prefix) else None
            if cache is not None:
                with self._lock:
                    if not isinstance(answer, BaseException) and not self._closed:
                        cache[(prefix, name)] = answer
                    if self._inflight.get((prefix, name)) is slot:
                        del self._inflight[(prefix, name)]
            slot.set_result(answer)


def settled(slots: Mapping[SecretId, _Slot], deadline: float) -> dict[SecretId, FetchResult]:
    """Wait for *slots* up to *deadline* (a ``time.monotonic()`` value): the
    document or the error each holds, a :class:`DeadlineExceeded` for each
    one still empty then."""
    wait(slots.values(), timeout=max(0.0, deadline - time.monotonic()))
    return {
        (prefix, name): slot.result()
        if slot.done()
        else DeadlineExceeded(
            f"no answer from the _{prefix} provider for {name!r} before the deadline"
        )
        for (prefix, name), slot in slots.items()
    }


def _fetch_one(provider: Provider, name: str) -> Mapping[str, FetchResult]:
    try:
        return {name: provider.fetch(name)}
    except Exception as error:
        return {name: error}


def _shut_down(pools: dict[str, DaemonPool]) -> None:
    for pool in list(pools.values()):
        pool.shutdown()
