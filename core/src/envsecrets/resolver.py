"""Resolution: turn a mapping with references into one with secrets.

Each distinct (prefix, name) is fetched once per resolution, all of them
concurrently on a bounded pool; a deadline bounds the whole; any failure
fails the whole resolution (fail closed) with one error that lists every
failing variable.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections import ChainMap
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from concurrent.futures import Future, wait
from dataclasses import dataclass, field
from functools import partial

from envsecrets import grammar, values
from envsecrets._pool import DaemonPool
from envsecrets.errors import (
    DeadlineExceeded,
    DocumentError,
    EnvsecretsError,
    Failure,
    ProviderError,
    ReferenceSyntaxError,
    ResolutionError,
)
from envsecrets.plugins import Registry, load_registry
from envsecrets.provider import (
    Document,
    FetchResult,
    Provider,
    SharedState,
    building,
    provider_can_list,
)

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 30.0
#: Fetches running at once: a hundred distinct Vault paths go out in two
#: rounds of requests, not four (see docs/performance.md).
DEFAULT_MAX_WORKERS = 64
#: Most documents the optional TTL cache holds.
DEFAULT_CACHE_SIZE = 1024
#: Most names ``list_names`` returns unless told otherwise.
DEFAULT_LIST_LIMIT = 1000

_SecretId = tuple[str, str]  # (prefix, name)
_Pending = Future[None]


@dataclass(frozen=True, slots=True)
class Reference:
    """A parsed reference, bound to the provider that serves it."""

    text: str = field(repr=False)
    prefix: str
    name: str
    key: str | None

    @property
    def secret_id(self) -> _SecretId:
        return (self.prefix, self.name)


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The outcome of checking one variable; never holds its value."""

    variable: str
    reference: str
    error: EnvsecretsError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """One key of a secret document and the JSON type of its value (never
    the value): what discovery shows."""

    key: str
    json_type: str


@dataclass(frozen=True, slots=True)
class NameListing:
    """Sorted secret names, at most the limit asked for."""

    names: list[str]
    truncated: bool = False


@dataclass(frozen=True, slots=True)
class _Outcome:
    values: dict[str, str] = field(repr=False)
    failures: list[Failure]
    references: dict[str, Reference]


