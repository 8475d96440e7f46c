"""Cross-variable references: a reference whose document depends on the
resolved values of other variables of the same set, its *siblings*.

The original agent's RDS IAM pair is the model: ``PASS=_aws_iam_rds:authtoken``
is a token for the role's ``HOST``, ``PORT`` and ``USER``, which may
themselves be references (``HOST=_aws:db:host``). A provider names the
siblings of a NAME (:meth:`envsecrets.Provider.siblings`); this module
orders the dependent variables into layers (:func:`plan`: every sibling of a
layer is resolved before it, a missing sibling or a cycle is an error naming
the variables) and runs their fetches with the sibling values
(:class:`SiblingFetcher`, on the resolver's own pool, up to the deadline,
never cached). The resolver resolves everything else first, then each layer.

The values handed to a provider are a :class:`SiblingValues`, whose repr
names the variables only: they may be secrets, fetched or not.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterator, Mapping
from concurrent.futures import Future

from envsecrets._pool import DaemonPool
from envsecrets.errors import EnvsecretsError, SiblingError
from envsecrets.fetching import settled
from envsecrets.provider import FetchResult, Provider
from envsecrets.results import SecretId

__all__ = ["SiblingFetcher", "SiblingValues", "failed_siblings", "plan"]

#: Variable -> the sibling variables its reference needs (never empty).
Needs = Mapping[str, tuple[str, ...]]


class SiblingValues(Mapping[str, str]):
    """The resolved values of the siblings a provider asked for, by
    variable. Its repr names the variables, never a value."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = dict(values)

    def __getitem__(self, variable: str) -> str:
        return self._values[variable]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"<SiblingValues {sorted(self._values)}>"


def plan(
    needs: Needs, variables: Collection[str]
) -> tuple[list[list[str]], dict[str, SiblingError]]:
    """Order the dependent variables of *needs* into layers, each needing
    only variables outside it and outside every later layer.

    :param variables: every variable of the set.
    :return: the layers (sorted names) and the variables that cannot be
        resolved at all: a sibling is not set, or they are in a cycle.
    """
    failures: dict[str, SiblingError] = {}
    for variable, siblings in needs.items():
        missing = [sibling for sibling in siblings if sibling not in variables]
        if missing:
            failures[variable] = SiblingError(
                f"needs {_listed(siblings)} of the same variables; "
                f"{_listed(missing)} {'is' if len(missing) == 1 else 'are'} not set"
            )
    if not needs:
        return [], failures

    from graphlib import CycleError, TopologicalSorter  # only for dependent references

    graph = {
        variable: {sibling for sibling in siblings if sibling in needs}
        for variable, siblings in needs.items()
        if variable not in failures
    }
    while True:
        for variable in graph:
            graph[variable] &= graph.keys()
        sorter = TopologicalSorter(graph)
        try:
            sorter.prepare()
        except CycleError as error:
            # [A, B, A]: each node before the one that needs it. Reversed
            # ("needs" order) and started at the least name, so that the
            # message does not depend on hash order.
            cycle: list[str] = error.args[1][:0:-1]
            first = cycle.index(min(cycle))
            cycle = cycle[first:] + cycle[:first]
            path = " -> ".join([*cycle, cycle[0]])
            for variable in cycle:
                failures[variable] = SiblingError(
                    f"its siblings form a cycle: {path} (each needs the next)"
                )
                del graph[variable]
            continue
        break
    layers = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        layers.append(ready)
        sorter.done(*ready)
    return layers, failures


def failed_siblings(siblings: tuple[str, ...], failed: Collection[str]) -> SiblingError | None:
    """The error of a variable whose siblings include *failed* ones."""
    broken = [sibling for sibling in siblings if sibling in failed]
    if not broken:
        return None
    verb = "fails" if len(broken) == 1 else "fail"
    return SiblingError(f"needs {_listed(siblings)}; {_listed(broken)} {verb} (see there)")


class SiblingFetcher:
    """Runs the fetches that need sibling values, concurrently on one
    bounded pool of the resolver, up to the deadline; never cached (each
    depends on the values of one resolution).

    :param provider: returns the provider of a prefix.
    :param max_workers: most such fetches running at once.
    """

    def __init__(self, provider: Callable[[str], Provider], max_workers: int) -> None:
        self._provider = provider
        self._max_workers = max_workers
        self._lock = threading.Lock()
        self._pool: DaemonPool | None = None
        self._closed = False

    def __repr__(self) -> str:
        return f"<SiblingFetcher started={self._pool is not None}>"

    def fetch(
        self, requests: Mapping[SecretId, SiblingValues], deadline: float
    ) -> dict[SecretId, FetchResult]:
        """Return the document or the error of every secret in *requests*,
        each fetched with its sibling values; one still missing at
        *deadline* (a ``time.monotonic()`` value) gets a
        :class:`DeadlineExceeded`."""
        if not requests:
            return {}
        pool = self._started()
        tasks: dict[SecretId, Future[FetchResult]] = {
            (prefix, name): pool.submit(self._fetch_one, prefix, name, values)
            for (prefix, name), values in requests.items()
        }
        documents = settled(tasks, deadline)
        for task in tasks.values():  # those still queued never start
            task.cancel()
        return documents

    def close(self) -> None:
        """Stop the workers (busy ones after their fetch)."""
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown()

    def _started(self) -> DaemonPool:
        with self._lock:
            if self._closed:
                raise EnvsecretsError("the resolver is closed")
            if self._pool is None:
                self._pool = DaemonPool(self._max_workers, "siblings")
            return self._pool

    def _fetch_one(self, prefix: str, name: str, values: SiblingValues) -> FetchResult:
        try:
            return self._provider(prefix).fetch_with_siblings(name, values)
        except Exception as error:  # reported for its variable by the resolver
            return error


def _listed(names: Collection[str]) -> str:
    """``HOST``, ``HOST and PORT``, ``HOST, PORT and USER``."""
    names = list(names)
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]
