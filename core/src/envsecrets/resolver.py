"""Resolution: turn a mapping with references into one with secrets.

Each distinct (prefix, name) is fetched once per resolution, all of them
concurrently on a bounded pool; a deadline bounds the whole; any failure
fails the whole resolution (fail closed) with one error that lists every
failing variable.

The :class:`Resolver` is the facade: its providers live in
:mod:`envsecrets.providers_in_use`, fetching in :mod:`envsecrets.fetching`,
references that need other variables of the set in
:mod:`envsecrets.siblings` (resolved after those, layer by layer),
value extraction in :mod:`envsecrets.extraction` and the last pass over
failure messages (escaped, never shaped by a value) in
:mod:`envsecrets.redaction`.
"""

from __future__ import annotations

import logging
import os
import time
from collections import ChainMap
from collections.abc import Callable, Iterable, Mapping
from functools import partial

from envsecrets import grammar, values
from envsecrets.errors import (
    DocumentError,
    EnvsecretsError,
    Failure,
    ProviderError,
    ReferenceSyntaxError,
    ResolutionError,
)
from envsecrets.extraction import as_error, extract_all, log_provider_bug
from envsecrets.fetching import Fetcher
from envsecrets.plugins import Registry
from envsecrets.provider import FetchResult, Provider, provider_can_list
from envsecrets.providers_in_use import ProvidersInUse
from envsecrets.redaction import finished
from envsecrets.results import CheckResult, KeyInfo, NameListing, Reference, SecretId
from envsecrets.siblings import SiblingFetcher, SiblingValues, failed_siblings, plan

__all__ = [
    "DEFAULT_CACHE_SIZE",
    "DEFAULT_LIST_LIMIT",
    "DEFAULT_MAX_WORKERS",
    "DEFAULT_TIMEOUT",
    "CheckResult",
    "KeyInfo",
    "NameListing",
    "Reference",
    "Resolver",
    "resolve_env",
]

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 30.0
#: Fetches running at once: a hundred distinct Vault paths go out in two
#: rounds of requests, not four (see docs/performance.md).
DEFAULT_MAX_WORKERS = 64
#: Most documents the optional TTL cache holds.
DEFAULT_CACHE_SIZE = 1024
#: Most names ``list_names`` returns unless told otherwise.
DEFAULT_LIST_LIMIT = 1000


