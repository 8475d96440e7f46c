"""One row of the role page: a variable, where its value comes from, and
what is wrong with it.

A row's source is "manual" (the value typed by hand), the prefix of an
installed provider (NAME and KEY), or "keep": a reference whose prefix no
installed provider serves, shown as it is and written back unchanged.
Validation uses the core's grammar and each provider's own ``split``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import envsecrets
from envsecrets import grammar
from envsecrets_editor.rolefile import VARIABLE_NAME

MANUAL = "manual"
KEEP = "keep"
#: USER and PASS under the "AWS IAM Role" connection method: the original's
#: pair ``USER=_aws_iam_rds:NAME``, ``PASS=_aws_iam_rds:authtoken``.
IAM = "iam"
IAM_PREFIX = "aws_iam_rds"
IAM_TOKEN = "authtoken"  # noqa: S105 - the reference's fixed KEY, not a secret

ERROR = "error"
WARNING = "warning"
INFO = "info"


#: Short names of the first-party providers, as the original web app shows them.
FIRST_PARTY_LABELS = {
    "aws": "AWS Secrets Manager",
    "aws_iam_rds": "AWS RDS IAM token",
    "envjson": "Env JSON",
    "vaultkv1": "Vault KV v1",
    "vaultkv2": "Vault KV v2",
}
_LABEL_WORDS = 4


def short_label(prefix: str, description: str) -> str:
    """What the source picker shows for a provider: a first-party name, or
    the first words of a third party's description (up to its first
    bracket or full stop)."""
    if prefix in FIRST_PARTY_LABELS:
        return FIRST_PARTY_LABELS[prefix]
    head = re.split(r"[(.:;]", description, maxsplit=1)[0]
    words = head.split()[:_LABEL_WORDS]
    return " ".join(words) or f"_{prefix}"


@dataclass(frozen=True, slots=True)
class ProviderOption:
    """An installed provider as the source picker shows it."""

    prefix: str
    description: str
    name_hint: str
    key_hint: str
    can_list: bool

    @property
    def label(self) -> str:
        return short_label(self.prefix, self.description)


@dataclass(frozen=True, slots=True)
class Message:
    """A validation finding shown next to a field; never holds a value."""

    level: str
    text: str


@dataclass
class Row:
    """One variable of a role as the form holds it."""

    variable: str
    source: str = MANUAL
    name: str = ""
    key: str = ""
    value: str = field(default="", repr=False)
    #: The verbatim reference of a "keep" row (a reference, not a secret).
    kept: str = ""
    #: True for the resource type's fields (they cannot be removed).
    fixed: bool = False
    remove: bool = False
    #: For new rows: the form index (``n-3-...``).
    new_index: int | None = None
    messages: list[Message] = field(default_factory=list)
    status: str | None = None
    status_ok: bool = False

    @property
    def errors(self) -> list[Message]:
        return [message for message in self.messages if message.level == ERROR]

    def text(self) -> str:
        """The value written to the file."""
        if self.source == MANUAL:
            return self.value
        if self.source == KEEP:
            return self.kept
        if self.source == IAM:
            return f"_{IAM_PREFIX}:{self.value}"
        reference = f"_{self.source}:{self.name}"
        return f"{reference}:{self.key}" if self.key else reference


class Catalog:
    """The installed providers, read from the plugin registry at run time."""

    def __init__(self, resolver: envsecrets.Resolver) -> None:
        self.resolver = resolver
        registry = resolver.registry
        #: Provider settings, which an env file may not set (``run`` refuses).
        self.settings = registry.settings()
        #: Why some plugins offer no provider here (shown on the roles page).
        self.problems = [
            f"plugin {f.plugin!r} failed to load: {f.reason}" for f in registry.failures
        ]
        self.problems += [f"{conflict} (not offered)" for conflict in registry.conflicts.values()]
        self.options: dict[str, ProviderOption] = {}
        for prefix in sorted(registry.providers):
            if prefix in registry.conflicts:
                continue
            cls = registry.providers[prefix].provider_class
            self.options[prefix] = ProviderOption(
                prefix,
                cls.description,
                cls.name_hint,
                cls.key_hint,
                envsecrets.provider_can_list(cls),
            )

    def split(self, prefix: str, rest: str) -> tuple[tuple[str, str | None], str | None]:
        """The provider's own (NAME, KEY) for *rest*, and a note when the
        provider could not start here (then its class splits without it).

        :raise envsecrets.ReferenceSyntaxError: as the provider raises it.
        """
        note = None
        try:
            self.resolver.provider(prefix)
        except envsecrets.ReferenceSyntaxError:
            raise
        except envsecrets.EnvsecretsError as error:
            # Not configured on this machine (no VAULT_ADDR...): splitting is
            # class-level, so the reference can still be read.
            note = str(error)
        cls = self.resolver.registry.providers[prefix].provider_class
        try:
            return cls.split(rest), note
        except envsecrets.ReferenceSyntaxError:
            raise
        except Exception:  # a third party's broken split: the grammar's own
            return envsecrets.Provider.split(rest), note

    def row_from_value(self, variable: str, value: str, *, fixed: bool = False) -> Row:
        """Put a value read from a file back into its source, NAME and KEY."""
        parts = grammar.split(value)
        if parts is None:
            return Row(variable, MANUAL, value=value, fixed=fixed)
        prefix, rest = parts
        if prefix not in self.options:
            return Row(variable, KEEP, kept=value, fixed=fixed)
        try:
            (name, key), _ = self.split(prefix, rest)
        except envsecrets.EnvsecretsError:
            name, key = rest, None  # shown as it is; validation says what is wrong
        return Row(variable, prefix, name=name, key=key or "", fixed=fixed)

    def validate(self, row: Row) -> list[Message]:
        """What is wrong with *row* (errors block Save) and what to know."""
        found: list[Message] = []
        if not VARIABLE_NAME.fullmatch(row.variable):
            found.append(
                Message(
                    ERROR, "the variable name must be A-Z, 0-9 and _, not starting with a digit"
                )
            )
        if row.source == KEEP:
            prefix = (grammar.split(row.kept) or ("?", ""))[0]
            found.append(
                Message(
                    WARNING,
                    f"no installed provider serves _{prefix}: the reference is kept as it is",
                )
            )
            return found
        if row.source == MANUAL:
            return found + self._validate_manual(row.value)
        if row.source == IAM:
            return found + self._validate_iam(row)
        if row.source not in self.options:
            return [*found, Message(ERROR, f"no installed provider serves _{row.source}")]
        return found + self._validate_reference(row)

    def _validate_iam(self, row: Row) -> list[Message]:
        found = []
        if not row.value:
            found.append(Message(ERROR, "the database user is empty"))
        elif ":" in row.value or any(not char.isprintable() for char in row.value):
            found.append(Message(ERROR, "the database user cannot hold ':' or control characters"))
        if IAM_PREFIX not in self.options:
            found.append(
                Message(
                    WARNING,
                    f"no installed provider serves _{IAM_PREFIX} here: Test and envsecrets run "
                    "need envsecrets-aws with RDS IAM authentication",
                )
            )
        return found

    def _validate_manual(self, value: str) -> list[Message]:
        parts = grammar.split(value)
        if parts is None:
            return []
        prefix, rest = parts
        if prefix not in self.options:
            # What check -e says; a reference kept from the file is a
            # warning instead (source "keep"): the page did not write it.
            return [Message(ERROR, f"no installed provider serves the prefix _{prefix}")]
        try:
            self.split(prefix, rest)
        except envsecrets.EnvsecretsError as error:
            return [Message(ERROR, f"this value is a reference to _{prefix}, and invalid: {error}")]
        return [Message(INFO, f"this value is a reference: its value comes from _{prefix}")]

    def _validate_reference(self, row: Row) -> list[Message]:
        if not row.name:
            return [Message(ERROR, "NAME is empty")]
        for part, text in (("NAME", row.name), ("KEY", row.key)):
            if any(not char.isprintable() for char in text):
                return [Message(ERROR, f"{part} holds a control character")]
        prefix = row.source
        rest = row.text()[len(prefix) + 2 :]
        try:
            (name, key), note = self.split(prefix, rest)
        except envsecrets.EnvsecretsError as error:
            return [Message(ERROR, str(error))]
        found = []
        if (name, key or "") != (row.name, row.key):
            shown_key = "no KEY" if key is None else f"KEY {key!r}"
            hint = " (a NAME with ':' needs a KEY)" if ":" in row.name and not row.key else ""
            found.append(
                Message(
                    ERROR,
                    f"_{prefix} would read this as NAME {name!r} and {shown_key}{hint}",
                )
            )
        if note:
            found.append(Message(WARNING, f"not usable here: {note}"))
        return found


def check_rows(
    rows: Iterable[Row], data: Mapping[str, str], environ: Mapping[str, str]
) -> dict[str, tuple[bool, str]]:
    """Resolve the rows' references as ``envsecrets check --fetch -e FILE``
    does; return (ok, "ok" or the reason) by variable, never a value.

    Every row goes to the resolver, plain values too: a provider that reads
    sibling variables (``PASS=_aws_iam_rds:authtoken`` reads HOST, PORT and
    USER) finds them as ``run`` would.
    """
    from envsecrets.resolver import DEFAULT_TIMEOUT

    rows = list(rows)
    variables = {row.variable: row.text() for row in rows}
    outcome: dict[str, tuple[bool, str]] = {}
    with envsecrets.Resolver(environ, data=data, timeout=DEFAULT_TIMEOUT) as resolver:
        for result in resolver.check(variables, fetch=True):
            outcome[result.variable] = (True, "ok") if result.ok else (False, str(result.error))
    for row in rows:
        if row.variable in outcome:
            continue
        if row.source == IAM:
            # Not a reference to this core's grammar, or no provider: say so.
            reason = f"no installed provider serves _{IAM_PREFIX} (envsecrets-aws with RDS IAM)"
            outcome[row.variable] = (False, reason)
        else:
            outcome[row.variable] = (True, "manual value")
    return outcome
