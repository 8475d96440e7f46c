"""The ``envsecrets`` command line.

Exit codes: 0 success; 1 a reference failed (nothing was run or written);
2 usage error (bad option, unreadable env file, an env file setting a
provider setting); 126 the command was found but could not be started; 127
the command was not found; 130 interrupted.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from envsecrets import __version__, grammar, isolation
from envsecrets.errors import (
    EnvsecretsError,
    ListingNotSupported,
    ProviderNotInstalled,
    ResolutionError,
    quote_reference,
)
from envsecrets.provider import PREFIX_PATTERN
from envsecrets.resolver import DEFAULT_LIST_LIMIT, DEFAULT_TIMEOUT, Resolver

if TYPE_CHECKING:
    from envsecrets.plugins import CommandInfo

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_CANNOT_EXECUTE = 126
EXIT_NOT_FOUND = 127
EXIT_INTERRUPTED = 130

log = logging.getLogger("envsecrets")

_EPILOG = """\
references:
  A value _PREFIX:NAME[:KEY] is replaced by a secret, e.g.
    PG_PASS=_vaultkv2:database/pg:password
    PG_HOST=_aws:pgprod:PG_HOST
    PG_PORT=_envjson:ENV_CONFIG:PG_PORT
  Other values pass through unchanged. See `envsecrets providers`.

credentials:
  Provider settings (VAULT_ADDR, AWS_ENDPOINT_URL...) come from the process
  environment only; an env file setting one is refused. `run` keeps the
  providers' credentials (VAULT_TOKEN, AWS keys...) from COMMAND.

exit codes:
  0 success, 1 a reference failed (nothing run or written), 2 usage error,
  126 command cannot be started, 127 command not found, 130 interrupted.
