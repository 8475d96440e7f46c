"""envsecrets: expand secret references in environment variables.

    >>> import envsecrets
    >>> envsecrets.resolve_env({"PG_PASS": "_vaultkv2:database/pg:password"})  # doctest: +SKIP
    {'PG_PASS': 's3cr3t'}

Providers come from plugins; see :class:`Provider` and :data:`hookimpl`.
"""

#: typing.TYPE_CHECKING without importing typing (a thin client of the agent never does).
TYPE_CHECKING = False
if TYPE_CHECKING:
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
    from envsecrets.provider import Document, FetchResult, Provider, SharedState, provider_can_list
    from envsecrets.resolver import Resolver, resolve_env
    from envsecrets.results import CheckResult, KeyInfo, NameListing, Reference
    from envsecrets.sdk_logs import redact_logs
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

#: Where each public name is defined. They are imported on first use
#: (PEP 562): a thin client of the agent imports ``envsecrets.agent``
#: without pluggy and the resolver behind these names.
_HOMES = {
    **dict.fromkeys(("Command", "CommandContext", "CommandExit"), "envsecrets.commands"),
    "redact_logs": "envsecrets.sdk_logs",
    "ResourceTemplate": "envsecrets.templates",
    **dict.fromkeys(
        (
            "AccessDenied",
            "DeadlineExceeded",
            "DocumentError",
            "EnvsecretsError",
            "Failure",
            "KeyNotFound",
            "ListingNotSupported",
            "PluginError",
            "ProviderError",
            "ProviderNotInstalled",
            "ReferenceSyntaxError",
            "ResolutionError",
            "SecretNotFound",
        ),
        "envsecrets.errors",
    ),
    "is_reference": "envsecrets.grammar",
    "hookimpl": "envsecrets.hooks",
    **dict.fromkeys(
        ("Document", "FetchResult", "Provider", "SharedState", "provider_can_list"),
        "envsecrets.provider",
    ),
    **dict.fromkeys(("Resolver", "resolve_env"), "envsecrets.resolver"),
    **dict.fromkeys(("CheckResult", "KeyInfo", "NameListing", "Reference"), "envsecrets.results"),
}


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'envsecrets' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
