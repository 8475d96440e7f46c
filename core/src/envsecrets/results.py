"""The values a resolver hands back: parsed references, check results and
discovery records. None of them ever holds a secret value."""

from __future__ import annotations

from dataclasses import dataclass, field

from envsecrets.errors import EnvsecretsError

#: A secret as the core fetches it: (prefix, name).
SecretId = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Reference:
    """A parsed reference, bound to the provider that serves it."""

    text: str = field(repr=False)
    prefix: str
    name: str
    key: str | None

    @property
    def secret_id(self) -> SecretId:
        return (self.prefix, self.name)


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The outcome of checking one variable; never holds its value."""

    variable: str
    reference: str
    error: EnvsecretsError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """One key of a secret document and the JSON type of its value (never
    the value): what discovery shows."""

    key: str
    json_type: str


@dataclass(frozen=True, slots=True)
class NameListing:
    """Sorted secret names, at most the limit asked for."""

    names: list[str]
    truncated: bool = False
