"""Finding plugins and what they register.

Plugins are found through the ``envsecrets`` entry-point group when a
resolver is built, never at import time. Each plugin is loaded and called
on its own: one that fails to import, names an unknown hook or returns
unusable records is recorded, not fatal, and only its own prefixes fail.
``ENVSECRETS_DISABLE_PLUGINS`` blocks entry points (or distributions) by
name and ``ENVSECRETS_PLUGINS`` (an allowlist of distributions) loads only
those it names.

What each installed distribution declares as credentials is read from its
metadata (and the core's own list for the first-party ones) without
importing it: credentials never depend on what loaded.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from importlib import metadata
from typing import TypeVar

import pluggy

from envsecrets.commands import Command, CommandInfo
from envsecrets.errors import PluginError
from envsecrets.hooks import NAME, ProviderSpec
from envsecrets.provider import PREFIX_PATTERN, Provider
from envsecrets.registry import (
    ALLOW_VARIABLE,
    CREDENTIALS_GROUP,
    DISABLE_VARIABLE,
    KNOWN_DISTRIBUTIONS,
    SHORT_NAMES,
    PluginFailure,
    ProviderInfo,
    Registry,
    allowlist_name,
    normalize,
    static_credentials,
)
from envsecrets.templates import ResourceTemplate

# What the plugins registered is in envsecrets.registry; these names stay here.
__all__ = ["KNOWN_DISTRIBUTIONS", "Registry", "load_registry"]

log = logging.getLogger(__name__)

#: The hooks a plugin may implement.
HOOK_NAMES = frozenset(name for name in vars(ProviderSpec) if name.startswith(f"{NAME}_"))

#: The distribution and version a plugin comes from (``None`` for objects).
_Origin = tuple["str | None", "str | None"]
_Record = TypeVar("_Record")


def load_registry(
    *,
    environ: Mapping[str, str] | None = None,
    plugins: Iterable[object] = (),
    entry_points: bool = True,
    commands: bool = False,
    templates: bool = False,
) -> Registry:
    """Build a plugin manager, load plugins and collect their providers.

    Each plugin is validated on its own: one that fails to import, names an
    unknown hook or returns unusable records is recorded in
    :attr:`Registry.failures` and left out; the others load.

    :param environ: where ``ENVSECRETS_DISABLE_PLUGINS`` and
        ``ENVSECRETS_PLUGINS`` are read.
    :param plugins: plugin objects (modules, instances) to register, before
        the entry points: of two commands with one name, the first is kept.
    :param entry_points: whether to load the ``envsecrets`` entry-point group.
    :param commands: whether to collect the plugins' commands too.
    :param templates: whether to collect the plugins' resource templates too.
    """
    environ = os.environ if environ is None else environ
    disabled = _names(environ.get(DISABLE_VARIABLE, ""))
    found_entry_points = _entry_points(tuple(sys.path)) if entry_points else ()
    installed = _installed(found_entry_points) if entry_points else {}
    allowed, allowlist_error = _allowed(environ, installed)
    loaded = _Plugins(disabled)
    for plugin in plugins:
        name = getattr(plugin, "__name__", None) or f"{type(plugin).__name__}-{id(plugin)}"
        loaded.register(name, plugin, (None, None))
    not_allowed: dict[str, str | None] = {}
    blocked_distributions = {allowlist_name(name) for name in disabled}
    for entry_point, *origin in found_entry_points:
        distribution = None if origin[0] is None else normalize(origin[0])
        if loaded.manager.is_blocked(entry_point.name) or distribution in blocked_distributions:
            continue
        if allowed is not None and distribution not in allowed:
            not_allowed[entry_point.name] = origin[0]
            continue
        loaded.register(entry_point.name, entry_point, (origin[0], origin[1]))
    loaded.manager.check_pending()  # a guard: each plugin passed _check_hooks
    providers, conflicts = _providers(loaded)
    found = _commands(loaded) if commands else {}
    found_templates = _templates(loaded) if templates else ()
    working = {
        normalize(origin[0])
        for name, origin in loaded.origins.items()
        if origin[0] and name not in {failure.plugin for failure in loaded.failures}
    }
    undeclared = tuple(
        sorted(
            name for name, declared in installed.items() if declared is None and name not in working
        )
    )
    return Registry(
        providers,
        tuple(loaded.failures),
        conflicts,
        disabled,
        not_allowed,
        found,
        installed,
        undeclared,
        allowlist_error,
        templates=found_templates,
    )


def _installed(
    found: Iterable[_EntryPoint],
) -> dict[str, frozenset[str] | None]:
    """Every distribution with an ``envsecrets`` entry point (normalized
    name) and the credentials it declares without code."""
    declared: dict[str, list[str]] = {}
    for entry_point, distribution, _version in _declarations(tuple(sys.path)):
        if distribution:
            declared.setdefault(normalize(distribution), []).append(entry_point.name)
    names = {normalize(distribution) for _, distribution, _ in found if distribution}
    return {name: static_credentials(name, declared.get(name, ())) for name in sorted(names)}


def _allowed(
    environ: Mapping[str, str], installed: Mapping[str, object]
) -> tuple[frozenset[str] | None, str | None]:
    """The distributions ``ENVSECRETS_PLUGINS`` allows (``None``: no
    allowlist), and why it is unusable. An allowlist naming something not
    installed allows nothing: a typo must not load more than was meant."""
    if ALLOW_VARIABLE not in environ:
        return None, None
    names = _names(environ[ALLOW_VARIABLE])
    unknown = sorted(name for name in names if allowlist_name(name) not in installed)
    if not unknown:
        return frozenset(allowlist_name(name) for name in names), None
    short = {full: short for short, full in SHORT_NAMES.items()}
    listed = (
        ", ".join(f"{name} ({short[name]})" if name in short else name for name in installed)
        or "none"
    )
    message = (
        f"{ALLOW_VARIABLE} names {', '.join(map(ascii, unknown))}, which "
        f"{'is' if len(unknown) == 1 else 'are'} not installed: nothing is loaded "
        f"(installed plugin distributions: {listed})"
    )
    return frozenset(), message


def _names(raw: str) -> frozenset[str]:
    return frozenset(name.strip() for name in raw.split(",") if name.strip())


class _Plugins:
    """The plugin manager of one registry, the plugins registered with it
    (in order, with their origins) and the plugins that failed."""

    def __init__(self, blocked: Iterable[str]) -> None:
        self.manager = pluggy.PluginManager(NAME)
        self.manager.add_hookspecs(ProviderSpec)
        for name in blocked:
            self.manager.set_blocked(name)
        self.origins: dict[str, _Origin] = {}
        self.failures: list[PluginFailure] = []

    def register(self, name: str, plugin: object, origin: _Origin) -> None:
        """Register *plugin* (an entry point is loaded first), or record why not."""
        try:
            if isinstance(plugin, metadata.EntryPoint):
                plugin = plugin.load()
            self._check_hooks(plugin)
            self.manager.register(plugin, name=name)
        except Exception as error:  # a broken plugin must not break the others
            self.fail(name, origin, f"{type(error).__name__}: {error}", "failed to load")
        else:
            self.origins[name] = origin

    def records(
        self, hook: str, check: Callable[[object], _Record]
    ) -> Iterator[tuple[_Record, str, _Origin]]:
        """What each plugin's *hook* returns, in the order the plugins were
        registered, each record passed through *check*. A plugin whose hook
        raises or returns one unusable record gives nothing and is recorded."""
        implementations = getattr(self.manager.hook, hook).get_hookimpls()
        by_plugin = {impl.plugin_name: impl.function for impl in implementations}
        for name, origin in self.origins.items():
            if name not in by_plugin:
                continue
            try:
                records = [check(record) for record in by_plugin[name]()]
            except Exception as error:
                self.fail(name, origin, f"{type(error).__name__}: {error}", "gave nothing usable")
                continue
            yield from ((record, name, origin) for record in records)

    def fail(self, plugin: str, origin: _Origin, reason: str, what: str) -> None:
        source = f" ({origin[0]} {origin[1]})" if origin[0] else ""
        log.warning("plugin %r%s %s: %s", plugin, source, what, reason)
        self.failures.append(PluginFailure(plugin, *origin, reason))

    def _check_hooks(self, plugin: object) -> None:
        """Refuse a plugin with a hook implementation no spec knows (a
        misspelt ``envsecrets_provider``), as pluggy's ``check_pending``
        would, but for this plugin alone."""
        for attribute in dir(plugin):
            options = self.manager.parse_hookimpl_opts(plugin, attribute)
            if options is None or attribute in HOOK_NAMES or options.get("optionalhook"):
                continue
            known = ", ".join(sorted(HOOK_NAMES))
            raise PluginError(f"unknown hook {attribute!r} (the hooks are {known})")


def _providers(loaded: _Plugins) -> tuple[dict[str, ProviderInfo], dict[str, str]]:
    """The providers by prefix, and the prefixes two plugins claim."""
    providers: dict[str, ProviderInfo] = {}
    conflicts: dict[str, str] = {}
    for cls, name, origin in loaded.records("envsecrets_providers", _provider_class):
        info = ProviderInfo(cls.prefix, cls, name, *origin)
        other = providers.setdefault(cls.prefix, info)
        if other.provider_class is not cls:
            conflicts[cls.prefix] = (
                f"the prefix _{cls.prefix} is claimed by both {other.origin} and {info.origin}"
            )
    return providers, conflicts


def _commands(loaded: _Plugins) -> dict[str, CommandInfo]:
    """The commands by name; of two with one name, the first registered is
    kept (the core's own) and the other plugin's is reported."""
    found: dict[str, CommandInfo] = {}
    for command, name, origin in loaded.records("envsecrets_commands", _command):
        info = CommandInfo(command, name, *origin)
        other = found.setdefault(command.name, info)
        if other is not info:
            taken = "a built-in command" if other.builtin else f"also added by {other.origin}"
            reason = f"PluginError: the command {command.name!r} is {taken}"
            loaded.fail(name, origin, reason, "gave a command left out")
    return found


def _templates(loaded: _Plugins) -> tuple[ResourceTemplate, ...]:
    """The resource templates; of two with one name, the first is kept."""
    found: dict[str, ResourceTemplate] = {}
    for template, name, origin in loaded.records("envsecrets_resource_templates", _template):
        if found.setdefault(template.name, template) is not template:
            reason = f"PluginError: the resource template {template.name!r} is added twice"
            loaded.fail(name, origin, reason, "gave a template left out")
    return tuple(found.values())


def _template(record: object) -> ResourceTemplate:
    if not isinstance(record, ResourceTemplate):  # the record checks itself when made
        raise PluginError(f"{record!r} is not an envsecrets.ResourceTemplate")
    return record


def _provider_class(record: object) -> type[Provider]:
    if not (isinstance(record, type) and issubclass(record, Provider)):
        raise PluginError(f"{record!r} is not a subclass of envsecrets.Provider")
    prefix = getattr(record, "prefix", None)
    if not isinstance(prefix, str) or not PREFIX_PATTERN.fullmatch(prefix):
        raise PluginError(f"{record.__name__}.prefix must match [a-z][a-z0-9_]*, not {prefix!r}")
    return record


def _command(record: object) -> Command:
    if not isinstance(record, Command):  # the record checks itself when made
        raise PluginError(f"{record!r} is not an envsecrets.Command")
    return record


_EntryPoint = tuple[metadata.EntryPoint, "str | None", "str | None"]


def _entry_points(path: tuple[str, ...]) -> tuple[_EntryPoint, ...]:
    """The ``envsecrets`` entry points on *path* with their distributions."""
    return _scan(path)[0]


def _declarations(path: tuple[str, ...]) -> tuple[_EntryPoint, ...]:
    """The ``envsecrets.credentials`` entry points on *path*: read, never loaded."""
    return _scan(path)[1]


@functools.lru_cache(maxsize=4)
def _scan(path: tuple[str, ...]) -> tuple[tuple[_EntryPoint, ...], tuple[_EntryPoint, ...]]:
    """The entry points of both groups on *path* with the name and version of
    their distributions, scanned once per process and path: a long-lived
    agent builds many resolvers, and each scan reads the metadata of every
    installed distribution (~10 ms)."""
    every = metadata.entry_points()
    return _with_origins(every.select(group=NAME)), _with_origins(
        every.select(group=CREDENTIALS_GROUP)
    )


def _with_origins(entry_points: Iterable[metadata.EntryPoint]) -> tuple[_EntryPoint, ...]:
    found = []
    for entry_point in entry_points:
        dist = getattr(entry_point, "dist", None)
        origin = (None, None) if dist is None else (dist.metadata["Name"], dist.version)
        found.append((entry_point, *origin))
    return tuple(found)
