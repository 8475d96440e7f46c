"""The hook specifications: providers, commands, resource templates. The one
name ``envsecrets`` feeds the hook markers and the entry-point group."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from envsecrets.commands import Command
    from envsecrets.provider import Provider
    from envsecrets.templates import ResourceTemplate

#: Project name: hook marker name and entry-point group.
NAME = "envsecrets"

_hookspec = pluggy.HookspecMarker(NAME)

#: Marker for hook implementations in plugins (``@envsecrets.hookimpl``).
hookimpl = pluggy.HookimplMarker(NAME)


class ProviderSpec:
    """Hook specifications of envsecrets."""

    @_hookspec
    def envsecrets_providers(self) -> Sequence[type[Provider]]:  # type: ignore[empty-body]
        """Return the provider classes this plugin contributes.

        Called once when a resolver loads its plugins; the core builds one
        instance per resolver, the first time a reference uses its prefix.

        :return: provider classes (subclasses of :class:`envsecrets.Provider`).

        Example plugin module (``rev = "envsecrets_rev"`` in the
        ``envsecrets`` entry-point group)::

            import envsecrets

            class ReverseProvider(envsecrets.Provider):
                prefix = "rev"
                description = "Reverses its name (an example)."

                def fetch(self, name):
                    return {"value": name[::-1]}

            @envsecrets.hookimpl
            def envsecrets_providers():
                return [ReverseProvider]
        """

    @_hookspec
    def envsecrets_commands(self) -> Sequence[Command]:  # type: ignore[empty-body]
        """Return the subcommands this plugin adds to ``envsecrets``.

        The built-in commands come through this hook too, registered first:
        a plugin command named like one is left out and reported. Plugins
        are asked only when the command line names no built-in command, so
        a broken one cannot break ``run``. With ``context=True`` the action
        is called as ``action(args, context)`` (an
        :class:`envsecrets.CommandContext`: a configured resolver, error
        printing, exit codes); with ``env_files=True`` too, it takes ``-e``.

        .. versionadded:: 0.2

        :return: :class:`envsecrets.Command` records.

        Example plugin module (``hello = "envsecrets_hello"``)::

            import envsecrets

            def configure(parser):
                parser.add_argument("who", nargs="?", default="world")

            def hello(args):
                print(f"hello, {args.who}")
                return 0

            @envsecrets.hookimpl
            def envsecrets_commands():
                return [envsecrets.Command("hello", "say hello", configure, hello)]
        """

    @_hookspec
    def envsecrets_resource_templates(self) -> Sequence[ResourceTemplate]:  # type: ignore[empty-body]
        """Return the resource templates this plugin adds to the role editor.

        Asked only by tools that compose role files (``envsecrets edit``),
        never by ``run``; a template named like another is left out and
        reported.

        .. versionadded:: 0.2

        :return: :class:`envsecrets.ResourceTemplate` records, such as
            ``ResourceTemplate("redis", "Redis", ("HOST", "PORT", "PASS"),
            secret=frozenset({"PASS"}))``.
        """
