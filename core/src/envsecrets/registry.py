"""What the plugins registered: the providers by prefix, the commands by
name, and the plugins that failed (:func:`envsecrets.plugins.load_registry`
builds it)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from envsecrets.commands import CommandInfo
from envsecrets.errors import PluginError, ProviderNotInstalled
from envsecrets.provider import Provider
from envsecrets.templates import ResourceTemplate

#: Environment variable listing plugins not to load: entry-point names or
#: distribution names.
DISABLE_VARIABLE = "ENVSECRETS_DISABLE_PLUGINS"
#: Environment variable listing the only distributions to load (an allowlist
#: for hardened agents): ``envsecrets-vault,envsecrets-aws`` or the short
#: forms of :data:`SHORT_NAMES`.
ALLOW_VARIABLE = "ENVSECRETS_PLUGINS"
#: Entry-point group where a distribution declares its credentials without
#: code: each entry's *name* is a variable (or a pattern ending in ``*``);
#: the value is never loaded.
CREDENTIALS_GROUP = "envsecrets.credentials"

#: The short forms the allowlist accepts for the first-party distributions.
SHORT_NAMES = {
    "vault": "envsecrets-vault",
    "aws": "envsecrets-aws",
    "envjson": "envsecrets-envjson",
    "editor": "envsecrets-editor",
}

#: The credentials of the first-party distributions, known to the core
#: itself: they are kept from a child whenever the distribution is
#: installed, whether it loads or not. The contract kit checks that each
#: provider's class-level ``credentials`` stays inside this list.
FIRST_PARTY_CREDENTIALS: Mapping[str, frozenset[str]] = {
    "envsecrets-vault": frozenset(
        {
            "VAULT_TOKEN",
            "VAULT_APP_ROLE_ID",
            "VAULT_APP_ROLE_SECRET_ID",
            "VAULT_CLIENT_KEY",
            # a pointer: with it, the child would log in as the agent
            "VAULT_AUTH_JWT_FILE",
        }
    ),
    "envsecrets-aws": frozenset(
        {
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_SECURITY_TOKEN",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN",
            # pointers at the agent's identity: with them, botocore in the
            # child obtains the agent's keys itself
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "AWS_ROLE_ARN",
            "AWS_PROFILE",
            "AWS_DEFAULT_PROFILE",
            "AWS_SHARED_CREDENTIALS_FILE",
            "AWS_CONFIG_FILE",
        }
    ),
    "envsecrets-envjson": frozenset(),
    "envsecrets-editor": frozenset(),
}

#: The entry a distribution with no credentials declares (``"-" = "its_package"``).
NO_CREDENTIALS = "-"
#: What a credential declaration holds: a name, or a name's start and ``*``.
CREDENTIAL_ENTRY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\*?")


def normalize(distribution: str) -> str:
    """A distribution name as pip compares it (PEP 503): ``Envsecrets_Vault``
    is ``envsecrets-vault``."""
    return re.sub(r"[-_.]+", "-", distribution).lower()


def allowlist_name(name: str) -> str:
    """The distribution an allowlist entry names: a short form or a name."""
    key = normalize(name)
    return SHORT_NAMES.get(key, key)


def static_credentials(distribution: str, declared: Iterable[str]) -> frozenset[str] | None:
    """What *distribution* declares as credentials without running code:
    the core's list for a first-party one, plus its ``envsecrets.credentials``
    entries; ``None`` when it declares nothing at all (unknown)."""
    names = list(declared)
    entries = frozenset(name for name in names if CREDENTIAL_ENTRY.fullmatch(name))
    first_party = FIRST_PARTY_CREDENTIALS.get(normalize(distribution))
    if first_party is None:
        # NO_CREDENTIALS alone declares that there are none.
        return entries if names else None
    return first_party | entries


#: First-party distributions, for the install hint of an unknown prefix.
KNOWN_DISTRIBUTIONS = {
    "aws": "envsecrets-aws",
    "aws_iam_rds": "envsecrets-aws",
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
    #: Entry points left out because ``ENVSECRETS_PLUGINS`` does not name
    #: their distribution, with that distribution.
    not_allowed: Mapping[str, str | None] = field(default_factory=dict)
    commands: Mapping[str, CommandInfo] = field(default_factory=dict)
    #: Every installed plugin distribution (loaded or not, allowed or not,
    #: broken or not) and the credentials it declares statically
    #: (``None``: it declares none).
    installed: Mapping[str, frozenset[str] | None] = field(default_factory=dict)
    #: Installed distributions that did not load and declare no credentials
    #: statically: what they would call a credential cannot be known.
    undeclared: tuple[str, ...] = ()
    #: Why ``ENVSECRETS_PLUGINS`` is unusable (it names what is not
    #: installed); then no entry point is loaded at all.
    allowlist_error: str | None = None
    #: Resource templates for the role editor (when asked for).
    templates: tuple[ResourceTemplate, ...] = ()

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
        if self.allowlist_error:
            notes.append(self.allowlist_error)
        raise ProviderNotInstalled("; ".join([message, *notes]))

    def credentials(self) -> frozenset[str]:
        """The credential patterns of every installed distribution, declared
        statically (loaded or not), and of every loaded provider class."""
        loaded = (info.provider_class.credentials for info in self.providers.values())
        static = (declared for declared in self.installed.values() if declared)
        return frozenset().union(*loaded, *static)

    def settings(self) -> frozenset[str]:
        """The setting patterns every installed provider declares."""
        return frozenset().union(*(i.provider_class.settings for i in self.providers.values()))