"""

#: The commands of the core; a plugin command cannot replace one.
BUILTIN_COMMANDS = ("run", "resolve", "check", "get", "ls", "providers", "new-provider")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"envsecrets: error: {message}\n")


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds: {text!r}")
    return value


def _positive_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def build_parser(
    plugin_commands: Mapping[str, CommandInfo] | None = None,
) -> argparse.ArgumentParser:
    """The argument parser of every command, plus *plugin_commands*."""
    common = _Parser(add_help=False)
    common.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=argparse.SUPPRESS,
        help="log progress to stderr (-v info, -vv debug); never logs secret values",
    )
    files = _Parser(add_help=False)
    files.add_argument(
        "-e",
        "--env-file",
        action="append",
        default=[],
        metavar="FILE",
        help="read variables from a dotenv FILE (repeatable; later files win over "
        "earlier ones and over the environment; ${VAR} is not expanded)",
    )
    files.add_argument(
        "--allow-provider-settings",
        action="store_true",
        help="let env files set provider settings (VAULT_ADDR, AWS_*...), which then "
        "configure the providers: only for files you trust, since a file could send "
        "your credentials elsewhere",
    )
    credentials = _Parser(add_help=False)
    credentials.add_argument(
        "--keep-credentials",
        action="store_true",
        help="print the providers' credentials (VAULT_TOKEN, AWS keys...) of this "
        "process too; by default they are left out",
    )
    timeout = _Parser(add_help=False)
    timeout.add_argument(
        "--timeout",
        type=_positive_seconds,
        default=DEFAULT_TIMEOUT,
        metavar="S",
        help=f"deadline for the whole resolution, in seconds (default {DEFAULT_TIMEOUT:g})",
    )

    parser = _Parser(
        prog="envsecrets",
        description="Expand secret references in environment variables, then run a command.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"envsecrets {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    run = commands.add_parser(
        "run",
        parents=[common, files, timeout],
        help="resolve the environment, then replace this process with COMMAND",
        description="Resolve every reference in the environment (and env files), then "
        "replace this process with COMMAND, without a shell. COMMAND is never started "
        "if any reference fails. Secrets reach COMMAND only through its environment. "
        "The providers' credentials of this process (VAULT_TOKEN, AWS keys...) are "
        "not passed on unless --keep-credentials.",
    )
    child = run.add_mutually_exclusive_group()
    child.add_argument(
        "--keep-credentials",
        action="store_true",
        help="pass the providers' credentials of this process on to COMMAND",
    )
    child.add_argument(
        "--pristine",
        action="store_true",
        help="give COMMAND only the env files' variables, the resolved references and "
        "PATH, HOME, LANG, TERM",
    )
    run.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- COMMAND [ARG]...")

    resolve = commands.add_parser(
        "resolve",
        parents=[common, files, timeout, credentials],
        help="print the resolved variables (dotenv, json or shell)",
        description="Resolve and print variables: those of the env files when -e is "
        "given, otherwise the whole environment without the providers' credentials. "
        "dotenv output is for dotenv readers: to load it into a shell, use -f shell.",
    )
    resolve.add_argument(
        "-f",
        "--format",
        choices=("dotenv", "json", "shell"),
        default="dotenv",
        help="output format (default dotenv; shell prints export lines and skips "
        "names a shell cannot assign, with a note on stderr)",
    )
    resolve.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write to FILE instead of stdout: atomically, mode 0600",
    )

    check = commands.add_parser(
        "check",
        parents=[common, files, timeout],
        help="validate references without printing any value",
        description="Check every reference (of the env files when -e is given, otherwise "
        "of the environment): syntax and an installed provider; with --fetch, also that "
        "it resolves. Prints OK or the reason for each; never prints a value.",
    )
    check.add_argument("--fetch", action="store_true", help="also fetch each secret")

    get = commands.add_parser(
        "get",
        parents=[common, timeout],
        help="print the value of one reference",
        description="Resolve one reference, such as _aws:app/db:password, and print "
        "its value. Configuration (VAULT_ADDR...) comes from the environment.",
    )
    get.add_argument("reference", metavar="REFERENCE", help="_PREFIX:NAME[:KEY], quoted")
    get.add_argument(
        "-n", "--no-newline", action="store_true", help="do not print a newline after the value"
    )

    listing = commands.add_parser(
        "ls",
        parents=[common, timeout],
        help="list secret names (PREFIX:[NAME_PREFIX]) or a secret's keys (PREFIX:NAME:)",
        description="List the secret names a provider holds under a name prefix "
        "(`envsecrets ls _vaultkv2:database/`), or, with a trailing colon, the keys of "
        "one secret and the JSON type of each value (`envsecrets ls _aws:pgprod:`). "
        "Never prints a value. Sorted; at most --limit entries.",
    )
    listing.add_argument("target", metavar="PREFIX:[NAME_PREFIX] | PREFIX:NAME:")
    listing.add_argument(
        "-f",
        "--format",
        choices=("text", "json"),
        default="text",
        help="output format (default text)",
    )
    listing.add_argument(
        "--limit",
        type=_positive_count,
        default=DEFAULT_LIST_LIMIT,
        metavar="N",
        help=f"print at most N entries (default {DEFAULT_LIST_LIMIT}), with a notice when cut",
    )

    commands.add_parser(
        "providers",
        parents=[common],
        help="list installed providers and plugins that failed to load",
        description="List every prefix with the distribution that serves it, its "
        "version and description, and every plugin that failed to load.",
    )

    new_provider = commands.add_parser(
        "new-provider",
        parents=[common],
        help="write a new provider distribution, ready to install and test",
        description="Write the distribution envsecrets-NAME (serving _NAME:...) with its "
        "pyproject.toml, module and contract tests, into DIR/envsecrets-NAME.",
    )
    new_provider.add_argument("name", metavar="NAME", help="the prefix, [a-z][a-z0-9]*")
    new_provider.add_argument(
        "-d", "--directory", default=".", metavar="DIR", help="parent folder (default: .)"
    )
    for name, info in (plugin_commands or {}).items():
        origin = info.distribution or f"plugin {info.plugin}"
        sub = commands.add_parser(name, parents=[common], help=f"{info.command.summary} [{origin}]")
        info.command.configure_parser(sub)
        sub.set_defaults(plugin_action=info.command.action)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_plugin_commands(argv))
    args = parser.parse_args(argv)
    _configure_logging(getattr(args, "verbose", 0))
    handlers = {
        "run": _run,
        "resolve": _resolve,
        "check": _check,
        "get": _get,
        "ls": _ls,
        "providers": _providers,
        "new-provider": _new_provider,
    }
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        if args.command not in handlers:
            return _plugin_command(args)
        return handlers[args.command](args)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`envsecrets providers | head`): no traceback,
        # and none at exit when Python flushes stdout again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILURE


def _plugin_commands(argv: Sequence[str]) -> dict[str, CommandInfo]:
    """The commands plugins add, loaded only when *argv* names a command
    that is not built in, or asks for the top-level help: ``run`` never
    imports a command plugin, and a broken one cannot break it."""
    words = [word for word in argv if not word.startswith("-")]
    if words and words[0] in BUILTIN_COMMANDS:
        return {}
    if not words and not {"-h", "--help"} & set(argv):
        return {}
    from envsecrets.plugins import load_registry

    try:
        found = load_registry(commands=True).commands
    except Exception as error:  # the built-in commands must keep working
        log.warning("plugin commands could not be loaded: %s", type(error).__name__)
        return {}
    return {name: info for name, info in found.items() if name not in BUILTIN_COMMANDS}


def _plugin_command(args: argparse.Namespace) -> int:
    try:
        code = args.plugin_action(args)
    except (KeyboardInterrupt, BrokenPipeError):
        raise
    except Exception as error:  # a plugin's bug: say which, without a traceback
        _error(f"the {args.command} command failed ({type(error).__name__}: {error})")
        return EXIT_FAILURE
    return int(code or 0)


def _configure_logging(verbosity: int) -> None:
    if not verbosity:
        logging.basicConfig(level=logging.WARNING, format="envsecrets: %(message)s")
        return
    level = logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="envsecrets: %(levelname)s %(name)s: %(message)s")


def _error(message: str) -> None:
    print(f"envsecrets: error: {message}", file=sys.stderr)


class _Session:
    """What one command acts on: the process environment (the providers'
    settings), the env files' variables, and the resolver built from them."""

    def __init__(self, args: argparse.Namespace, from_files: dict[str, str]) -> None:
        self.process = dict(os.environ)
        self.from_files = from_files
        #: The variables a command resolves: the environment plus the files.
        self.env = {**self.process, **from_files}
        settings = self.env if args.allow_provider_settings else self.process
        self.resolver = Resolver(settings, data=from_files, timeout=args.timeout)

    def credential_free(self, variables: Mapping[str, str]) -> dict[str, str]:
        """*variables* without the credentials of this process; those the
        env files set are the user's own and stay."""
        credentials = self.resolver.registry.credentials()
        return isolation.without_credentials(variables, credentials, keep=self.from_files)


