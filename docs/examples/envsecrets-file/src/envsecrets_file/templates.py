"""A resource template for the role editor (``envsecrets edit``): an SMTP
relay whose password is typically a mounted secret file (``_file:smtp``).

A plugin of its own (entry point ``file-templates``), so the provider
module stays as it is; the editor asks for templates, ``run`` never does.
"""

from __future__ import annotations

from collections.abc import Sequence

import envsecrets

__all__ = ["SMTP", "envsecrets_resource_templates"]

SMTP = envsecrets.ResourceTemplate(
    "smtp",
    "SMTP relay",
    ("HOST", "PORT", "USER", "PASS", "STARTTLS"),
    labels={"HOST": "Host", "PORT": "Port", "USER": "User", "PASS": "Pass", "STARTTLS": "STARTTLS"},
    secret=frozenset({"PASS"}),
    examples={"HOST": "smtp.internal", "PORT": "587", "STARTTLS": "true"},
)


@envsecrets.hookimpl
def envsecrets_resource_templates() -> Sequence[envsecrets.ResourceTemplate]:
    """Add the SMTP relay template to the role editor."""
    return [SMTP]
