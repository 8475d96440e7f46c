"""What the plugins registered: the providers by prefix, the commands by
name, and the plugins that failed (:func:`envsecrets.plugins.load_registry`
builds it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from envsecrets.commands import CommandInfo
from envsecrets.errors import PluginError, ProviderNotInstalled
from envsecrets.provider import Provider

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
    """A plugin that could not be loaded or gave unusable records."""

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
        if prefix in self.conflicts:
            raise PluginError(self.conflicts[prefix])
        if prefix in self.providers:
            return self.providers[prefix]
        message = f"no installed provider serves the prefix _{prefix}"
        if prefix in KNOWN_DISTRIBUTIONS:
            message += f" (pip install {KNOWN_DISTRIBUTIONS[prefix]})"
        notes = [
            f"plugin {name!r} is disabled by {DISABLE_VARIABLE}" for name in sorted(self.disabled)
        ]
        notes += [
            f"plugin {name!r} is not in {ALLOW_VARIABLE}" for name in sorted(self.not_allowed)
        ]
        notes += [f"plugin {f.plugin!r} failed to load: {f.reason}" for f in self.failures]
        raise ProviderNotInstalled("; ".join([message, *notes]))

    def credentials(self) -> frozenset[str]:
        """The credential patterns every installed provider declares."""
        return frozenset().union(*(i.provider_class.credentials for i in self.providers.values()))

    def settings(self) -> frozenset[str]:
        """The setting patterns every installed provider declares."""
        return frozenset().union(*(i.provider_class.settings for i in self.providers.values()))
