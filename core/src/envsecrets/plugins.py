"""Finding plugins and the providers they register.

Plugins are found through the ``envsecrets`` entry-point group when a
resolver is built, never at import time. A plugin that fails to load is
recorded, not fatal: only references to its prefixes fail.
``ENVSECRETS_DISABLE_PLUGINS`` blocks entry points by name and
``ENVSECRETS_PLUGINS`` (an allowlist) loads only those it names.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata

import pluggy

from envsecrets.commands import Command
from envsecrets.errors import PluginError, ProviderNotInstalled
from envsecrets.hooks import NAME, ProviderSpec
from envsecrets.provider import PREFIX_PATTERN, Provider

log = logging.getLogger(__name__)

#: Environment variable listing entry-point names not to load.
DISABLE_VARIABLE = "ENVSECRETS_DISABLE_PLUGINS"
#: Environment variable listing the only entry-point names to load (an
#: allowlist for hardened agents, as ``LLM_LOAD_PLUGINS``).
ALLOW_VARIABLE = "ENVSECRETS_PLUGINS"

#: First-party distributions, for the install hint of an unknown prefix.
KNOWN_DISTRIBUTIONS = {
    "aws": "envsecrets-aws",
    "vaultkv1": "envsecrets-vault",
    "vaultkv2": "envsecrets-vault",
    "envjson": "envsecrets-envjson",
}

#: The hooks a plugin may implement.
HOOK_NAMES = frozenset({"envsecrets_providers", "envsecrets_commands"})

_COMMAND_NAME = re.compile(r"[a-z][a-z0-9-]*")


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
class CommandInfo:
    """A command contributed by a plugin, and where it came from."""

    command: Command
    plugin: str
    distribution: str | None
    version: str | None


@dataclass(frozen=True, slots=True)
class PluginFailure:
    """A plugin that could not be loaded or gave unusable providers."""

    plugin: str
    distribution: str | None
    version: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class Registry:
    """The providers (and, when asked for, commands) available, by name."""

    providers: Mapping[str, ProviderInfo]
    failures: tuple[PluginFailure, ...] = ()
    #: Prefixes claimed by two plugins, with the message naming both.
    conflicts: Mapping[str, str] = field(default_factory=dict)
    disabled: frozenset[str] = frozenset()
    #: Entry points left out because ``ENVSECRETS_PLUGINS`` does not name them.
    not_allowed: frozenset[str] = frozenset()
    commands: Mapping[str, CommandInfo] = field(default_factory=dict)

    def get(self, prefix: str) -> ProviderInfo:
        """Return the provider serving *prefix*.

        :raise PluginError: when two plugins claim it.
        :raise ProviderNotInstalled: when none serves it, with an install hint.
        """
        conflict = self.conflicts.get(prefix)
        if conflict is not None:
            raise PluginError(conflict)
        info = self.providers.get(prefix)
        if info is not None:
            return info
        raise ProviderNotInstalled(self._missing_message(prefix))

    def credentials(self) -> frozenset[str]:
        """The credential patterns every installed provider declares."""
        return frozenset().union(
            *(info.provider_class.credentials for info in self.providers.values())
        )

    def settings(self) -> frozenset[str]:
        """The setting patterns every installed provider declares."""
        return frozenset().union(
            *(info.provider_class.settings for info in self.providers.values())
        )

    def _missing_message(self, prefix: str) -> str:
        message = f"no installed provider serves the prefix _{prefix}"
        known = KNOWN_DISTRIBUTIONS.get(prefix)
        if known is not None:
            message += f" (pip install {known})"
        notes = [
            f"plugin {name!r} is disabled by {DISABLE_VARIABLE}" for name in sorted(self.disabled)
        ]
        notes.extend(
            f"plugin {name!r} is not in {ALLOW_VARIABLE}" for name in sorted(self.not_allowed)
        )
        notes.extend(
            f"plugin {failure.plugin!r} failed to load: {failure.reason}"
            for failure in self.failures
        )
        if notes:
            message += "; " + "; ".join(notes)
        return message


def disabled_plugins(environ: Mapping[str, str]) -> frozenset[str]:
    """Entry-point names listed in ``ENVSECRETS_DISABLE_PLUGINS``."""
    return _names(environ.get(DISABLE_VARIABLE, ""))


def allowed_plugins(environ: Mapping[str, str]) -> frozenset[str] | None:
    """Entry-point names listed in ``ENVSECRETS_PLUGINS``; ``None`` when it
    is unset (every plugin loads). Set but empty, it loads none."""
    raw = environ.get(ALLOW_VARIABLE)
    return None if raw is None else _names(raw)


def _names(raw: str) -> frozenset[str]:
    return frozenset(name.strip() for name in raw.split(",") if name.strip())


def load_registry(
    *,
    environ: Mapping[str, str] | None = None,
    plugins: Iterable[object] = (),
    entry_points: bool = True,
    commands: bool = False,
) -> Registry:
    """Build a plugin manager, load plugins and collect their providers.

    Each plugin is validated on its own: one that fails to import, names an
    unknown hook or returns unusable providers is recorded in
    :attr:`Registry.failures` and left out; the others load.

    :param environ: where ``ENVSECRETS_DISABLE_PLUGINS`` and
        ``ENVSECRETS_PLUGINS`` are read.
    :param plugins: extra plugin objects (modules, instances) to register.
    :param entry_points: whether to load the ``envsecrets`` entry-point group.
    :param commands: whether to collect the plugins' commands too.
    """
    environ = os.environ if environ is None else environ
    manager = pluggy.PluginManager(NAME)
    manager.add_hookspecs(ProviderSpec)
    disabled = disabled_plugins(environ)
    allowed = allowed_plugins(environ)
    for name in disabled:
        manager.set_blocked(name)

    failures: list[PluginFailure] = []
    origins: dict[str, tuple[str | None, str | None]] = {}
    not_allowed: set[str] = set()

    def add(plugin_name: str, load: Callable[[], object], origin: _Origin) -> None:
        try:
            plugin = load()
            _check_hooks(manager, plugin)
            manager.register(plugin, name=plugin_name)
        except Exception as error:  # a broken plugin must not break the others
            reason = f"{type(error).__name__}: {error}"
            log.warning("plugin %r failed to load: %s", plugin_name, reason)
            failures.append(PluginFailure(plugin_name, *origin, reason))
            return
        origins[plugin_name] = origin

    if entry_points:
        for entry_point, distribution, version in _entry_points(tuple(sys.path)):
            if manager.is_blocked(entry_point.name):
                continue
            if allowed is not None and entry_point.name not in allowed:
                not_allowed.add(entry_point.name)
                continue
            add(entry_point.name, entry_point.load, (distribution, version))
    for plugin in plugins:
        name = getattr(plugin, "__name__", None) or f"{type(plugin).__name__}-{id(plugin)}"
        add(name, functools.partial(_same, plugin), (None, None))

    providers, conflicts = _collect_providers(manager, origins, failures)
    found = _collect_commands(manager, origins, failures) if commands else {}
    return Registry(
        providers,
        tuple(failures),
        conflicts,
        disabled,
        frozenset(not_allowed),
        found,
    )


_Origin = tuple["str | None", "str | None"]


def _same(plugin: object) -> object:
    return plugin


def _check_hooks(manager: pluggy.PluginManager, plugin: object) -> None:
    """Refuse a plugin with a hook implementation no spec knows (a misspelt
    ``envsecrets_provider``), as pluggy's ``check_pending`` would, but for
    this plugin alone."""
    for attribute in dir(plugin):
        options = manager.parse_hookimpl_opts(plugin, attribute)
        if options is None or attribute in HOOK_NAMES or options.get("optionalhook"):
            continue
        known = ", ".join(sorted(HOOK_NAMES))
        raise PluginError(f"unknown hook {attribute!r} (the hooks are {known})")


def _records(
    impl: pluggy.HookImpl,
    check: Callable[[object], None],
    origin: _Origin,
    failures: list[PluginFailure],
) -> list[object] | None:
    """Call one plugin's hook and check what it returned; on failure, record
    it for this plugin alone and return ``None``."""
    try:
        returned: Iterable[object] = impl.function()  # type: ignore[assignment]
        records = list(returned)
        for record in records:
            check(record)
    except Exception as error:
        reason = f"{type(error).__name__}: {error}"
        log.warning("plugin %r gave nothing usable: %s", impl.plugin_name, reason)
        failures.append(PluginFailure(impl.plugin_name, *origin, reason))
        return None
    return records


def _collect_providers(
    manager: pluggy.PluginManager,
    origins: Mapping[str, _Origin],
    failures: list[PluginFailure],
) -> tuple[dict[str, ProviderInfo], dict[str, str]]:
    providers: dict[str, ProviderInfo] = {}
    conflicts: dict[str, str] = {}
    for impl in manager.hook.envsecrets_providers.get_hookimpls():
        origin = origins.get(impl.plugin_name, (None, None))
        for cls in _records(impl, _check_provider_class, origin, failures) or ():
            assert isinstance(cls, type)  # checked by _check_provider_class
            assert issubclass(cls, Provider)
            info = ProviderInfo(cls.prefix, cls, impl.plugin_name, *origin)
            other = providers.get(cls.prefix)
            if other is not None and other.provider_class is not cls:
                conflicts[cls.prefix] = (
                    f"the prefix _{cls.prefix} is claimed by both {other.origin} and {info.origin}"
                )
            providers.setdefault(cls.prefix, info)
    return providers, conflicts


def _collect_commands(
    manager: pluggy.PluginManager,
    origins: Mapping[str, _Origin],
    failures: list[PluginFailure],
) -> dict[str, CommandInfo]:
    found: dict[str, CommandInfo] = {}
    for impl in manager.hook.envsecrets_commands.get_hookimpls():
        origin = origins.get(impl.plugin_name, (None, None))
        for record in _records(impl, _check_command, origin, failures) or ():
            assert isinstance(record, Command)  # checked by _check_command
            if record.name in found:
                other = found[record.name]
                reason = f"the command {record.name!r} is also added by plugin {other.plugin!r}"
                failures.append(PluginFailure(impl.plugin_name, *origin, reason))
                continue
            found[record.name] = CommandInfo(record, impl.plugin_name, *origin)
    return found


def _check_command(record: object) -> None:
    if not isinstance(record, Command):
        raise PluginError(f"{record!r} is not an envsecrets.Command")
    if not _COMMAND_NAME.fullmatch(record.name):
        raise PluginError(f"a command name must match [a-z][a-z0-9-]*, not {record.name!r}")
    if not (callable(record.configure_parser) and callable(record.action)):
        raise PluginError(f"the command {record.name!r} needs callable configure_parser and action")


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
