"""The records of ``envsecrets`` subcommands (the core's and the plugins'),
and the context a plugin command runs with."""

from __future__ import annotations

import argparse
import logging
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from envsecrets.errors import (
    EnvsecretsError,
    ListingNotSupported,
    PluginError,
    ProviderNotInstalled,
    ReferenceSyntaxError,
    ResolutionError,
)

if TYPE_CHECKING:
    from envsecrets.isolation import EnvFile
    from envsecrets.resolver import Resolver

log = logging.getLogger(__name__)

#: Success.
EXIT_OK = 0
#: A reference, a fetch or a listing failed.
EXIT_FAILURE = 1
#: A usage error: bad arguments, a refused ``ENVSECRETS_PLUGINS``, a prefix no
#: provider serves, a provider that cannot list.
EXIT_USAGE = 2

#: The plugin name of the core's own commands (:mod:`envsecrets.cli.builtin`).
BUILTIN_PLUGIN = "envsecrets.cli.builtin"

_COMMAND_NAME = re.compile(r"[a-z][a-z0-9-]*")


@dataclass(frozen=True, slots=True)
class Command:
    """A subcommand of ``envsecrets`` (a plugin's ``envsecrets edit``).

    :param name: the command word, lowercase letters, digits and ``-``; it
        cannot replace a built-in command.
    :param summary: one line for ``envsecrets --help``.
    :param configure_parser: adds the command's arguments to its
        :class:`argparse.ArgumentParser` (its description included).
    :param action: runs the command with the parsed arguments and returns
        the exit code; with *context*, it is called as ``action(args,
        context)`` with a :class:`CommandContext`.
    :param context: give *action* the context built-in commands use: a
        configured resolver, the standard error printing, exit codes
        (keyword only).
    :param env_files: give the command ``-e FILE`` (repeatable) and
        ``--allow-provider-settings``, as ``run``, ``resolve`` and ``check``
        have them; its context reads them (keyword only; needs *context*).
    :raise PluginError: when the name or the callables are unusable.
    """

    name: str
    summary: str
    configure_parser: Callable[[argparse.ArgumentParser], None]
    action: Callable[..., int]
    #: Whether *action* takes a :class:`CommandContext` as second argument.
    context: bool = field(default=False, kw_only=True)
    #: Whether the command takes env files (``-e FILE``), read by its context.
    env_files: bool = field(default=False, kw_only=True)

    def __post_init__(self) -> None:
        if not (isinstance(self.name, str) and _COMMAND_NAME.fullmatch(self.name)):
            raise PluginError(f"a command name must match [a-z][a-z0-9-]*, not {self.name!r}")
        if not (callable(self.configure_parser) and callable(self.action)):
            raise PluginError(
                f"the command {self.name!r} needs callable configure_parser and action"
            )
        if self.env_files and not self.context:
            raise PluginError(
                f"the command {self.name!r} takes env files only with context=True "
                "(its context reads them)"
            )

    def setup_parser(self, parser: argparse.ArgumentParser) -> None:
        """Set up the command's *parser*: ``-e FILE`` and
        ``--allow-provider-settings`` when it takes env files, then its own
        :attr:`configure_parser`."""
        if self.env_files:
            from envsecrets.cli.options import add_env_files

            add_env_files(parser)
        self.configure_parser(parser)


@dataclass(frozen=True, slots=True)
class CommandInfo:
    """A command and the plugin it came from."""

    command: Command
    plugin: str
    distribution: str | None = None
    version: str | None = None

    @property
    def builtin(self) -> bool:
        """Whether the core itself adds the command."""
        return self.plugin == BUILTIN_PLUGIN

    @property
    def origin(self) -> str:
        """Who adds the command, as ``envsecrets --help`` names it."""
        if self.builtin:
            return "envsecrets"
        return self.distribution or f"plugin {self.plugin}"


class CommandExit(Exception):
    """Ends a command with *code* once its message is printed (or none)."""

    def __init__(self, code: int, message: str | None = None) -> None:
        super().__init__(message or f"exit {code}")
        self.code = code
        self.message = message


