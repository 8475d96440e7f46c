"""The example's resource template reaches the role editor through the
``envsecrets_resource_templates`` hook (``run`` never asks for it)."""

from __future__ import annotations

import envsecrets
from envsecrets.plugins import load_registry

from envsecrets_file import templates


def test_the_template_is_registered_through_the_hook() -> None:
    registry = load_registry(plugins=[templates], entry_points=False, templates=True)
    assert registry.templates == (templates.SMTP,)
    smtp = registry.templates[0]
    assert smtp.fields == ("HOST", "PORT", "USER", "PASS", "STARTTLS")
    assert smtp.secret == frozenset({"PASS"})
    assert smtp.field_label("HOST") == "Host"


def test_the_installed_entry_point_adds_it() -> None:
    registry = load_registry(environ={}, templates=True)
    assert "smtp" in {template.name for template in registry.templates}
    assert not registry.failures


def test_run_does_not_ask_for_templates() -> None:
    assert load_registry(plugins=[templates], entry_points=False).templates == ()
    assert isinstance(templates.SMTP, envsecrets.ResourceTemplate)
