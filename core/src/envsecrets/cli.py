"""The ``envsecrets`` command line.

Exit codes: 0 success; 1 a reference failed (nothing was run or written);
2 usage error (bad option, unreadable env file); 126 the command was found
but could not be started; 127 the command was not found; 130 interrupted.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
from collections.abc import Mapping, Sequence

from envsecrets import __version__
from envsecrets.errors import EnvsecretsError, ResolutionError, quote_reference
from envsecrets.resolver import DEFAULT_TIMEOUT, Resolver

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

exit codes:
  0 success, 1 a reference failed (nothing run or written), 2 usage error,
  126 command cannot be started, 127 command not found, 130 interrupted.
"""


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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
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
        "if any reference fails. Secrets reach COMMAND only through its environment.",
    )
    run.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- COMMAND [ARG]...")

    resolve = commands.add_parser(
        "resolve",
        parents=[common, files, timeout],
        help="print the resolved variables (dotenv, json or shell)",
        description="Resolve and print variables: those of the env files when -e is "
        "given, otherwise the whole environment.",
    )
    resolve.add_argument(
        "-f",
        "--format",
        choices=("dotenv", "json", "shell"),
        default="dotenv",
        help="output format (default dotenv; shell prints export lines)",
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
    get.add_argument("reference", metavar="REFERENCE")
    get.add_argument(
        "-n", "--no-newline", action="store_true", help="do not print a newline after the value"
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(getattr(args, "verbose", 0))
    handlers = {
        "run": _run,
        "resolve": _resolve,
        "check": _check,
        "get": _get,
        "providers": _providers,
        "new-provider": _new_provider,
    }
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return handlers[args.command](args)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`envsecrets providers | head`): no traceback,
        # and none at exit when Python flushes stdout again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILURE


def _configure_logging(verbosity: int) -> None:
    if not verbosity:
        logging.basicConfig(level=logging.WARNING, format="envsecrets: %(message)s")
        return
    level = logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="envsecrets: %(levelname)s %(name)s: %(message)s")


def _error(message: str) -> None:
    print(f"envsecrets: error: {message}", file=sys.stderr)


def _environment(args: argparse.Namespace) -> tuple[dict[str, str], dict[str, str]] | int:
    """Return (the whole environment, the variables to act on), or an exit code.

    The variables to act on are the env files' when ``-e`` is given, else
    the whole environment.
    """
    from_files: dict[str, str] = {}
    if args.env_file:
        from envsecrets.envfiles import read_env_files  # python-dotenv only when needed

        try:
            from_files = read_env_files(args.env_file)
        except EnvsecretsError as error:
            _error(str(error))
            return EXIT_USAGE
        # No environment can hold a NUL: say so now, not with a crash at exec.
        holding_nul = [name for name, value in from_files.items() if "\x00" in name + value]
        if holding_nul:
            _error(f"the env files set {', '.join(map(ascii, holding_nul))} with a NUL character")
            return EXIT_USAGE
    env = {**os.environ, **from_files}
    return env, (from_files if args.env_file else env)


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
    environment = _environment(args)
    if isinstance(environment, int):
        return environment
    env, _ = environment
    # Look the command up before fetching anything: no secret is fetched
    # for a command that cannot start.
    if shutil.which(argv[0], path=env.get("PATH", os.defpath)) is None:
        _error(f"command not found: {argv[0]}")
        return EXIT_NOT_FOUND
    with Resolver(env, timeout=args.timeout) as resolver:
        resolved = _resolve_or_report(resolver, env)
    if resolved is None:
        return EXIT_FAILURE
    log.info("starting %s with %d variables", argv[0], len(resolved))
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvpe(argv[0], argv, resolved)  # returns only by raising
    except OSError as error:
        _error(f"cannot start {argv[0]}: {error.strerror}")
        return EXIT_CANNOT_EXECUTE


def _resolve(args: argparse.Namespace) -> int:
    from envsecrets.formats import FORMATS, write_private

    environment = _environment(args)
    if isinstance(environment, int):
        return environment
    env, wanted = environment
    with Resolver(env, timeout=args.timeout) as resolver:
        resolved = _resolve_or_report(resolver, wanted)
    if resolved is None:
        return EXIT_FAILURE
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
    environment = _environment(args)
    if isinstance(environment, int):
        return environment
    env, wanted = environment
    with Resolver(env, timeout=args.timeout) as resolver:
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
    for error in registry.conflicts.values():
        print(f"conflict: {error}")
    for failure in registry.failures:
        origin = f" ({failure.distribution} {failure.version})" if failure.distribution else ""
        print(f"failed: plugin {failure.plugin!r}{origin}: {failure.reason}")
    for name in sorted(registry.disabled):
        print(f"disabled: plugin {name!r} (ENVSECRETS_DISABLE_PLUGINS)")
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
