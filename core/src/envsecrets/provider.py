"""The base class every provider derives from."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import ClassVar, TypeVar, Union, cast

from envsecrets.errors import ListingNotSupported, ReferenceSyntaxError

T = TypeVar("T")

#: A secret document: a string (maybe JSON text) or an already parsed object.
Document = Union[str, Mapping[str, object]]

#: What ``fetch_many`` returns for each name: the document or the error.
FetchResult = Union[Document, BaseException]

#: A prefix as the reference grammar allows it (without the underscore).
PREFIX_PATTERN = re.compile(r"[a-z][a-z0-9_]*")


class SharedState:
    """Objects the providers of one plugin share within one resolver.

    The Vault plugin serves ``_vaultkv1`` and ``_vaultkv2`` with two provider
    classes; through this they use one client and log in once per resolver.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._objects: dict[str, object] = {}

    def __repr__(self) -> str:
        return f"<SharedState keys={sorted(self._objects)}>"

    def get_or_create(self, key: str, factory: Callable[[], T]) -> T:
        """Return the object stored under *key*, calling *factory* once to make it."""
        with self._lock:
            if key not in self._objects:
                self._objects[key] = factory()
            return cast(T, self._objects[key])


#: The variables of the request being served, where a resident agent set them.
_serving: ContextVar[Mapping[str, str] | None] = ContextVar("envsecrets_serving", default=None)


@contextmanager
def serving(variables: Mapping[str, str]) -> Iterator[None]:
    """Within this block (and the fetches it starts: the core's pool runs
    each task in a copy of its submitter's context), every provider's
    :attr:`Provider.variables` is *variables*: the data of the one request
    a long-lived resolver is serving, never another client's nor the
    agent's own environment."""
    token = _serving.set(variables)
    try:
        yield
    finally:
        _serving.reset(token)


def serving_a_request() -> bool:
    """Tell whether a request's variables are in place (see :func:`serving`)."""
    return _serving.get() is not None


#: What the resolver hands the providers it builds, besides ``environ``.
_building: ContextVar[tuple[Mapping[str, str], SharedState] | None] = ContextVar(
    "envsecrets_building", default=None
)


@contextmanager
def building(variables: Mapping[str, str], shared: SharedState) -> Iterator[None]:
    """Within this block, a provider built as ``ProviderClass(environ)`` (the
    contract's one-argument form, which subclasses may override) receives
    *variables* and *shared* in :meth:`Provider.__init__` itself: no
    attribute is replaced after construction."""
    token = _building.set((variables, shared))
    try:
        yield
    finally:
        _building.reset(token)


def provider_can_list(provider_class: type[Provider]) -> bool:
    """Tell whether *provider_class* implements :meth:`Provider.list_names`."""
    return provider_class.list_names is not Provider.list_names


def setting_matches(name: str, patterns: Iterable[str]) -> bool:
    """Tell whether the variable *name* is one of *patterns*, where an entry
    ending in ``*`` matches every name that starts with the text before it."""
    for pattern in patterns:
        if pattern.endswith("*"):
            if name.startswith(pattern[:-1]):
                return True
        elif name == pattern:
            return True
    return False