def _session(args: argparse.Namespace) -> _Session | int:
    """Read the env files and build the session, or return an exit code.

    An env file may not set a provider setting unless
    ``--allow-provider-settings``: it would decide where credentials go.
    """
    files: list[isolation.EnvFile] = []
    if args.env_file:
        from envsecrets.envfiles import read_each  # python-dotenv only when needed

        try:
            files = read_each(args.env_file)
        except EnvsecretsError as error:
            _error(str(error))
            return EXIT_USAGE
    from_files: dict[str, str] = {}
    for env_file in files:
        from_files.update(env_file.variables)
    # No environment can hold a NUL: say so now, not with a crash at exec.
    holding_nul = [name for name, value in from_files.items() if "\x00" in name + value]
    if holding_nul:
        _error(f"the env files set {', '.join(map(ascii, holding_nul))} with a NUL character")
        return EXIT_USAGE
    session = _Session(args, from_files)
    if files and not args.allow_provider_settings:
        found = isolation.settings_in_files(files, session.resolver.registry.settings())
        if found:
            for path, name in found:
                _error(
                    f"env file {path!r} sets {name}, a provider setting: settings come from "
                    "the process environment only (--allow-provider-settings to allow it)"
                )
            session.resolver.close()
            return EXIT_USAGE
    return session


def _resolve_or_report(resolver: Resolver, env: Mapping[str, str]) -> dict[str, str] | None:
    try:
        return resolver.resolve(env)
    except ResolutionError as error:
        _error(str(error))
        return None


def _run(args: argparse.Namespace) -> int:
    argv = list(args.argv)
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        _error("run needs a command: envsecrets run [-e FILE]... -- COMMAND [ARG]...")
        return EXIT_USAGE
    session = _session(args)
    if isinstance(session, int):
        return session
    # Look the command up before fetching anything: no secret is fetched
    # for a command that cannot start.
    problem = _find_command(argv[0], session.env.get("PATH", os.defpath))
    if problem is not None:
        session.resolver.close()
        _error(problem[1])
        return problem[0]
    with session.resolver as resolver:
        resolved = _resolve_or_report(resolver, session.env)
        if resolved is None:
            return EXIT_FAILURE
        if args.pristine:
            references = [name for name, text in session.env.items() if grammar.parse(text)]
            resolved = isolation.pristine(resolved, session.process, session.from_files, references)
        elif not args.keep_credentials:
            resolved = session.credential_free(resolved)
    log.info("starting %s with %d variables", argv[0], len(resolved))
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvpe(argv[0], argv, resolved)  # returns only by raising
    except OSError as error:
        _error(f"cannot start {argv[0]}: {error.strerror}")
        return EXIT_CANNOT_EXECUTE


