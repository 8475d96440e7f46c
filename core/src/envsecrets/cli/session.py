"""What ``run``, ``resolve``, ``check`` and ``get`` act on: the process
environment (the providers' settings), the env files' variables, and the
resolver built from them, in this process or in the agent; and how
credentials are kept out of what they hand on.

The rules (:func:`refusals`, :func:`unknown_credentials`) are the same
functions wherever they run: here for an in-process session, in
:mod:`envsecrets.agent.service` for a request to the agent.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence

from envsecrets.cli.exits import EXIT_USAGE, error

#: typing.TYPE_CHECKING without importing typing (a thin client of the agent never does).
TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

    from envsecrets import isolation
    from envsecrets.agent.protocol import Message
    from envsecrets.registry import Registry
    from envsecrets.resolver import Resolver

#: Never handed to a child: the way to the agent stays with envsecrets.
AGENT_VARIABLES = ("ENVSECRETS_AGENT_SOCK",)


class Session:
    """The variables of one command and the resolver that resolves them."""

    def __init__(self, args: argparse.Namespace, files: Sequence[isolation.EnvFile]) -> None:
        from envsecrets.resolver import Resolver  # the plugin machinery: in-process only

        self.process = dict(os.environ)
        self.files = files
        self.from_files = merged(files)
        #: The variables a command resolves: the environment plus the files.
        self.env = {**self.process, **self.from_files}
        settings = self.env if args.allow_provider_settings else self.process
        self.resolver: Resolver = Resolver(settings, data=self.from_files, timeout=args.timeout)

    def credential_free(self, variables: Mapping[str, str]) -> dict[str, str]:
        """*variables* without the credentials of this process; those the
        env files set are the user's own and stay."""
        from envsecrets import isolation

        credentials = self.resolver.registry.credentials()
        return isolation.without_credentials(variables, credentials, keep=self.from_files)

    def unknown_credentials(self) -> str | None:
        """Why the process environment cannot be handed on, or ``None``."""
        return unknown_credentials(self.resolver.registry, self.process, self.from_files)

    def resolve(self, variables: Mapping[str, str]) -> dict[str, str] | None:
        """*variables* resolved, or ``None`` once the failure is reported."""
        from envsecrets.errors import ResolutionError

        try:
            return self.resolver.resolve(variables)
        except ResolutionError as failure:
            error(str(failure))
            return None


def handed_on(
    resolved: dict[str, str],
    process: Mapping[str, str],
    from_files: Mapping[str, str],
    credentials: Iterable[str],
    *,
    pristine: bool,
    keep_credentials: bool,
) -> dict[str, str]:
    """What COMMAND of ``run`` receives of the *resolved* variables: with
    *pristine*, the env files' variables, the references and ``PATH``,
    ``HOME``, ``LANG``, ``TERM``; else all but the *credentials*, unless
    *keep_credentials*."""
    from envsecrets import grammar, isolation

    if pristine:
        env = {**process, **from_files}
        references = [name for name, text in env.items() if grammar.parse(text)]
        return isolation.pristine(resolved, process, from_files, references)
    if not keep_credentials:
        return isolation.without_credentials(resolved, credentials, keep=from_files)
    return resolved


def merged(files: Iterable[isolation.EnvFile]) -> dict[str, str]:
    """The env files' variables, later files winning."""
    variables: dict[str, str] = {}
    for env_file in files:
        variables.update(env_file.variables)
    return variables


def unknown_credentials(
    registry: Registry, process: Mapping[str, str], from_files: Mapping[str, str]
) -> str | None:
    """Why the process environment cannot be handed on, or ``None``.

    An installed plugin that did not load and declares no credentials
    statically might call any variable its credential: when variables
    that look like credentials (and are no declared one) are present,
    fail closed rather than guess.
    """
    from envsecrets import isolation
    from envsecrets.grammar import is_reference
    from envsecrets.provider import setting_matches
    from envsecrets.registry import CREDENTIALS_GROUP

    if not registry.undeclared:
        return None
    declared = registry.credentials()
    suspects = sorted(
        name
        for name, value in process.items()
        if name not in from_files
        # A reference (PG_PASS=_vaultkv2:...) is the role's input, replaced by its secret.
        and not is_reference(value)
        and isolation.looks_like_credential(name)
        and not setting_matches(name, declared)
    )
    if not suspects:
        return None
    plugins = ", ".join(registry.undeclared)
    return (
        f"{', '.join(map(ascii, suspects))} may be credentials of {plugins}, installed but "
        "not loaded, which declares no credentials in its metadata (entry-point group "
        f"{CREDENTIALS_GROUP}): not handing them on. Fix or uninstall it, or pass "
        "--keep-credentials"
    )


