"""What ``run``, ``resolve`` and ``check`` act on: the process environment
(the providers' settings), the env files' variables, and the resolver built
from them; and how credentials are kept out of what they hand on."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping

from envsecrets import isolation
from envsecrets.cli.exits import EXIT_USAGE, error, refused_allowlist
from envsecrets.errors import EnvsecretsError, ResolutionError
from envsecrets.grammar import is_reference
from envsecrets.provider import setting_matches
from envsecrets.refusals import nul_refusals, setting_refusals
from envsecrets.registry import CREDENTIALS_GROUP
from envsecrets.resolver import Resolver


class Session:
    """The variables of one command and the resolver that resolves them."""

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

    def unknown_credentials(self) -> str | None:
        """Why the process environment cannot be handed on, or ``None``.

        An installed plugin that did not load and declares no credentials
        statically might call any variable its credential: when variables
        that look like credentials (and are no declared one) are present,
        fail closed rather than guess.
        """
        registry = self.resolver.registry
        if not registry.undeclared:
            return None
        declared = registry.credentials()
        suspects = sorted(
            name
            for name, value in self.process.items()
            if name not in self.from_files
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

    def resolve(self, variables: Mapping[str, str]) -> dict[str, str] | None:
        """*variables* resolved, or ``None`` once the failure is reported."""
        try:
            return self.resolver.resolve(variables)
        except ResolutionError as failure:
            error(str(failure))
            return None


def open_session(args: argparse.Namespace) -> Session | int:
    """Read the env files and build the session, or return an exit code.

    An env file may not set a provider setting unless
    ``--allow-provider-settings``: it would decide where credentials go.
    """
    files: list[isolation.EnvFile] = []
    if args.env_file:
        from envsecrets.envfiles import read_each  # python-dotenv only when needed

        try:
            files = read_each(args.env_file)
        except EnvsecretsError as problem:
            error(str(problem))
            return EXIT_USAGE
    from_files: dict[str, str] = {}
    for env_file in files:
        from_files.update(env_file.variables)
    # No environment can hold a NUL: say so now, not with a crash at exec.
    for refusal in nul_refusals(files):
        error(refusal.message)
        return EXIT_USAGE
    session = Session(args, from_files)
    if refused_allowlist(session.resolver.registry):
        session.resolver.close()
        return EXIT_USAGE
    if files and not args.allow_provider_settings:
        found = setting_refusals(files, session.resolver.registry.settings())
        if found:
            for refusal in found:
                error(refusal.message)
            session.resolver.close()
            return EXIT_USAGE
    return session
