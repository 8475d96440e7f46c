"""Resource templates: the variables of one kind of role (a PostgreSQL
database, a Redis server...), for tools that compose role files such as the
role editor (``envsecrets edit``). Plugins add their own through the
``envsecrets_resource_templates`` hook; the core only carries them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from envsecrets.errors import PluginError

_TEMPLATE_NAME = re.compile(r"[a-z][a-z0-9_-]*")
_VARIABLE = re.compile(r"[A-Z_][A-Z0-9_]*")


@dataclass(frozen=True, slots=True)
class ResourceTemplate:
    """The fields of one kind of resource role.

    .. versionadded:: 0.2

    :param name: the identifier written in the role file
        (``# envsecrets role: redis``): lowercase letters, digits, ``_``, ``-``.
    :param label: what a page shows (``Redis``).
    :param fields: the role's variable names, in the order shown.
    :param labels: a label per field (``{"HOST": "Host"}``); the variable
        name is shown where none is given.
    :param secret: the fields whose typed values are masked (passwords).
    :param examples: placeholder examples of typed values, by field.
    :raise PluginError: when a name, field or label is unusable.
    """

    name: str
    label: str
    fields: tuple[str, ...]
    labels: Mapping[str, str] = field(default_factory=dict)
    secret: frozenset[str] = frozenset()
    examples: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not (isinstance(self.name, str) and _TEMPLATE_NAME.fullmatch(self.name)):
            raise PluginError(f"a template name must match [a-z][a-z0-9_-]*, not {self.name!r}")
        if not isinstance(self.label, str) or not self.label.strip():
            raise PluginError(f"the template {self.name!r} needs a label")
        if not isinstance(self.fields, tuple) or not all(
            isinstance(name, str) and _VARIABLE.fullmatch(name) for name in self.fields
        ):
            raise PluginError(
                f"the fields of template {self.name!r} must be a tuple of variable names "
                "(A-Z, 0-9, _)"
            )
        named = set(self.labels) | set(self.secret) | set(self.examples)
        if not named <= set(self.fields):
            unknown = ", ".join(sorted(named - set(self.fields)))
            raise PluginError(f"the template {self.name!r} names fields it lacks: {unknown}")

    def field_label(self, variable: str) -> str:
        """The label of *variable* (its own name when the template has none)."""
        return self.labels.get(variable, variable)