def refusals(registry: Registry, files: Sequence[isolation.EnvFile]) -> list[str]:
    """Why no session may open (each an exit-2 error), or nothing: an
    ``ENVSECRETS_PLUGINS`` naming what is not installed, or env files that
    set provider settings (they would decide where credentials go)."""
    from envsecrets.refusals import setting_refusals  # the editor refuses with these words

    if registry.allowlist_error:
        return [registry.allowlist_error]
    return [refusal.message for refusal in setting_refusals(files, registry.settings())]


def read_files(args: argparse.Namespace) -> list[isolation.EnvFile] | int:
    """The env files of ``-e``, or an exit code once the problem is reported."""
    files: list[isolation.EnvFile] = []
    if args.env_file:
        from envsecrets.envfiles import read_each  # python-dotenv only when needed
        from envsecrets.errors import EnvsecretsError

        try:
            files = read_each(args.env_file)
        except EnvsecretsError as problem:
            error(str(problem))
            return EXIT_USAGE
    # No environment can hold a NUL: say so now, not with a crash at exec.
    holding_nul = [name for name, value in merged(files).items() if "\x00" in name + value]
    if holding_nul:
        error(f"the env files set {', '.join(map(ascii, holding_nul))} with a NUL character")
        return EXIT_USAGE
    return files


def open_session(
    args: argparse.Namespace, files: Sequence[isolation.EnvFile] | None = None
) -> Session | int:
    """Read the env files (unless given) and build the session, or return
    an exit code once the problem is reported.

    An env file may not set a provider setting unless
    ``--allow-provider-settings``: it would decide where credentials go.
    """
    if files is None:
        read = read_files(args)
        if isinstance(read, int):
            return read
        files = read
    session = Session(args, files)
    registry = session.resolver.registry
    problems = refusals(registry, files if not args.allow_provider_settings else ())
    if problems:
        for problem in problems:
            error(problem)
        session.resolver.close()
        return EXIT_USAGE
    return session


def ask_agent(args: argparse.Namespace, request: Message) -> Message | int | None:
    """The agent's successful answer to *request*; ``None`` to resolve in
    this process (``--no-agent``, no agent, or one that did not answer:
    noted); an exit code when ``ENVSECRETS_AGENT=required`` and no agent
    answered, or once a failed answer's errors are reported.

    ``--allow-provider-settings`` is in-process only: the agent's settings
    are its own environment's, never a client's.
    """
    answer = None
    if not (getattr(args, "no_agent", False) or getattr(args, "allow_provider_settings", False)):
        from envsecrets.agent import client

        answer = client.ask(os.environ, {**request, "timeout": args.timeout}, args.timeout)
    if answer is None:
        # In process: the plugins' warnings go through the command line's
        # handler (a thin client installs none until it needs one).
        from envsecrets import logs

        logs.configure(getattr(args, "verbose", 0))
        return None
    if isinstance(answer, int):
        return answer
    code = report(answer)
    return answer if code is None else code


def request_files(files: Sequence[isolation.EnvFile]) -> list[list[object]]:
    """The env files as the agent's protocol carries them."""
    return [[env_file.path, dict(env_file.variables)] for env_file in files]


def report(answer: Message) -> int | None:
    """Report a failed answer's errors and return its exit code; ``None``
    for an answer that succeeded."""
    code = int(answer.get("exit", 0))
    if code == 0:
        return None
    for message in answer.get("errors", ()):
        error(str(message))
    return code