class Provider:
    """Serves the references ``_<prefix>:NAME[:KEY]`` from one backend.

    Subclasses set :attr:`prefix` and :attr:`description` and implement
    :meth:`fetch`. The core builds one instance per resolver, lazily, and may
    call :meth:`fetch` from several threads at once.
    """

    #: The prefix served, without underscore: ``"aws"`` serves ``_aws:...``.
    prefix: ClassVar[str]
    #: One line for ``envsecrets providers``.
    description: ClassVar[str] = ""
    #: Most names the core passes to one :meth:`fetch_many` call. With 1 (the
    #: default) the core calls :meth:`fetch` once per name, concurrently.
    max_batch: ClassVar[int] = 1
    #: Environment variables read as configuration. They come from the
    #: process environment only: the CLI refuses an env file that sets one.
    #: An entry ending in ``*`` matches every name that starts with the text
    #: before it (``"AWS_ENDPOINT_URL*"``).
    settings: ClassVar[frozenset[str]] = frozenset()
    #: Among :attr:`settings`, the credentials: ``envsecrets run`` keeps them
    #: from the child's environment and ``resolve`` never prints them.
    credentials: ClassVar[frozenset[str]] = frozenset()
    #: An example NAME and KEY, shown as placeholders by the role editor.
    name_hint: ClassVar[str] = ""
    key_hint: ClassVar[str] = ""
    #: Whether a resolver's optional TTL cache may keep this provider's
    #: documents. False for short-lived credentials (RDS IAM tokens), which
    #: each session must receive fresh.
    cacheable: ClassVar[bool] = True

    def __init__(
        self,
        environ: Mapping[str, str],
        *,
        variables: Mapping[str, str] | None = None,
        shared: SharedState | None = None,
    ) -> None:
        """Build the provider. The core calls ``ProviderClass(environ)``; a
        subclass that overrides ``__init__(self, environ)`` calls
        ``super().__init__(environ)`` and still receives the resolver's
        *variables* and *shared* state (see :func:`building`).

        :param environ: the agent's environment, the only source of settings.
        :param variables: the variables being resolved (env files included);
            defaults to the resolver's, else *environ*.
        :param shared: state shared with the plugin's other providers;
            defaults to the resolver's, else a new one.
        """
        context = _building.get()
        if context is not None:
            variables = context[0] if variables is None else variables
            shared = context[1] if shared is None else shared
        #: The agent's environment: configuration comes from here, never
        #: from ``os.environ`` directly, and never from env files.
        self.environ = environ
        self._variables: Mapping[str, str] = environ if variables is None else variables
        #: State shared with the other providers of the same plugin in the
        #: same resolver (one client, one login).
        self.shared = SharedState() if shared is None else shared

    def __repr__(self) -> str:
        return f"<{type(self).__name__} prefix={self.prefix!r}>"

    @property
    def variables(self) -> Mapping[str, str]:
        """The variables being resolved (env files included) over
        :attr:`environ`: data a provider may read as documents (as
        ``_envjson`` does), never settings. In a resident agent, those of
        the request being served (see :func:`serving`)."""
        scoped = _serving.get()
        return self._variables if scoped is None else scoped

    @variables.setter
    def variables(self, variables: Mapping[str, str]) -> None:
        self._variables = variables

    @classmethod
    def split(cls, rest: str) -> tuple[str, str | None]:
        """Split the text after ``_prefix:`` into NAME and KEY.

        A class-level operation: the editor and ``check`` parse references
        without building a provider (no settings needed).

        The default splits at the last colon so that names may hold colons;
        without a colon the whole rest is NAME and KEY is ``None``.

        :raise ReferenceSyntaxError: when NAME or KEY is empty.
        """
        name, colon, key = rest.rpartition(":")
        if not colon:
            return rest, None
        if not name:
            raise ReferenceSyntaxError("the secret name is empty")
        if not key:
            raise ReferenceSyntaxError("the key after the last ':' is empty")
        return name, key

    @classmethod
    def siblings(cls, name: str) -> tuple[str, ...]:
        """Name the variables of the same set whose resolved values the
        document of *name* depends on; empty (the default) when it stands
        alone.

        The original agent's ``PASS=_aws_iam_rds:authtoken`` is a token for
        the role's ``HOST``, ``PORT`` and ``USER``. For such a name the core
        resolves those variables first (whatever they hold: plain values or
        references, even other dependent ones), reports a missing one or a
        cycle as an error, then calls :meth:`fetch_with_siblings` instead of
        :meth:`fetch`. A classmethod, as :meth:`split`: ``check`` validates
        the order without building a provider. See
        :mod:`envsecrets.siblings`.
        """
        return ()

    def fetch_with_siblings(self, name: str, siblings: Mapping[str, str]) -> Document:
        """Return the document of *name*, given the resolved value of every
        variable :meth:`siblings` names (all present). The core never caches
        it. The values may be secrets: a message never quotes them.

        :raise envsecrets.ProviderError: as :meth:`fetch`.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement fetch_with_siblings")

    def prepare(self) -> None:
        """Import the SDK and build the client the fetches will use; the
        default does nothing.

        Optional. The core calls it on a fetch worker before this
        provider's first :meth:`fetch`, :meth:`fetch_many`,
        :meth:`fetch_with_siblings` or :meth:`list_names`, and never for a
        run that has no reference of this prefix. Across the process,
        providers prepare one at a time, so that SDK imports (CPU bound,
        under the GIL) do not interleave; keep network calls out of it, so
        that another provider's network is not held up. When it raises,
        the error is reported for each reference it was preparing, and it
        runs again on the next call.

        :raise envsecrets.ProviderError: the client cannot be built (bad
            settings); the message names the setting, never a value.
        """

    def fetch(self, name: str) -> Document:
        """Return the secret document called *name*.

        :raise envsecrets.SecretNotFound: when it does not exist.
        :raise envsecrets.ProviderError: for any other failure; the message
            names the secret and never holds its value.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement fetch")

    def fetch_many(self, names: Iterable[str]) -> Mapping[str, FetchResult]:
        """Return a document or an exception for some of *names*.

        Override to batch requests (set :attr:`max_batch` too). Names left
        out of the answer are fetched one by one with :meth:`fetch` by the
        core, on its own pool: a provider whose batch call is refused
        returns what it has (maybe nothing) and never starts threads. The
        default leaves every name to :meth:`fetch`.
        """
        return {}

    def list_names(self, prefix: str) -> Iterable[str]:
        """Return the names of the secrets whose NAME starts with *prefix*.

        Optional (discovery): names only, never values. Folder-like entries
        end with ``/`` (a Vault folder). The core sorts and bounds the list.

        :raise envsecrets.ListingNotSupported: the default; the provider
            cannot list.
        :raise envsecrets.AccessDenied: the backend refused the listing.
        """
        raise ListingNotSupported(f"the _{self.prefix} provider cannot list secret names")

    def close(self) -> None:
        """Release clients and connections. Called once when the resolver closes."""
