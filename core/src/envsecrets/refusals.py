"""What ``run``, ``resolve`` and ``check`` refuse in env files before
resolving anything (exit 2), as messages: one place for the CLI and for
tools that write env files (the role editor refuses to save what these
commands would refuse, with the same words).

Standard library only: every command imports it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from envsecrets.isolation import EnvFile, settings_in_files

__all__ = ["Refusal", "env_file_refusals", "nul_refusals", "setting_refusals"]


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why env files are refused, and the variables concerned."""

    variables: tuple[str, ...]
    message: str


def nul_refusals(files: Sequence[EnvFile]) -> list[Refusal]:
    """The variables no environment can hold (a NUL character)."""
    merged: dict[str, str] = {}
    for env_file in files:
        merged.update(env_file.variables)
    holding = tuple(name for name, value in merged.items() if "\x00" in name + value)
    if not holding:
        return []
    return [
        Refusal(holding, f"the env files set {', '.join(map(ascii, holding))} with a NUL character")
    ]


def setting_refusals(files: Sequence[EnvFile], settings: Iterable[str]) -> list[Refusal]:
    """The provider settings the files set: settings come from the process
    environment only (unless ``--allow-provider-settings``)."""
    return [
        Refusal(
            (name,),
            f"env file {path!r} sets {name}, a provider setting: settings come from the "
            "process environment only (--allow-provider-settings to allow it)",
        )
        for path, name in settings_in_files(files, settings)
    ]


def env_file_refusals(files: Sequence[EnvFile], settings: Iterable[str]) -> list[Refusal]:
    """Everything ``envsecrets check -e FILE...`` refuses in *files* before
    looking at a reference, given the installed providers' *settings*
    (``Resolver.registry.settings()``)."""
    return nul_refusals(files) + setting_refusals(files, settings)
