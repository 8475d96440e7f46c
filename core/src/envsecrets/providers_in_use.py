"""The providers of one resolver: the registry loaded on first use, each
provider built on first use with its plugin's shared state, all closed
together."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping

from envsecrets.errors import EnvsecretsError, ProviderError
from envsecrets.plugins import Registry, load_registry
from envsecrets.provider import Provider, SharedState, building

log = logging.getLogger(__name__)

#: Held while a provider prepares (imports its SDK): across the process,
#: one at a time. Two SDKs imported on two threads at once took 388 ms
#: instead of 311 ms one after the other (hvac and botocore: the import
#: locks and the GIL hand the CPU back and forth); the fetches themselves,
#: and a prepared provider's network, still run concurrently.
_PREPARING = threading.Lock()


class ProvidersInUse:
    """The provider instances one resolver has built, by prefix.

    :param environ: the providers' settings (the process environment).
    :param variables: the variables they may read as data.
    :param plugins: extra plugin objects to register.
    :param entry_points: whether to load plugins from entry points.
    """

    def __init__(
        self,
        environ: Mapping[str, str],
        variables: Mapping[str, str],
        plugins: Iterable[object],
        entry_points: bool,
    ) -> None:
        self._environ = environ
        self._variables = variables
        self._plugins = tuple(plugins)
        self._entry_points = entry_points
        self._registry: Registry | None = None
        self._providers: dict[str, Provider] = {}
        self._shared: dict[str, SharedState] = {}  # by plugin name
        self._prepared: set[str] = set()  # prefixes whose prepare() returned
        self._lock = threading.Lock()
        self._closed = False

    def __repr__(self) -> str:
        return f"<ProvidersInUse {self.prefixes()}>"

    def prefixes(self) -> list[str]:
        """The prefixes whose provider is built, sorted."""
        return sorted(self._providers)

    @property
    def registry(self) -> Registry:
        """The plugins and providers, loaded on first use."""
        with self._lock:
            if self._registry is None:
                self._registry = load_registry(
                    environ=self._environ, plugins=self._plugins, entry_points=self._entry_points
                )
            return self._registry

    def get(self, prefix: str) -> Provider:
        """Return the provider for *prefix*, building it on first use.

        :raise EnvsecretsError: for an unknown prefix, a provider that cannot
            start, or after :meth:`close`.
        """
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
                        instance = info.provider_class(self._environ)
                except EnvsecretsError:
                    raise
                except Exception as error:
                    raise ProviderError(
                        f"the _{prefix} provider could not start ({type(error).__name__})"
                    ) from None
                self._providers[prefix] = instance
            return instance

    def ready(self, prefix: str) -> Provider:
        """Return the provider for *prefix* once its :meth:`Provider.prepare`
        has run: on a fetch worker, before the provider's first call.

        :raise EnvsecretsError: as :meth:`get`, or what ``prepare`` raised
            (it runs again on the next call).
        """
        instance = self.get(prefix)
        if prefix not in self._prepared:
            with _PREPARING:
                if prefix not in self._prepared:
                    instance.prepare()
                    self._prepared.add(prefix)
        return instance

    def close(self) -> None:
        """Close every provider built so far; later :meth:`get` calls fail."""
        with self._lock:
            providers, self._providers = list(self._providers.values()), {}
            self._shared.clear()
            self._closed = True
        for provider in providers:
            try:
                provider.close()
            except Exception as error:  # closing must not hide the real outcome
                log.warning("closing %r failed: %s", provider, type(error).__name__)
