"""``envsecrets run``: resolve the environment, then become COMMAND."""

from __future__ import annotations

import os
import sys

from envsecrets.cli import lazy
from envsecrets.cli.exits import (
    EXIT_CANNOT_EXECUTE,
    EXIT_FAILURE,
    EXIT_NOT_FOUND,
    EXIT_USAGE,
    error,
)
from envsecrets.cli.session import (
    AGENT_VARIABLES,
    ask_agent,
    handed_on,
    merged,
    open_session,
    read_files,
    request_files,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without typing
if TYPE_CHECKING:
    import argparse

    from envsecrets import isolation


def configure_parser(parser: argparse.ArgumentParser) -> None:
    # Imported here: a plain run is read by envsecrets.cli.run_argv, without argparse.
    import argparse

    from envsecrets.cli import options

    parser.description = (
        "Resolve every reference in the environment (and env files), then "
        "replace this process with COMMAND, without a shell. COMMAND is never started "
        "if any reference fails. Secrets reach COMMAND only through its environment. "
        "The providers' credentials of this process (VAULT_TOKEN, AWS keys...) are "
        "not passed on unless --keep-credentials."
    )
    options.add_env_files(parser)
    options.add_timeout(parser)
    options.add_no_agent(parser)
    child = parser.add_mutually_exclusive_group()
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
    parser.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- COMMAND [ARG]...")


def run(args: argparse.Namespace) -> int:
    """Resolve, then replace this process with COMMAND; return an exit code
    only when COMMAND cannot be started."""
    argv = list(args.argv)
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        error("run needs a command: envsecrets run [-e FILE]... -- COMMAND [ARG]...")
        return EXIT_USAGE
    environment = child_environment(args, argv[0])
    if isinstance(environment, int):
        return environment
    if getattr(args, "verbose", 0):  # logging stays unimported in a thin client's run
        import logging

        logging.getLogger("envsecrets").info(
            "starting %s with %d variables", argv[0], len(environment)
        )
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvpe(argv[0], argv, environment)  # returns only by raising
    except OSError as problem:
        error(f"cannot start {argv[0]}: {problem.strerror}")
        return EXIT_CANNOT_EXECUTE


def child_environment(args: argparse.Namespace, command: str) -> dict[str, str] | int:
    """COMMAND's environment, resolved by the agent or in this process, or
    an exit code once the failure is reported. It never holds the way to
    the agent (:data:`AGENT_VARIABLES`)."""
    files = read_files(args)
    if isinstance(files, int):
        return files
    environment = _through_agent(args, command, files)
    if environment is None:
        environment = _in_process(args, command, files)
    if isinstance(environment, dict):
        for name in AGENT_VARIABLES:
            environment.pop(name, None)
    return environment


def _through_agent(
    args: argparse.Namespace, command: str, files: list[isolation.EnvFile]
) -> dict[str, str] | int | None:
    """The agent's resolution; ``None`` to resolve in this process."""
    process = dict(os.environ)
    from_files = merged(files)
    env = {**process, **from_files}
    # Looked up here, reported by the agent in the order of an in-process run.
    problem = find_command(command, env.get("PATH", os.defpath))
    request = {
        "op": "run",
        "process": process,
        "files": request_files(files),
        "command_problem": None if problem is None else list(problem),
        "pristine": args.pristine,
        "keep_credentials": args.keep_credentials,
    }
    answer = ask_agent(args, request)
    if answer is None or isinstance(answer, int):
        return answer
    environment: dict[str, str] = answer["values"]  # what COMMAND receives, worked out there
    return environment


def _in_process(
    args: argparse.Namespace, command: str, files: list[isolation.EnvFile]
) -> dict[str, str] | int:
    session = open_session(args, files)
    if isinstance(session, int):
        return session
    # Look the command up, and refuse credentials no plugin can have declared,
    # before fetching anything: no secret is fetched for a run that cannot start.
    problem = find_command(command, session.env.get("PATH", os.defpath))
    if problem is None and not (args.pristine or args.keep_credentials):
        unknown = session.unknown_credentials()
        problem = None if unknown is None else (EXIT_USAGE, unknown)
    if problem is not None:
        session.resolver.close()
        error(problem[1])
        return problem[0]
    with session.resolver:
        resolved = session.resolve(session.env)
        if resolved is None:
            return EXIT_FAILURE
        return handed_on(
            resolved,
            session.process,
            session.from_files,
            session.resolver.registry.credentials(),
            pristine=args.pristine,
            keep_credentials=args.keep_credentials,
        )


def find_command(command: str, path: str) -> tuple[int, str] | None:
    """``None`` when *command* can be started, else (exit code, message):
    127 when nothing of that name exists, 126 when it exists but cannot be
    executed (a directory, a file without the execute bit), as ``env``.

    The lookup is ``shutil.which``'s on POSIX, which ``os.execvpe`` then
    repeats: importing shutil (bz2, lzma, fnmatch) cost ~4 ms of every run
    through the agent."""
    if os.sep in command:
        candidates = [command]
    else:
        folders = path.split(os.pathsep) if path else []  # an empty PATH finds nothing
        candidates = [os.path.join(folder or ".", command) for folder in folders]
    if any(_runnable(candidate) for candidate in candidates):
        return None
    for candidate in candidates:
        if os.path.isdir(candidate):
            return EXIT_CANNOT_EXECUTE, f"cannot start {command}: it is a directory"
        if os.path.exists(candidate):
            return EXIT_CANNOT_EXECUTE, f"cannot start {command}: {candidate} is not executable"
    return EXIT_NOT_FOUND, f"command not found: {command}"


def _runnable(path: str) -> bool:
    return os.access(path, os.X_OK) and not os.path.isdir(path)


__getattr__ = lazy.command_on_first_use(
    __name__,
    "run",
    "resolve the environment, then replace this process with COMMAND",
    configure_parser,
    run,
)