class _Outcome:
    """What one run found. A plain class: a dataclass costs ~1 ms of every
    start-up to define, and this one never leaves the resolver (its default
    repr shows no value)."""

    __slots__ = ("failures", "references", "values")

    def __init__(
        self, values: dict[str, str], failures: list[Failure], references: dict[str, Reference]
    ) -> None:
        self.values = values
        self.failures = failures
        self.references = references


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
        variables = ChainMap(dict(data), dict(self.environ)) if data else self.environ
        self.timeout = timeout
        self.cache_ttl = cache_ttl
        self._providers = ProvidersInUse(self.environ, variables, plugins, entry_points)
        fetcher = partial(
            Fetcher,
            self._providers.get,
            prepare=self._providers.ready,
            max_workers=max_workers,
            cache_size=cache_size,
            clock=clock,
        )
        self._fetcher = fetcher(cache_ttl=cache_ttl)
        # Providers that declare cacheable = False (short-lived tokens) skip
        # the TTL cache: with one on, they have an uncached fetcher of their own.
        self._uncached = self._fetcher if cache_ttl is None else fetcher(cache_ttl=None)
        self._siblings = SiblingFetcher(self._providers.ready, max_workers)

    def __repr__(self) -> str:
        return f"<Resolver providers={self._providers.prefixes()} cache_ttl={self.cache_ttl}>"

    def __enter__(self) -> Resolver:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def registry(self) -> Registry:
        """The plugins and providers, loaded on first use."""
        return self._providers.registry

    def provider(self, prefix: str) -> Provider:
        """Return the provider instance for *prefix*, building it on first use."""
        return self._providers.get(prefix)

    def parse(self, text: str) -> Reference | None:
        """Parse *text*; ``None`` for a plain value.

        :raise EnvsecretsError: for a bad reference or an unknown prefix.
        """
        parts = grammar.split(text)
        if parts is None:
            return None
        prefix, rest = parts
        name, key = self._providers.get(prefix).split(rest)
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
                f"not a reference: expected _PREFIX:NAME[:KEY], PREFIX in {grammar.PREFIX_RULE}"
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
        try:
            names = sorted(set(self._providers.ready(prefix).list_names(name_prefix)))
        except EnvsecretsError:
            raise
        except Exception as error:  # a foreign text may quote anything: its type only
            # A bug of the provider: where, at -vv, as for a fetch.
            doing = f" to list {name_prefix!r}"
            log_provider_bug(error, prefix, doing)
            raise ProviderError(
                f"the _{prefix} provider failed{doing} ({type(error).__name__})"
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
        self._providers.get(prefix)  # an unknown prefix fails here, plainly
        documents = self._fetch({reference.secret_id}, self._deadline(timeout))
        document = documents[reference.secret_id]
        if isinstance(document, BaseException):
            failure = Failure("NAME", reference.text, as_error(document, prefix))
            raise ResolutionError([failure])
        parsed: object = document
        if isinstance(document, str) and not isinstance(document, values.JSONNumber):
            try:
                parsed = values.parse_json(document)
            except DocumentError:  # not JSON: a literal secret, read whole (never quoted)
                raise DocumentError(
                    f"the secret is a literal secret (not JSON), it has no keys: "
                    f"{reference.text} returns it whole"
                ) from None
        obj = values.as_object(parsed)
        return [KeyInfo(str(key), values.json_type(value)) for key, value in sorted(obj.items())]

    def close(self) -> None:
        """Close every provider and drop cached documents."""
        self._fetcher.close()
        self._uncached.close()
        self._siblings.close()
        self._providers.close()

    # -- the work ------------------------------------------------------------

    def _deadline(self, timeout: float | None) -> float:
        return time.monotonic() + (self.timeout if timeout is None else timeout)

    def _fetch(self, ids: set[SecretId], deadline: float) -> dict[SecretId, FetchResult]:
        """Fetch *ids*, those of uncacheable providers past the TTL cache."""
        if self._uncached is self._fetcher:
            return self._fetcher.fetch(ids, deadline)
        fresh = {i for i in ids if not type(self._providers.get(i[0])).cacheable}
        documents = self._fetcher.fetch(ids - fresh, deadline)
        documents.update(self._uncached.fetch(fresh, deadline))
        return documents

    def _run(self, env: Mapping[str, str], *, fetch: bool, timeout: float | None) -> _Outcome:
        deadline = self._deadline(timeout)
        run = _Outcome({}, [], {})
        for variable, text in env.items():
            try:
                reference = self.parse(text)
            except EnvsecretsError as error:
                run.failures.append(Failure(variable, text, error))
                continue
            if reference is None:
                run.values[variable] = text
            else:
                run.references[variable] = reference
        references = run.references
        needs = self._needs(references)
        layers: list[list[str]] = []
        if needs:
            layers, unresolvable = plan(needs, env)
            run.failures += [Failure(v, references[v].text, e) for v, e in unresolvable.items()]
        if not fetch:
            return _Outcome(run.values, finished(run.failures, {}, {}, references), references)

        alone = {v: r for v, r in references.items() if v not in needs}
        documents = self._fetch({reference.secret_id for reference in alone.values()}, deadline)
        _extract(alone, documents, run)
        for layer in layers:
            self._resolve_layer(layer, needs, run, documents, deadline)
        result, failures = run.values, run.failures
        if failures:
            order = {variable: index for index, variable in enumerate(env)}
            failures.sort(key=lambda failure: order[failure.variable])
            failures = finished(failures, documents, result, references)
            result = {}
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

    def _needs(self, references: Mapping[str, Reference]) -> dict[str, tuple[str, ...]]:
        """The variables whose reference needs siblings, and which."""
        needs = {}
        for variable, reference in references.items():
            siblings = type(self._providers.get(reference.prefix)).siblings(reference.name)
            if siblings:
                needs[variable] = tuple(siblings)
        return needs

    def _resolve_layer(
        self,
        layer: list[str],
        needs: Mapping[str, tuple[str, ...]],
        run: _Outcome,
        documents: dict[SecretId, FetchResult],
        deadline: float,
    ) -> None:
        """Resolve the dependent variables of one layer, whose siblings are
        resolved (or failed) by now; their documents join *documents*."""
        failed = {failure.variable for failure in run.failures}
        requests: dict[SecretId, SiblingValues] = {}
        ready: dict[str, Reference] = {}
        for variable in layer:
            reference = run.references[variable]
            error = failed_siblings(needs[variable], failed)
            if error is not None:
                run.failures.append(Failure(variable, reference.text, error))
                continue
            ready[variable] = reference
            values = {sibling: run.values[sibling] for sibling in needs[variable]}
            requests[reference.secret_id] = SiblingValues(values)
        documents.update(self._siblings.fetch(requests, deadline))
        _extract(ready, documents, run)


def _extract(
    references: Mapping[str, Reference], documents: Mapping[SecretId, FetchResult], run: _Outcome
) -> None:
    """Add the value, or the failure, of each variable in *references* to *run*."""
    for variable, value in extract_all(references, documents).items():
        if isinstance(value, str):
            run.values[variable] = value
        else:
            run.failures.append(Failure(variable, references[variable].text, value))


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
