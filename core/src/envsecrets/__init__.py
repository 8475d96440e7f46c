"""envsecrets: expand secret references in environment variables.

    >>> import envsecrets
    >>> envsecrets.resolve_env({"PG_PASS": "_vaultkv2:database/pg:password"})  # doctest: +SKIP
    {'PG_PASS': 's3cr3t'}

Providers come from plugins; see :class:`Provider` and :data:`hookimpl`.
"""

from envsecrets.commands import Command, CommandContext, CommandExit
from envsecrets.errors import (
    AccessDenied,
    DeadlineExceeded,
    DocumentError,
    EnvsecretsError,
    Failure,
    KeyNotFound,
    ListingNotSupported,
    PluginError,
    ProviderError,
    ProviderNotInstalled,
    ReferenceSyntaxError,
    ResolutionError,
    SecretNotFound,
)
from envsecrets.grammar import is_reference
from envsecrets.hooks import hookimpl
from envsecrets.logs import redact_logs
from envsecrets.provider import Document, FetchResult, Provider, SharedState, provider_can_list
from envsecrets.resolver import Resolver, resolve_env
from envsecrets.results import CheckResult, KeyInfo, NameListing, Reference
from envsecrets.templates import ResourceTemplate

__version__ = "0.2.0"

__all__ = [
    "AccessDenied",
    "CheckResult",
    "Command",
    "CommandContext",
    "CommandExit",
    "DeadlineExceeded",
    "Document",
    "DocumentError",
    "EnvsecretsError",
    "Failure",
    "FetchResult",
    "KeyInfo",
    "KeyNotFound",
    "ListingNotSupported",
    "NameListing",
    "PluginError",
    "Provider",
    "ProviderError",
    "ProviderNotInstalled",
    "Reference",
    "ReferenceSyntaxError",
    "ResolutionError",
    "Resolver",
    "ResourceTemplate",
    "SecretNotFound",
    "SharedState",
    "__version__",
    "hookimpl",
    "is_reference",
    "provider_can_list",
    "redact_logs",
    "resolve_env",
]
