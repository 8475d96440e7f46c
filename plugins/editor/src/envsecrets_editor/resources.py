"""Resource types: the fields a role of each kind has.

Templates are data: adding a resource type is one entry in
:data:`RESOURCE_TYPES`. A field's name is the variable written to the role
file (``HOST=...``), so the file reads as the form does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ResourceType:
    """The fields of one kind of resource role.

    :param name: the identifier stored in the role file (``postgres``).
    :param label: what the page shows (``PostgreSQL``).
    :param fields: variable names, in the order the page shows them.
    :param examples: placeholder examples of manual values, by field.
    """

    name: str
    label: str
    fields: tuple[str, ...]
    examples: Mapping[str, str] = field(default_factory=dict)


RESOURCE_TYPES: Mapping[str, ResourceType] = {
    resource.name: resource
    for resource in (
        ResourceType(
            "postgres",
            "PostgreSQL",
            ("HOST", "USER", "PASS", "PORT", "DB", "SSLMODE"),
            {"HOST": "db.internal", "PORT": "5432", "DB": "app", "SSLMODE": "require"},
        ),
        ResourceType(
            "mysql",
            "MySQL / MariaDB",
            ("HOST", "USER", "PASS", "PORT", "DB"),
            {"HOST": "db.internal", "PORT": "3306", "DB": "app"},
        ),
        ResourceType(
            "mssql",
            "Microsoft SQL Server",
            ("HOST", "USER", "PASS", "PORT", "DB", "INSECURE"),
            {"HOST": "db.internal", "PORT": "1433", "DB": "app", "INSECURE": "false"},
        ),
        ResourceType(
            "mongodb",
            "MongoDB",
            ("CONNECTION_STRING",),
            {"CONNECTION_STRING": "mongodb://db.internal:27017/app"},
        ),
        ResourceType(
            "ssh",
            "SSH",
            ("HOST", "PORT", "USER", "PASS", "AUTHORIZED_SERVER_KEYS"),
            {"HOST": "bastion.internal", "PORT": "22"},
        ),
        ResourceType(
            "http",
            "HTTP",
            ("REMOTE_URL", "HEADER_AUTHORIZATION"),
            {"REMOTE_URL": "https://api.internal", "HEADER_AUTHORIZATION": "Bearer ..."},
        ),
        ResourceType("custom", "Custom (no fixed fields)", ()),
    )
}

#: The type of a role whose file names none and matches no template.
CUSTOM = RESOURCE_TYPES["custom"]


def guess_type(declared: str | None, variables: Mapping[str, str]) -> ResourceType:
    """The resource type of a role: the one its file declares, else the
    template with the most fields that are all present, else custom."""
    if declared is not None and declared in RESOURCE_TYPES:
        return RESOURCE_TYPES[declared]
    best = CUSTOM
    for resource in RESOURCE_TYPES.values():
        fits = all(name in variables for name in resource.fields)
        if fits and len(resource.fields) > len(best.fields):
            best = resource
    return best