@dataclass
class CommandContext:
    """What a plugin command gets from envsecrets, as the built-in commands
    use it (``Command(..., context=True)``, then ``action(args, context)``).

    Inside the action, envsecrets' errors need no handling: a
    :class:`~envsecrets.ResolutionError` or a
    :class:`~envsecrets.ProviderError` raised out of it is printed as
    ``envsecrets: error: ...`` and ends the command with :data:`EXIT_FAILURE`;
    an unknown prefix, a provider that cannot list or a bad reference
    (:class:`~envsecrets.ProviderNotInstalled`,
    :class:`~envsecrets.ListingNotSupported`,
    :class:`~envsecrets.ReferenceSyntaxError`) with :data:`EXIT_USAGE`.

    :param environ: the process environment: the providers' settings.
    :param verbosity: the count of ``-v``.
    :param env_files: the env files of ``-e``, in order (a command made
        with ``env_files=True``).
    :param allow_provider_settings: ``--allow-provider-settings``: the env
        files may set provider settings, which then configure the providers.
    """

    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    verbosity: int = 0
    env_files: Sequence[str] = ()
    allow_provider_settings: bool = False
    EXIT_OK: ClassVar[int] = EXIT_OK
    EXIT_FAILURE: ClassVar[int] = EXIT_FAILURE
    EXIT_USAGE: ClassVar[int] = EXIT_USAGE
    _files: list[EnvFile] | None = field(default=None, init=False, repr=False, compare=False)

    def variables(self) -> dict[str, str]:
        """The variables the command acts on, as ``check`` and ``resolve``
        choose them: those of the env files when ``-e`` was given (later
        files win), otherwise the process environment.

        :raise CommandExit: for an env file that cannot be read, or that
            sets a NUL character (printed; exit :data:`EXIT_USAGE`).
        """
        if not self.env_files:
            return dict(self.environ)
        from envsecrets.cli.session import merged  # as run, resolve and check merge them

        return merged(self._read_files())

    def resolver(self, *, timeout: float | None = None) -> Resolver:
        """A :class:`~envsecrets.Resolver` configured as the built-in
        commands configure theirs: settings from the process environment
        only, ``ENVSECRETS_PLUGINS`` and ``ENVSECRETS_DISABLE_PLUGINS``
        honoured. With env files (``-e``), as ``run``, ``resolve`` and
        ``check``: their variables are data the providers may read
        (``_envjson``), and a file setting a provider setting is refused
        unless ``--allow-provider-settings`` (then the files' settings
        configure the providers). Use it in a ``with`` block.

        :param timeout: the deadline of each resolution (default: the core's).
        :raise CommandExit: when ``ENVSECRETS_PLUGINS`` names what is not
            installed, or for an env file that cannot be read or is
            refused (printed; the command ends with :data:`EXIT_USAGE`).
        """
        from envsecrets.cli.session import merged
        from envsecrets.refusals import setting_refusals
        from envsecrets.resolver import DEFAULT_TIMEOUT, Resolver

        files = self._read_files() if self.env_files else []
        from_files = merged(files)
        settings = {**self.environ, **from_files} if self.allow_provider_settings else self.environ
        resolver = Resolver(
            settings, data=from_files, timeout=DEFAULT_TIMEOUT if timeout is None else timeout
        )
        registry = resolver.registry
        refused = [registry.allowlist_error] if registry.allowlist_error else []
        if not (refused or self.allow_provider_settings):
            refused = [r.message for r in setting_refusals(files, registry.settings())]
        if refused:
            resolver.close()
            for message in refused[:-1]:
                self.error(message)
            raise CommandExit(EXIT_USAGE, refused[-1])
        return resolver

    def _read_files(self) -> list[EnvFile]:
        """The env files of ``-e``, read once."""
        if self._files is None:
            from envsecrets.envfiles import read_each
            from envsecrets.refusals import nul_refusals

            try:
                files = read_each(self.env_files)
            except EnvsecretsError as problem:
                raise CommandExit(EXIT_USAGE, str(problem)) from None
            holding_nul = nul_refusals(files)
            if holding_nul:
                raise CommandExit(EXIT_USAGE, holding_nul[0].message)
            self._files = files
        return self._files

    def error(self, message: str) -> None:
        """Print *message* as ``envsecrets: error: ...`` to stderr, each line
        escaped for the terminal (names from outside cannot send escapes)."""
        from envsecrets.cli.exits import error

        error(message)

    def fail(self, message: str, code: int = EXIT_USAGE) -> CommandExit:
        """The exception that prints *message* and ends the command with
        *code*: ``raise context.fail("no such parameter")``."""
        return CommandExit(code, message)