def _find_command(command: str, path: str) -> tuple[int, str] | None:
    """``None`` when *command* can be started, else (exit code, message):
    127 when nothing of that name exists, 126 when it exists but cannot be
    executed (a directory, a file without the execute bit), as ``env``."""
    if shutil.which(command, path=path) is not None:
        return None
    if os.sep in command:
        candidates = [command]
    else:
        candidates = [os.path.join(folder or ".", command) for folder in path.split(os.pathsep)]
    for candidate in candidates:
        if os.path.isdir(candidate):
            return EXIT_CANNOT_EXECUTE, f"cannot start {command}: it is a directory"
        if os.path.exists(candidate):
            return EXIT_CANNOT_EXECUTE, f"cannot start {command}: {candidate} is not executable"
    return EXIT_NOT_FOUND, f"command not found: {command}"


def _resolve(args: argparse.Namespace) -> int:
    from envsecrets.formats import FORMATS, not_shell_names, write_private

    session = _session(args)
    if isinstance(session, int):
        return session
    wanted = session.from_files if args.env_file else session.env
    with session.resolver as resolver:
        resolved = _resolve_or_report(resolver, wanted)
        if resolved is not None and not args.keep_credentials:
            resolved = session.credential_free(resolved)
    if resolved is None:
        return EXIT_FAILURE
    if args.format == "shell":
        skipped = not_shell_names(resolved)
        if skipped:
            names = ", ".join(map(ascii, skipped))
            print(f"envsecrets: note: not shell variable names, left out: {names}", file=sys.stderr)
            resolved = {name: value for name, value in resolved.items() if name not in skipped}
    # Plain values come from the environment as is, and os.environ holds
    # bytes that are not UTF-8 as lone surrogates: no format can write them.
    unwritable = [name for name, value in resolved.items() if not _is_text(name + value)]
    if unwritable:
        _error(f"not valid UTF-8, cannot be written: {', '.join(map(ascii, unwritable))}")
        return EXIT_FAILURE
    try:
        text = FORMATS[args.format](resolved)
        if args.output:
            write_private(args.output, text)
        else:
            sys.stdout.write(text)
    except EnvsecretsError as error:
        _error(str(error))
        return EXIT_FAILURE
    return EXIT_OK


