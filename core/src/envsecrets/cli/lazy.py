"""``COMMAND`` of the commands a thin client of the agent runs (``run``,
``resolve``, ``check``, ``get``), built on first use: the
:class:`envsecrets.Command` record (a dataclass, with ``dataclasses`` and
``inspect`` behind it) is needed to list commands, not to run one through
the agent (:mod:`envsecrets.entry` calls the module's functions)."""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without typing
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable


def command_on_first_use(
    module: str,
    name: str,
    summary: str,
    configure_parser: Callable[[argparse.ArgumentParser], None],
    action: Callable[[argparse.Namespace], int],
) -> Callable[[str], object]:
    """A module ``__getattr__`` (PEP 562) that makes *module*'s ``COMMAND``."""

    def attribute(attribute_name: str) -> object:
        if attribute_name != "COMMAND":
            raise AttributeError(f"module {module!r} has no attribute {attribute_name!r}")
        from envsecrets.commands import Command

        command = Command(name, summary, configure_parser, action)
        vars(sys.modules[module])["COMMAND"] = command  # built once
        return command

    return attribute
