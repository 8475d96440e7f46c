"""envsecrets: expand secret references in environment variables.

    >>> import envsecrets
    >>> envsecrets.resolve_env({"PG_PASS": "_vaultkv2:database/pg:password"})  # doctest: +SKIP
    {'PG_PASS': 's3cr3t'}

Providers come from plugins; see :class:`Provider` and :data:`hookimpl`.
"""

from envsecrets.errors import (
    DeadlineExceeded,
    DocumentError,
    EnvsecretsError,
    Failure,
    KeyNotFound,
    PluginError,
    ProviderError,
    ProviderNotInstalled,
    ReferenceSyntaxError,
    ResolutionError,
    SecretNotFound,
)
from envsecrets.grammar import is_reference
from envsecrets.hooks import hookimpl
from envsecrets.provider import Document, Provider, SharedState
from envsecrets.resolver import CheckResult, Reference, Resolver, resolve_env

__version__ = "0.1.0"

__all__ = [
    "CheckResult",
    "DeadlineExceeded",
    "Document",
    "DocumentError",
    "EnvsecretsError",
    "Failure",
    "KeyNotFound",
    "PluginError",
    "Provider",
    "ProviderError",
    "ProviderNotInstalled",
    "Reference",
    "ReferenceSyntaxError",
    "ResolutionError",
    "Resolver",
    "SecretNotFound",
    "SharedState",
    "__version__",
    "hookimpl",
    "is_reference",
    "resolve_env",
]