class Resolver:
    """Resolves environments; long-lived, thread-safe, reuses providers.

    :param environ: the agent's environment, handed to providers for their
        configuration (``VAULT_ADDR``...). Defaults to ``os.environ``. Pass
        the process environment, never variables from files or users: the
        settings decide where credentials are sent.
    :param data: variables that providers may read as documents but never
        as settings (the env files' variables, which ``_envjson`` reads).
    :param timeout: default deadline of one resolution, in seconds.
    :param max_workers: most fetches running at once for each prefix (a slow
        backend cannot hold the workers of another).
    :param cache_ttl: seconds a fetched document is kept in memory and
        reused by later resolutions; ``None`` (the default) keeps nothing.
    :param cache_size: most documents the cache holds; expired ones are
        evicted first.
    :param clock: the cache's clock (tests inject one).
    :param plugins: extra plugin objects to register (modules or instances
        with ``@envsecrets.hookimpl`` functions).
    :param entry_points: whether to load plugins from the ``envsecrets``
        entry-point group.
    """

    def __init__(
        self,
        environ: Mapping[str, str] | None = None,
        *,
        data: Mapping[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_workers: int = DEFAULT_MAX_WORKERS,
        cache_ttl: float | None = None,
        cache_size: int = DEFAULT_CACHE_SIZE,
        clock: Callable[[], float] = time.monotonic,
        plugins: Iterable[object] = (),
        entry_points: bool = True,
    ) -> None:
        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        self._variables: Mapping[str, str] = (
            ChainMap(dict(data), dict(self.environ)) if data else self.environ
        )
        self.timeout = timeout
        self.cache_ttl = cache_ttl
        self._max_workers = max_workers
        self._plugins = tuple(plugins)
        self._entry_points = entry_points
        self._registry: Registry | None = None
        self._providers: dict[str, Provider] = {}
        self._shared: dict[str, SharedState] = {}  # by plugin name
        self._lock = threading.Lock()
        # One pool per prefix, so that fetches abandoned on a hung backend
        # cannot starve the others; shut down on close or garbage collection.
        self._pools: dict[str, DaemonPool] = {}
        self._finalizer = weakref.finalize(self, _shut_down, self._pools)
        self._cache: MutableMapping[_SecretId, Document] = {}
        if cache_ttl is not None:
            from cachetools import TTLCache  # only for long-lived resolvers

            self._cache = TTLCache(maxsize=cache_size, ttl=cache_ttl, timer=clock)
        self._inflight: dict[_SecretId, Future[FetchResult]] = {}  # cache on: one fetch each
        self._closed = False

    def __repr__(self) -> str:
        return f"<Resolver providers={sorted(self._providers)} cache_ttl={self.cache_ttl}>"

    def __enter__(self) -> Resolver:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def registry(self) -> Registry:
        """The plugins and providers, loaded on first use."""
        with self._lock:
            if self._registry is None:
                self._registry = load_registry(
                    environ=self.environ, plugins=self._plugins, entry_points=self._entry_points
                )
            return self._registry

    def provider(self, prefix: str) -> Provider:
        """Return the provider instance for *prefix*, building it on first use."""
        instance = self._providers.get(prefix)  # the hot path: no lock
        if instance is not None and not self._closed:
            return instance
        info = self.registry.get(prefix)
        with self._lock:
            if self._closed:
                raise EnvsecretsError("the resolver is closed")
            instance = self._providers.get(prefix)
            if instance is None:
                try:
                    shared = self._shared.setdefault(info.plugin, SharedState())
                    with building(self._variables, shared):
                        instance = info.provider_class(self.environ)
                except EnvsecretsError:
                    raise
                except Exception as error:
                    raise ProviderError(
                        f"the _{prefix} provider could not start ({type(error).__name__})"
                    ) from None
                self._providers[prefix] = instance
            return instance

    def parse(self, text: str) -> Reference | None:
        """Parse *text*; ``None`` for a plain value.

        :raise EnvsecretsError: for a bad reference or an unknown prefix.
        """
        parts = grammar.split(text)
        if parts is None:
            return None
        prefix, rest = parts
        name, key = self.provider(prefix).split(rest)
        if not name:
            raise ReferenceSyntaxError("the secret name is empty")
        return Reference(text, prefix, name, key)

    # -- public operations -------------------------------------------------

    def resolve(self, env: Mapping[str, str], *, timeout: float | None = None) -> dict[str, str]:
        """Return *env* with every reference replaced by its secret.

        :raise ResolutionError: listing every failing variable; nothing is
            returned when any reference fails.
        """
        outcome = self._run(env, fetch=True, timeout=timeout)
        if outcome.failures:
            raise ResolutionError(outcome.failures)
        return outcome.values

    def get(self, reference: str, *, timeout: float | None = None) -> str:
        """Return the value of one reference."""
        if grammar.parse(reference) is None:
            raise ReferenceSyntaxError(
                "not a reference: expected _PREFIX:NAME[:KEY], PREFIX in [a-z][a-z0-9]*"
            )
        return self.resolve({"REFERENCE": reference}, timeout=timeout)["REFERENCE"]

    def check(
        self, env: Mapping[str, str], *, fetch: bool = False, timeout: float | None = None
    ) -> list[CheckResult]:
        """Check every reference in *env*: syntax and provider, and with
        *fetch* also that it resolves. Never returns a value."""
        outcome = self._run(env, fetch=fetch, timeout=timeout)
        failed = {failure.variable: failure for failure in outcome.failures}
        results = []
        for variable, text in env.items():
            if variable in failed:
                results.append(CheckResult(variable, text, failed[variable].error))
            elif variable in outcome.references:
                results.append(CheckResult(variable, text))
        return results

    def list_names(
        self, prefix: str, name_prefix: str = "", *, limit: int = DEFAULT_LIST_LIMIT
    ) -> NameListing:
        """Return the sorted names the ``_prefix`` provider holds under
        *name_prefix*, at most *limit* of them. Names only, never values.

        :raise ListingNotSupported: the provider cannot list.
        :raise ProviderError: the backend refused or failed.
        """
        provider = self.provider(prefix)
        try:
            names = sorted(set(provider.list_names(name_prefix)))
        except EnvsecretsError:
            raise
        except Exception as error:  # a foreign text may quote anything: its type only
            raise ProviderError(
                f"the _{prefix} provider failed to list {name_prefix!r} ({type(error).__name__})"
            ) from None
        if not all(isinstance(name, str) for name in names):
            raise ProviderError(f"the _{prefix} provider listed something that is not a name")
        return NameListing(names[:limit], len(names) > limit)

    def can_list(self, prefix: str) -> bool:
        """Tell whether the ``_prefix`` provider implements listing."""
        return provider_can_list(self.registry.get(prefix).provider_class)

    def list_keys(self, prefix: str, name: str, *, timeout: float | None = None) -> list[KeyInfo]:
        """Return the keys of the secret *name* with the JSON type of each
        value, sorted. The document is fetched and read in this process;
        only key names and types leave it.

        :raise ResolutionError: when the secret cannot be fetched.
        :raise DocumentError: when it is not a JSON object.
        """
        reference = Reference(f"_{prefix}:{name}", prefix, name, None)
        self.provider(prefix)  # an unknown prefix fails here, plainly
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        documents = self._fetch_all({reference.secret_id}, deadline, _ignore)
        document = documents[reference.secret_id]
        if isinstance(document, BaseException):
            failure = Failure("NAME", reference.text, _as_error(document, prefix))
            raise ResolutionError([failure])
        obj = values.as_object(document)
        return [KeyInfo(str(key), values.json_type(value)) for key, value in sorted(obj.items())]

    def close(self) -> None:
        """Close every provider and drop cached documents."""
        with self._lock:
            providers, self._providers = list(self._providers.values()), {}
            self._shared.clear()
            self._cache.clear()
            self._inflight.clear()
            self._closed = True
        self._finalizer()
        for provider in providers:
            try:
                provider.close()
            except Exception as error:  # closing must not hide the real outcome
                log.warning("closing %r failed: %s", provider, type(error).__name__)

    # -- the work ------------------------------------------------------------

    def _run(self, env: Mapping[str, str], *, fetch: bool, timeout: float | None) -> _Outcome:
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        result: dict[str, str] = {}
        failures: list[Failure] = []
        references: dict[str, Reference] = {}
        for variable, text in env.items():
            try:
                reference = self.parse(text)
            except EnvsecretsError as error:
                failures.append(Failure(variable, text, error))
                continue
            if reference is None:
                result[variable] = text
            else:
                references[variable] = reference
        if not fetch:
            return _Outcome(result, failures, references)

        extraction = _Extraction(self, references)
        documents = self._fetch_all(extraction.ids, deadline, extraction.arrived)
        for variable, value in extraction.finish(documents):
            if isinstance(value, str):
                result[variable] = value
            else:
                failures.append(Failure(variable, references[variable].text, value))
        if failures:
            order = {variable: index for index, variable in enumerate(env)}
            failures.sort(key=lambda failure: order[failure.variable])
            failures = _redacted(failures, documents, result, references)
            result.clear()
        else:
            result = {variable: result[variable] for variable in env}
        log.debug(
            "resolved %d variables: %d references, %d secrets, %d failures",
            len(env),
            len(references),
            len(documents),
            len(failures),
        )
        return _Outcome(result, failures, references)

    def _extract(
        self,
        reference: Reference,
        documents: Mapping[_SecretId, FetchResult],
        parsed: dict[_SecretId, object],
    ) -> str:
        value = self._value(reference, documents, parsed)
        if "\x00" in value:
            raise DocumentError(
                "the value holds a NUL character, which no environment variable can"
            )
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                # A JSON escape such as "\ud800": no process can receive it,
                # and printing it would crash.
                raise DocumentError(
                    "the value holds a lone UTF-16 surrogate (a \\uD800-\\uDFFF escape), "
                    "which is not text"
                ) from None
        return value

    def _value(
        self,
        reference: Reference,
        documents: Mapping[_SecretId, FetchResult],
        parsed: dict[_SecretId, object],
    ) -> str:
        secret_id = reference.secret_id
        key = reference.key
        if key is not None:
            # The hot path: a key of a document already parsed for an
            # earlier reference to the same secret.
            obj = parsed.get(secret_id)
            if obj is not None and not isinstance(obj, EnvsecretsError):
                return values.render(values.lookup(obj, key))  # type: ignore[arg-type]
        document = documents[secret_id]
        if isinstance(document, BaseException):
            raise _as_error(document, reference.prefix)
        if key is None:
            if isinstance(document, str):
                return document
            return values.render(document)
        if secret_id not in parsed:
            try:
                parsed[secret_id] = values.as_object(document)
            except EnvsecretsError as error:
                parsed[secret_id] = error
        obj = parsed[secret_id]
        if isinstance(obj, EnvsecretsError):
            raise obj
        assert isinstance(obj, Mapping)
        return values.render(values.lookup(obj, key))

    def _fetch_all(
        self,
        ids: set[_SecretId],
        deadline: float,
        arrived: Callable[[_SecretId, FetchResult], None],
    ) -> dict[_SecretId, FetchResult]:
        """Fetch *ids*, waiting until *deadline*; *arrived* is called with
        each fetched document (or error) on the thread that fetched it."""
        documents: dict[_SecretId, FetchResult] = {}
        slots: dict[_SecretId, Future[FetchResult]] = {}
        by_prefix: dict[str, list[str]] = {}
        owned: dict[_SecretId, Future[FetchResult]] = {}
        for secret_id in sorted(ids):
            cached, slot, mine = self._claim(secret_id)
            if cached is not None:
                documents[secret_id] = cached
            elif not mine:
                slots[secret_id] = slot  # another resolution is fetching it right now
            else:
                owned[secret_id] = slot
                by_prefix.setdefault(secret_id[0], []).append(secret_id[1])
        slots.update(owned)
        for secret_id, slot in slots.items():
            slot.add_done_callback(partial(_deliver, arrived, secret_id))
        tasks = self._submit(by_prefix, owned)
        wait(slots.values(), timeout=max(0.0, deadline - time.monotonic()))
        if self.cache_ttl is None:
            # Nobody else waits for these: fetches still queued never start.
            for task in tasks:
                task.cancel()
        for (prefix, name), slot in slots.items():
            if slot.done():
                documents[(prefix, name)] = slot.result()
            else:
                documents[(prefix, name)] = DeadlineExceeded(
                    f"no answer from the _{prefix} provider for {name!r} before the deadline"
                )
        return documents

    def _claim(self, secret_id: _SecretId) -> tuple[Document | None, Future[FetchResult], bool]:
        """Return (the cached document, the slot its fetch will fill, whether
        this resolution must fetch it).

        With the cache on, concurrent resolutions share one fetch per secret
        (single flight): 200 sessions starting at once cost one request each.
        """
        slot: Future[FetchResult] = Future()
        if self.cache_ttl is None:
            return None, slot, True
        with self._lock:
            document = self._cache.get(secret_id)  # expired entries are gone
            if document is not None:
                return document, slot, False
            shared = self._inflight.get(secret_id)
            if shared is not None:
                return None, shared, False
            if not self._closed:
                self._inflight[secret_id] = slot
            return None, slot, True

    def _submit(
        self, by_prefix: Mapping[str, list[str]], slots: Mapping[_SecretId, Future[FetchResult]]
    ) -> list[_Pending]:
        """Start the fetches: one per name, or one per chunk for batching
        providers; each fills the *slots* of its names when it ends."""
        tasks: list[_Pending] = []
        for prefix, names in by_prefix.items():
            provider = self.provider(prefix)  # built during parsing already
            pool = self._pool(prefix)
            size = max(1, provider.max_batch)
            for start in range(0, len(names), size):
                chunk = names[start : start + size]
                work: Callable[[], Mapping[str, FetchResult]]
                if size == 1:
                    work = partial(_fetch_one, provider, chunk[0])
                else:
                    work = partial(provider.fetch_many, chunk)
                mine = {name: slots[(prefix, name)] for name in chunk}
                tasks.append(pool.submit(self._fetch_and_settle, prefix, mine, work))
        return tasks

    def _pool(self, prefix: str) -> DaemonPool:
        pool = self._pools.get(prefix)
        if pool is None:
            with self._lock:
                if self._closed:
                    raise EnvsecretsError("the resolver is closed")
                pool = self._pools.setdefault(prefix, DaemonPool(self._max_workers, prefix))
        return pool

    def _fetch_and_settle(
        self,
        prefix: str,
        slots: Mapping[str, Future[FetchResult]],
        work: Callable[[], Mapping[str, FetchResult]],
    ) -> None:
        """Run one fetch and hand its outcome to its *slots*, caching documents.

        Runs on a worker, to the end, even after its resolution gave up on it.
        """
        answers: Mapping[str, FetchResult] = {}
        error: BaseException | None = None
        try:
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
                    work = partial(_fetch_one, self.provider(prefix), name)
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
            if self.cache_ttl is not None:
                with self._lock:
                    if not isinstance(answer, BaseException) and not self._closed:
                        self._cache[(prefix, name)] = answer
                    if self._inflight.get((prefix, name)) is slot:
                        del self._inflight[(prefix, name)]
            slot.set_result(answer)


_Extracted = tuple[str, "str | EnvsecretsError"]  # (variable, value or error)


class _Extraction:
    """The values of one resolution, secret by secret.

    Each secret's values are extracted as soon as its fetch ends, on the
    thread that ended it, while slower fetches are still on their way; what
    is left (cached documents, answers after the deadline, a failed early
    pass) is done by :meth:`finish` on the resolving thread.
    """

    def __init__(self, resolver: Resolver, references: Mapping[str, Reference]) -> None:
        self._resolver = resolver
        self._users: dict[_SecretId, list[tuple[str, Reference]]] = {}
        for variable, reference in references.items():
            self._users.setdefault(reference.secret_id, []).append((variable, reference))
        self._done: dict[_SecretId, list[_Extracted]] = {}
        self._lock = threading.Lock()
        self._open = True

    @property
    def ids(self) -> set[_SecretId]:
        return set(self._users)

    def arrived(self, secret_id: _SecretId, document: FetchResult) -> None:
        """Extract the values of *secret_id*; called on a fetching thread."""
        try:
            outcomes = self._values(secret_id, document)
        except Exception:  # finish() does it again, and reports what fails
            return
        with self._lock:
            if self._open:
                self._done[secret_id] = outcomes

    def finish(self, documents: Mapping[_SecretId, FetchResult]) -> list[_Extracted]:
        """Every (variable, value or error), once the fetches are over."""
        with self._lock:
            self._open = False  # late arrivals change nothing from here on
            done = self._done
        outcomes: list[_Extracted] = []
        for secret_id in self._users:
            extracted = done.get(secret_id)
            if extracted is None:
                extracted = self._values(secret_id, documents[secret_id])
            outcomes += extracted
        return outcomes

    def _values(self, secret_id: _SecretId, document: FetchResult) -> list[_Extracted]:
        documents = {secret_id: document}
        parsed: dict[_SecretId, object] = {}
        outcomes: list[_Extracted] = []
        for variable, reference in self._users[secret_id]:
            try:
                outcomes.append((variable, self._resolver._extract(reference, documents, parsed)))
            except EnvsecretsError as error:
                outcomes.append((variable, error))
            except RecursionError:
                outcomes.append((variable, DocumentError("the secret is nested too deeply")))
        return outcomes


def _deliver(
    arrived: Callable[[_SecretId, FetchResult], None],
    secret_id: _SecretId,
    slot: Future[FetchResult],
) -> None:
    arrived(secret_id, slot.result())


def _ignore(secret_id: _SecretId, document: FetchResult) -> None:
    """An ``arrived`` callback for fetches whose values nobody extracts early."""


def _shut_down(pools: dict[str, DaemonPool]) -> None:
    for pool in list(pools.values()):
        pool.shutdown()


def _fetch_one(provider: Provider, name: str) -> Mapping[str, FetchResult]:
    try:
        return {name: provider.fetch(name)}
    except Exception as error:
        return {name: error}


def _as_error(error: BaseException, prefix: str) -> EnvsecretsError:
    if isinstance(error, EnvsecretsError):
        return error
    # A foreign exception's text may quote anything, a secret included:
    # keep its type only.
    return ProviderError(f"the _{prefix} provider failed ({type(error).__name__})")


def _redacted(
    failures: list[Failure],
    documents: Mapping[_SecretId, FetchResult],
    result: Mapping[str, str],
    references: Mapping[str, Reference],
) -> list[Failure]:
    """Scrub every known secret value from the failure messages.

    Providers promise value-free messages; this catches the one that breaks
    the promise. Short values are skipped: masking "1" would garble text.
    """
    secrets = {value for variable, value in result.items() if variable in references}
    secrets.update(doc for doc in documents.values() if isinstance(doc, str))
    secrets = {secret for secret in secrets if len(secret) >= 4}
    if not secrets:
        return failures
    ordered = sorted(secrets, key=len, reverse=True)
    cleaned = []
    for failure in failures:
        message = str(failure.error)
        scrubbed = message
        for secret in ordered:
            scrubbed = scrubbed.replace(secret, "***")
        if scrubbed == message:
            cleaned.append(failure)
            continue
        try:
            error: EnvsecretsError = type(failure.error)(scrubbed)
        except Exception:
            error = ProviderError(scrubbed)
        cleaned.append(Failure(failure.variable, failure.reference, error))
    return cleaned


def resolve_env(
    env: Mapping[str, str],
    *,
    environ: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    plugins: Iterable[object] = (),
) -> dict[str, str]:
    """Return *env* with every reference replaced by its secret.

    Providers read their configuration (``VAULT_ADDR``...) from *environ*,
    which defaults to ``os.environ``, never from *env*; *env* may hold the
    JSON documents that ``_envjson`` references read.

    :raise ResolutionError: listing every failing variable.
    """
    with Resolver(environ, data=env, timeout=timeout, plugins=plugins) as resolver:
        return resolver.resolve(env)