def run_command(info: CommandInfo, args: argparse.Namespace) -> int:
    """Run a plugin's command: its action with a context when it asks for
    one; envsecrets' errors printed with their exit codes; any other
    exception (a bug) reported by its type, its frames at ``-vv``, never
    its message (it may quote a value)."""
    from envsecrets.cli.exits import error

    command = info.command
    try:
        if command.context:
            context = CommandContext(
                verbosity=getattr(args, "verbose", 0),
                env_files=tuple(getattr(args, "env_file", ()) if command.env_files else ()),
                allow_provider_settings=bool(getattr(args, "allow_provider_settings", False)),
            )
            code = command.action(args, context)
        else:
            code = command.action(args)
    except (KeyboardInterrupt, BrokenPipeError):
        raise
    except CommandExit as done:
        if done.message:
            error(done.message)
        return done.code
    except ResolutionError as failure:
        error(str(failure))
        return EXIT_FAILURE
    except (ProviderNotInstalled, ListingNotSupported, ReferenceSyntaxError) as problem:
        error(str(problem))
        return EXIT_USAGE
    except EnvsecretsError as problem:
        error(str(problem))
        return EXIT_FAILURE
    except Exception as problem:  # a plugin's bug: which, and where at -vv
        from envsecrets.extraction import log_bug

        # Its type only: the message of a KeyError or a ValueError may quote a value.
        log_bug(problem, f"the {command.name} command of {info.origin} failed")
        error(f"the {command.name} command failed ({type(problem).__name__}); -vv shows where")
        return EXIT_FAILURE
    return int(code or 0)


def why_unavailable(word: str) -> str | None:
    """Why ``envsecrets WORD`` names no command when a plugin was left out
    (disabled, not allowed, broken, or a refused allowlist); ``None`` when
    every installed plugin loaded (then the word is just unknown). The
    plugins left out are never imported to find out whose the word is."""
    from envsecrets.cli import builtin
    from envsecrets.plugins import load_registry
    from envsecrets.registry import ALLOW_VARIABLE, DISABLE_VARIABLE

    try:
        registry = load_registry(plugins=[builtin], commands=True)
    except Exception:  # the parser's own message then
        return None
    if registry.allowlist_error:
        return f"no command {word!r}: {registry.allowlist_error}"
    left_out = [(name, f"disabled by {DISABLE_VARIABLE}") for name in sorted(registry.disabled)]
    left_out += [
        (name, f"not in {ALLOW_VARIABLE}" + (f" ({dist})" if dist else ""))
        for name, dist in sorted(registry.not_allowed.items())
    ]
    left_out += [(failure.plugin, "failed to load") for failure in registry.failures]
    if not left_out:
        return None
    stem = word.partition("-")[0]
    own = [
        (name, why)
        for name, why in left_out
        if stem in (name, name.removeprefix("envsecrets-"), name.removeprefix("envsecrets_"))
    ]
    if own:
        name, why = own[0]
        return f"the command {word!r} is unavailable: plugin {name!r} is {why}"
    listed = "; ".join(f"plugin {name!r} is {why}" for name, why in left_out)
    known = ", ".join(registry.commands)
    return f"no command {word!r} (commands: {known}); plugins left out: {listed}"
