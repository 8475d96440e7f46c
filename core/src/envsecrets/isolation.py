"""Where settings come from and what the child receives.

Provider settings (``VAULT_ADDR``, ``AWS_ENDPOINT_URL``...) decide where the
agent's credentials are sent, so they come from the process environment
only: an env file, written by someone else, must not steer them. And the
agent's own credentials (``VAULT_TOKEN``, AWS keys) stay with envsecrets:
the command it starts for somebody does not inherit them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from envsecrets.provider import setting_matches

#: What ``run --pristine`` passes on from the process environment.
PRISTINE_KEEP = ("PATH", "HOME", "LANG", "TERM")

#: The words of a variable name that say it may hold (or point at) a credential.
_CREDENTIAL_WORDS = re.compile(
    r"(?:^|_)(TOKEN|SECRET|PASSWORD|PASSWD|PASS|CREDENTIALS?|KEY|APIKEY|AUTH|PRIVATE|ROLE)"
    r"(?:_|$)",
    re.IGNORECASE,
)


def looks_like_credential(name: str) -> bool:
    """Tell whether the variable *name* looks like a credential
    (``FOO_TOKEN``, ``APP_SECRET_ID``, ``DB_PASSWORD``): what is handed on
    only when no installed plugin can have declared it."""
    return _CREDENTIAL_WORDS.search(name) is not None


@dataclass(frozen=True, slots=True)
class EnvFile:
    """The variables one env file sets, in file order."""

    path: str
    variables: Mapping[str, str]


def settings_in_files(files: Sequence[EnvFile], settings: Iterable[str]) -> list[tuple[str, str]]:
    """(file, variable) for every variable an env file sets that some
    installed provider reads as a setting."""
    patterns = tuple(settings)
    return [
        (env_file.path, name)
        for env_file in files
        for name in env_file.variables
        if setting_matches(name, patterns)
    ]


def without_credentials(
    variables: Mapping[str, str], credentials: Iterable[str], keep: Iterable[str] = ()
) -> dict[str, str]:
    """*variables* without the declared credential variables, except those
    named in *keep* (the env files set them on purpose)."""
    patterns = tuple(credentials)
    kept = set(keep)
    return {
        name: value
        for name, value in variables.items()
        if name in kept or not setting_matches(name, patterns)
    }


def pristine(
    resolved: Mapping[str, str],
    process: Mapping[str, str],
    from_files: Mapping[str, str],
    references: Iterable[str],
) -> dict[str, str]:
    """The environment of ``run --pristine``: ``PATH``, ``HOME``, ``LANG``
    and ``TERM`` of the process, the env files' variables and the variables
    that were references, all resolved."""
    wanted = {name for name in PRISTINE_KEEP if name in process}
    wanted.update(from_files)
    wanted.update(references)
    return {name: value for name, value in resolved.items() if name in wanted}
