"""Finding plugins and the providers they register.

Plugins are found through the ``envsecrets`` entry-point group when a
resolver is built, never at import time. A plugin that fails to load is
recorded, not fatal: only references to its prefixes fail.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata

import pluggy

from envsecrets.errors import PluginError, ProviderNotInstalled
from envsecrets.hooks import NAME, ProviderSpec
from envsecrets.provider import PREFIX_PATTERN, Provider

log = logging.getLogger(__name__)

#: Environment variable listing entry-point names not to load.
DISABLE_VARIABLE = "ENVSECRETS_DISABLE_PLUGINS"

#: First-party distributions, for the install hint of an unknown prefix.
KNOWN_DISTRIBUTIONS = {
    "aws": "envsecrets-aws",
    "vaultkv1": "envsecrets-vault",
    "vaultkv2": "envsecrets-vault",
    "envjson": "envsecrets-envjson",
}


@dataclass(frozen=True, slots=True)
class ProviderInfo:
    """A provider class and where it came from."""

    prefix: str
    provider_class: type[Provider]
    plugin: str
    distribution: str | None
    version: str | None

    @property
    def description(self) -> str:
        return self.provider_class.description

    @property
    def origin(self) -> str:
        if self.distribution is None:
            return f"plugin {self.plugin!r}"
        return f"{self.distribution} {self.version or ''}".strip()


@dataclass(frozen=True, slots=True)
class PluginFailure:
    """A plugin that could not be loaded or gave unusable providers."""

    plugin: str
    distribution: str | None
    version: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class Registry:
    """The providers available to a resolver, by prefix."""

    providers: Mapping[str, ProviderInfo]
    failures: tuple[PluginFailure, ...] = ()
    conflicts: Mapping[str, PluginError] = field(default_factory=dict)
    disabled: frozenset[str] = frozenset()

    def get(self, prefix: str) -> ProviderInfo:
        """Return the provider serving *prefix*.

        :raise PluginError: when two plugins claim it.
        :raise ProviderNotInstalled: when none serves it, with an install hint.
        """
        if prefix in self.conflicts:
            raise self.conflicts[prefix]
        info = self.providers.get(prefix)
        if info is not None:
            return info
        raise ProviderNotInstalled(self._missing_message(prefix))

    def _missing_message(self, prefix: str) -> str:
        message = f"no installed provider serves the prefix _{prefix}"
        known = KNOWN_DISTRIBUTIONS.get(prefix)
        if known is not None:
            message += f" (pip install {known})"
        notes = [
            f"plugin {name!r} is disabled by {DISABLE_VARIABLE}" for name in sorted(self.disabled)
        ]
        notes.extend(
            f"plugin {failure.plugin!r} failed to load: {failure.reason}"
            for failure in self.failures
        )
        if notes:
            message += "; " + "; ".join(notes)
        return message


def disabled_plugins(environ: Mapping[str, str]) -> frozenset[str]:
    """Entry-point names listed in ``ENVSECRETS_DISABLE_PLUGINS``."""
    raw = environ.get(DISABLE_VARIABLE, "")
    return frozenset(name.strip() for name in raw.split(",") if name.strip())


def load_registry(
    *,
    environ: Mapping[str, str] | None = None,
    plugins: Iterable[object] = (),
    entry_points: bool = True,
) -> Registry:
    """Build a plugin manager, load plugins and collect their providers.

    :param environ: where ``ENVSECRETS_DISABLE_PLUGINS`` is read.
    :param plugins: extra plugin objects (modules, instances) to register.
    :param entry_points: whether to load the ``envsecrets`` entry-point group.
    """
    environ = os.environ if environ is None else environ
    manager = pluggy.PluginManager(NAME)
    manager.add_hookspecs(ProviderSpec)
    disabled = disabled_plugins(environ)
    for name in disabled:
        manager.set_blocked(name)

    failures: list[PluginFailure] = []
    origins: dict[str, tuple[str | None, str | None]] = {}
    if entry_points:
        for entry_point, distribution, version in _entry_points(tuple(sys.path)):
            if manager.is_blocked(entry_point.name):
                continue
            try:
                plugin = entry_point.load()
                manager.register(plugin, name=entry_point.name)
            except Exception as error:  # a broken plugin must not break the others
                reason = f"{type(error).__name__}: {error}"
                log.warning("plugin %r failed to load: %s", entry_point.name, reason)
                failures.append(PluginFailure(entry_point.name, distribution, version, reason))
                continue
            origins[entry_point.name] = (distribution, version)
    for plugin in plugins:
        name = getattr(plugin, "__name__", None) or f"{type(plugin).__name__}-{id(plugin)}"
        manager.register(plugin, name=name)
        origins[name] = (None, None)
    manager.check_pending()

    providers: dict[str, ProviderInfo] = {}
    conflicts: dict[str, PluginError] = {}
    for impl in manager.hook.envsecrets_providers.get_hookimpls():
        distribution, version = origins.get(impl.plugin_name, (None, None))
        try:
            returned: Iterable[object] = impl.function()  # type: ignore[assignment]
            classes = list(returned)
            for cls in classes:
                _check_provider_class(cls)
        except Exception as error:
            reason = f"{type(error).__name__}: {error}"
            log.warning("plugin %r gave no usable providers: %s", impl.plugin_name, reason)
            failures.append(PluginFailure(impl.plugin_name, distribution, version, reason))
            continue
        for cls in classes:
            assert isinstance(cls, type)  # checked above
            assert issubclass(cls, Provider)
            info = ProviderInfo(cls.prefix, cls, impl.plugin_name, distribution, version)
            other = providers.get(cls.prefix)
            if other is not None and other.provider_class is not cls:
                conflicts[cls.prefix] = PluginError(
                    f"the prefix _{cls.prefix} is claimed by both {other.origin} and {info.origin}"
                )
            providers.setdefault(cls.prefix, info)
    return Registry(providers, tuple(failures), conflicts, disabled)


_EntryPoint = tuple[metadata.EntryPoint, "str | None", "str | None"]


@functools.lru_cache(maxsize=4)
def _entry_points(path: tuple[str, ...]) -> tuple[_EntryPoint, ...]:
    """The ``envsecrets`` entry points on *path* with the name and version of
    their distributions, scanned once per process and path: a long-lived
    agent builds many resolvers, and each scan reads the metadata of every
    installed distribution (~10 ms)."""
    return tuple((ep, *_distribution_of(ep)) for ep in metadata.entry_points(group=NAME))


def _check_provider_class(cls: object) -> None:
    if not (isinstance(cls, type) and issubclass(cls, Provider)):
        raise PluginError(f"{cls!r} is not a subclass of envsecrets.Provider")
    prefix = getattr(cls, "prefix", None)
    if not isinstance(prefix, str) or not PREFIX_PATTERN.fullmatch(prefix):
        raise PluginError(f"{cls.__name__}.prefix must match [a-z][a-z0-9]*, not {prefix!r}")


def _distribution_of(entry_point: metadata.EntryPoint) -> tuple[str | None, str | None]:
    dist = getattr(entry_point, "dist", None)
    if dist is None:
        return None, None
    return dist.metadata["Name"], dist.version
