"""The hook specifications: how plugins register providers and commands.

The single name ``envsecrets`` feeds the hook markers and the entry-point
group, so a plugin needs to know one word.
"""

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

        Called once when a resolver loads its plugins. The core builds one
        instance per resolver, the first time a reference uses its prefix.

        :return: provider classes (subclasses of :class:`envsecrets.Provider`).

        Example plugin module, registered under the ``envsecrets``
        entry-point group (``rev = "envsecrets_rev"``)::

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

        The core's own commands come through this hook too, from an
        internal plugin registered before any installed one: a plugin
        command named like a built-in is left out and reported. Plugins are
        asked only when the command line names no built-in command (for
        ``--help``, or a plugin's command), so ``run`` never loads command
        plugins and a broken one cannot break it.

        .. versionadded:: 0.2

        A command made with ``context=True`` is called as ``action(args,
        context)``: an :class:`envsecrets.CommandContext` gives it a
        configured resolver, envsecrets' error printing and exit codes;
        with ``env_files=True`` too, ``-e FILE`` and
        ``--allow-provider-settings``, read under the rules of ``run``.

        :return: :class:`envsecrets.Command` records.

        Example plugin module (``hello = "envsecrets_hello"`` in the
        ``envsecrets`` entry-point group)::

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
        never by ``run``. A template named like another is left out and
        reported.

        .. versionadded:: 0.2

        :return: :class:`envsecrets.ResourceTemplate` records.

        Example plugin module::

            import envsecrets

            @envsecrets.hookimpl
            def envsecrets_resource_templates():
                return [
                    envsecrets.ResourceTemplate(
                        "redis", "Redis", ("HOST", "PORT", "PASS"),
                        labels={"HOST": "Host", "PORT": "Port", "PASS": "Password"},
                        secret=frozenset({"PASS"}),
                    )
                ]
        """
