"""Resource types: the fields a role of each kind has.

Templates are data (:class:`envsecrets.ResourceTemplate`): the built-in
ones below, then those installed plugins add through the
``envsecrets_resource_templates`` hook. A field's name is the variable
written to the role file (``HOST=...``), so the file reads as the form
does; its label is what the original web app shows (``Host``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from envsecrets import ResourceTemplate

#: The editor's name for a resource template.
ResourceType = ResourceTemplate

_DATABASE_LABELS = {
    "HOST": "Host",
    "USER": "User",
    "PASS": "Pass",
    "PORT": "Port",
    "DB": "Database",
    "SSLMODE": "SSL Mode",
    "INSECURE": "Insecure",
}
_PASS = frozenset({"PASS"})


def _labels(fields: Iterable[str], **more: str) -> dict[str, str]:
    found = {name: _DATABASE_LABELS[name] for name in fields if name in _DATABASE_LABELS}
    return {**found, **more}


def _database(name: str, label: str, fields: tuple[str, ...], port: str) -> ResourceType:
    """A database role: the original's labels, PASS masked."""
    examples = {"HOST": "db.internal", "PORT": port, "DB": "app"}
    if "SSLMODE" in fields:
        examples["SSLMODE"] = "require"
    if "INSECURE" in fields:
        examples["INSECURE"] = "false"
    return ResourceType(name, label, fields, _labels(fields), _PASS, examples)


_SQL = ("HOST", "USER", "PASS", "PORT", "DB")
_BUILT_IN = (
    _database("postgres", "PostgreSQL", (*_SQL, "SSLMODE"), "5432"),
    _database("mysql", "MySQL / MariaDB", _SQL, "3306"),
    _database("mssql", "Microsoft SQL Server", (*_SQL, "INSECURE"), "1433"),
    ResourceType(
        "mongodb",
        "MongoDB",
        ("CONNECTION_STRING",),
        {"CONNECTION_STRING": "Connection string"},
        frozenset({"CONNECTION_STRING"}),  # it holds the password
        {"CONNECTION_STRING": "mongodb://db.internal:27017/app"},
    ),
    ResourceType(
        "ssh",
        "SSH",
        ("HOST", "PORT", "USER", "PASS", "AUTHORIZED_SERVER_KEYS"),
        _labels(("HOST", "PORT", "USER", "PASS"), AUTHORIZED_SERVER_KEYS="Authorized server keys"),
        _PASS,
        {"HOST": "bastion.internal", "PORT": "22"},
    ),
    ResourceType(
        "http",
        "HTTP",
        ("REMOTE_URL", "HEADER_AUTHORIZATION"),
        {"REMOTE_URL": "Remote URL", "HEADER_AUTHORIZATION": "Authorization header"},
        frozenset({"HEADER_AUTHORIZATION"}),
        {"REMOTE_URL": "https://api.internal", "HEADER_AUTHORIZATION": "Bearer ..."},
    ),
    # The original's "custom" connections run a shell command with the
    # role's variables: no fixed fields, every variable under "Other".
    ResourceType("bash", "Bash", ()),
    ResourceType("shell", "Shell (any command)", ()),
)
CUSTOM = ResourceType("custom", "Custom (no fixed fields)", ())

#: The built-in resource types, by name (``custom`` last).
RESOURCE_TYPES: Mapping[str, ResourceType] = {t.name: t for t in (*_BUILT_IN, CUSTOM)}

#: How a role of each type is used (the command after ``--``).
USAGE = {"bash": "bash", "shell": "sh -c 'COMMAND'"}

#: The types whose roles may connect with an AWS IAM role (RDS IAM tokens).
IAM_TYPES = frozenset({"postgres", "mysql"})


def resource_types(added: Iterable[ResourceType] = ()) -> dict[str, ResourceType]:
    """The built-in types, then those plugins *added* (a plugin's type
    named like a built-in one is left out), then custom."""
    found = {t.name: t for t in _BUILT_IN}
    for template in added:
        if template.name not in found and template.name != CUSTOM.name:
            found[template.name] = template
    found[CUSTOM.name] = CUSTOM
    return found


def guess_type(
    declared: str | None,
    variables: Mapping[str, str],
    types: Mapping[str, ResourceType] = RESOURCE_TYPES,
) -> ResourceType:
    """The resource type of a role: the one its file declares, else the
    template with the most fields that are all present, else custom."""
    if declared is not None and declared in types:
        return types[declared]
    best = types.get(CUSTOM.name, CUSTOM)
    for resource in types.values():
        fits = all(name in variables for name in resource.fields)
        if fits and len(resource.fields) > len(best.fields):
            best = resource
    return best
