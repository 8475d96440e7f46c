"""The contract of a plugin that adds commands (``envsecrets_commands``)."""

from __future__ import annotations

import argparse
import inspect
import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import pytest

from envsecrets.cli import BUILTIN_COMMANDS
from envsecrets.commands import Command, CommandContext
from envsecrets.plugins import load_registry
from envsecrets.testing._support import HEAVY_MODULES, assert_entry_point, heavy_imports

#: A command word, as the core accepts it.
_COMMAND_NAME = re.compile(r"[a-z][a-z0-9-]*")


class CommandsContract:
    """Tests every plugin that adds ``envsecrets`` commands must pass.

    Subclass it and set :attr:`commands_plugin` to the module holding the
    ``envsecrets_commands`` hook::

        class TestEditorCommands(CommandsContract):
            commands_plugin = envsecrets_editor
            command_arguments = {"edit": [["--no-browser", "--port", "0"]]}
    """

    # pytest collects subclasses (``__init_subclass__``), never this base.
    __test__: ClassVar[bool] = False

    #: The plugin under test: a module (or object) with an
    #: ``envsecrets_commands`` hook implementation.
    commands_plugin: ClassVar[object]
    #: Modules that importing the plugin module must not import: ``envsecrets
    #: --help`` imports every command plugin.
    heavy_modules: ClassVar[Sequence[str]] = (*HEAVY_MODULES, "starlette", "uvicorn", "jinja2")
    #: Command lines each command's parser must accept, by command name.
    command_arguments: ClassVar[Mapping[str, Sequence[Sequence[str]]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__test__" not in cls.__dict__:
            cls.__test__ = True

    def test_the_hook_returns_command_records(self) -> None:
        hook = getattr(self.commands_plugin, "envsecrets_commands", None)
        assert callable(hook), "the plugin defines no envsecrets_commands function"
        records = list(hook())
        assert records, "envsecrets_commands returns no command"
        for record in records:
            assert isinstance(record, Command), (
                f"envsecrets_commands returned a {type(record).__name__}, not an envsecrets.Command"
            )
        registered = sorted(command.name for command in self.commands())
        assert registered == sorted(record.name for record in records), (
            "the core does not see the commands: mark the hook with @envsecrets.hookimpl"
        )

    def test_command_names_are_valid_and_free(self) -> None:
        builtins = frozenset(BUILTIN_COMMANDS)
        names = [command.name for command in self.commands()]
        for name in names:
            assert isinstance(name, str), f"the command name {name!r} must be a str"
            assert _COMMAND_NAME.fullmatch(name), (
                f"the command name {name!r} must match [a-z][a-z0-9-]*"
            )
            assert name not in builtins, (
                f"the command name {name!r} is a built-in command of envsecrets"
            )
        assert len(set(names)) == len(names), "two commands share a name"

    def test_summaries_are_one_line(self) -> None:
        for command in self.commands():
            assert isinstance(command.summary, str), f"{command.name}: summary must be a str"
            assert command.summary.strip(), f"{command.name}: set a summary for --help"
            assert "\n" not in command.summary, f"{command.name}: the summary is one line"

    def test_configure_parser_works_on_a_fresh_parser(self) -> None:
        for command in self.commands():
            # Twice: a parser set up from module-level state breaks the second time.
            for _ in range(2):
                parser = argparse.ArgumentParser(prog=f"envsecrets {command.name}")
                command.setup_parser(parser)  # as envsecrets does: -e too, with env_files
                assert parser.format_help()
                for argv in self.command_arguments.get(command.name, ()):
                    try:
                        parsed = parser.parse_args(list(argv))
                    except SystemExit:
                        pytest.fail(f"envsecrets {command.name} refuses {list(argv)!r}")
                    assert isinstance(parsed, argparse.Namespace)
        unknown = sorted(set(self.command_arguments) - {c.name for c in self.commands()})
        assert not unknown, f"command_arguments names unknown commands: {', '.join(unknown)}"

    def test_actions_accept_what_they_are_given(self) -> None:
        for command in self.commands():
            given = (
                (argparse.Namespace(), CommandContext())
                if command.context
                else (argparse.Namespace(),)
            )
            try:
                inspect.signature(command.action).bind(*given)
            except TypeError:
                form = "action(args, context)" if command.context else "action(args)"
                hint = "" if command.context else " (set context=True to get a CommandContext)"
                pytest.fail(f"{command.name}: the core calls {form}{hint}", pytrace=False)
            except ValueError:  # no signature to read (a builtin): trust it
                continue

    def test_entry_point_names_the_plugin(self) -> None:
        module = self._module()
        assert_entry_point(module, module.partition(".")[0].removeprefix("envsecrets_"))

    def test_import_pulls_no_heavy_module(self) -> None:
        module = self._module()
        heavy = heavy_imports(module, self.heavy_modules)
        assert not heavy, (
            f"importing {module} imports {', '.join(heavy)}: import them in the command's "
            "action, so that `envsecrets --help` and other commands never pay for them"
        )

    def commands(self) -> list[Command]:
        """The plugin's commands, as the core loads them."""
        registry = load_registry(
            environ={}, plugins=[self.commands_plugin], entry_points=False, commands=True
        )
        reasons = "; ".join(failure.reason for failure in registry.failures)
        assert not registry.failures, f"the plugin's commands failed to load: {reasons}"
        return [info.command for info in registry.commands.values()]

    def _module(self) -> str:
        module = getattr(self.commands_plugin, "__name__", None)
        if not isinstance(module, str):
            pytest.skip("the plugin is not a module")
        return module