def _is_text(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check(args: argparse.Namespace) -> int:
    session = _session(args)
    if isinstance(session, int):
        return session
    wanted = session.from_files if args.env_file else session.env
    with session.resolver as resolver:
        results = resolver.check(wanted, fetch=args.fetch)
    if not results:
        print("no references found")
        return EXIT_OK
    for result in results:
        reference = quote_reference(result.reference)
        if result.ok:
            print(f"OK    {result.variable}={reference}")
        else:
            print(f"FAIL  {result.variable}={reference}: {result.error}")
    failed = sum(1 for result in results if not result.ok)
    checked = "fetched" if args.fetch else "checked"
    print(f"{len(results) - failed} of {len(results)} references {checked} OK")
    return EXIT_FAILURE if failed else EXIT_OK


def _get(args: argparse.Namespace) -> int:
    from envsecrets.formats import is_shell_name

    text = args.reference
    if grammar.parse(text) is None and is_shell_name(text):
        # `envsecrets get PG_PASS`: a variable's name, not its reference.
        _error(
            f"{text} is not a reference (_PREFIX:NAME[:KEY]); to resolve that variable, "
            f'give its value: envsecrets get "${text}"'
        )
        return EXIT_USAGE
    with Resolver(os.environ, timeout=args.timeout) as resolver:
        try:
            value = resolver.get(args.reference)
        except ResolutionError as error:
            _error(str(error.failures[0].error) if len(error.failures) == 1 else str(error))
            return EXIT_FAILURE
        except EnvsecretsError as error:
            _error(f"{quote_reference(args.reference)}: {error}")
            return EXIT_USAGE
    sys.stdout.write(value if args.no_newline else value + "\n")
    return EXIT_OK


def _ls(args: argparse.Namespace) -> int:
    target = args.target if args.target.startswith("_") else "_" + args.target
    prefix, colon, rest = target[1:].partition(":")
    if not (colon and PREFIX_PATTERN.fullmatch(prefix)):
        _error(f"{quote_reference(args.target)}: expected PREFIX:[NAME_PREFIX] or PREFIX:NAME:")
        return EXIT_USAGE
    with Resolver(os.environ, timeout=args.timeout) as resolver:
        try:
            if rest.endswith(":"):
                lines, truncated = _list_keys(resolver, prefix, rest[:-1], args)
            else:
                lines, truncated = _list_names(resolver, prefix, rest, args)
        except (ListingNotSupported, ProviderNotInstalled) as error:
            _error(str(error))
            return EXIT_USAGE
        except ResolutionError as error:
            _error(str(error.failures[0].error))
            return EXIT_FAILURE
        except EnvsecretsError as error:
            _error(f"{quote_reference(target)}: {error}")
            return EXIT_FAILURE
    for line in lines:
        print(line)
    if truncated:
        print(f"envsecrets: note: only the first {args.limit} shown (--limit)", file=sys.stderr)
    return EXIT_OK


def _list_names(
    resolver: Resolver, prefix: str, name_prefix: str, args: argparse.Namespace
) -> tuple[list[str], bool]:
    import json

    listing = resolver.list_names(prefix, name_prefix, limit=args.limit)
    if args.format == "json":
        document = {"names": listing.names, "truncated": listing.truncated}
        return [json.dumps(document, ensure_ascii=False)], listing.truncated
    return [quote_reference(name) for name in listing.names], listing.truncated


def _list_keys(
    resolver: Resolver, prefix: str, name: str, args: argparse.Namespace
) -> tuple[list[str], bool]:
    import json

    keys = resolver.list_keys(prefix, name)
    truncated = len(keys) > args.limit
    keys = keys[: args.limit]
    if args.format == "json":
        rows = [{"key": info.key, "type": info.json_type} for info in keys]
        return [json.dumps({"keys": rows, "truncated": truncated}, ensure_ascii=False)], truncated
    width = max((len(info.key) for info in keys), default=0)
    return [
        f"{quote_reference(info.key).ljust(width)}  {info.json_type}" for info in keys
    ], truncated


def _providers(args: argparse.Namespace) -> int:
    from importlib import metadata

    resolver = Resolver(os.environ)
    registry = resolver.registry
    rows = [("PREFIX", "DISTRIBUTION", "VERSION", "STATUS", "DESCRIPTION")]
    for prefix in sorted(registry.providers):
        info = registry.providers[prefix]
        status = "conflict" if prefix in registry.conflicts else "ok"
        rows.append(
            (
                f"_{prefix}",
                info.distribution or f"(plugin {info.plugin})",
                info.version or "-",
                status,
                info.description,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[4]]))
    for message in registry.conflicts.values():
        print(f"conflict: {message}")
    for failure in registry.failures:
        origin = f" ({failure.distribution} {failure.version})" if failure.distribution else ""
        print(f"failed: plugin {failure.plugin!r}{origin}: {failure.reason}")
    for name in sorted(registry.disabled):
        print(f"disabled: plugin {name!r} (ENVSECRETS_DISABLE_PLUGINS)")
    for name in sorted(registry.not_allowed):
        print(f"not loaded: plugin {name!r} (not in ENVSECRETS_PLUGINS)")
    if len(rows) == 1:
        print("no providers installed: pip install envsecrets-envjson (or -aws, -vault)")
    try:
        core = metadata.version("envsecrets")
    except metadata.PackageNotFoundError:
        core = __version__
    print(f"envsecrets {core}")
    return EXIT_FAILURE if registry.failures or registry.conflicts else EXIT_OK


def _new_provider(args: argparse.Namespace) -> int:
    from pathlib import Path

    from envsecrets.scaffold import write_provider

    try:
        where = write_provider(args.name, Path(args.directory))
    except (EnvsecretsError, ValueError, FileExistsError) as error:
        _error(str(error))
        return EXIT_USAGE
    print(f"wrote {where}")
    print(f"next: pip install -e {where} && pytest {where}/tests")
    return EXIT_OK
