"""``envsecrets ssm-ls``: a plugin command using its context."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from envsecrets.testing import CommandsContract
from test_ssm_provider import cli

import envsecrets_ssm


class TestSSMCommands(CommandsContract):
    commands_plugin = envsecrets_ssm
    command_arguments: ClassVar[Mapping[str, Sequence[Sequence[str]]]] = {"ssm-ls": [[], ["/app/"]]}


def test_lists_names_and_types_never_values(
    ssm: Any, environ: dict[str, str], unique: Callable[[str], str]
) -> None:
    folder = unique("ls")
    for name, kind in (("b", "SecureString"), ("a", "String"), ("c", "StringList")):
        ssm.put_parameter(Name=f"{folder}/{name}", Type=kind, Value="ls-value-sentinel-3a1f")
    done = cli("ssm-ls", folder + "/", **environ)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"String        {folder}/a",
        f"SecureString  {folder}/b",
        f"StringList    {folder}/c",
    ]
    assert "ls-value-sentinel" not in done.stdout + done.stderr


def test_errors_come_with_the_standard_words_and_codes(environ: dict[str, str]) -> None:
    no_region = cli("ssm-ls", **{**environ, "AWS_REGION": ""})
    assert (no_region.returncode, no_region.stdout) == (1, "")
    assert no_region.stderr == (
        "envsecrets: error: no AWS region: set AWS_REGION (or one in the profile)\n"
    )
    refused = cli("ssm-ls", **environ, ENVSECRETS_PLUGINS="envsecrets-nope")
    assert refused.returncode == 2
    assert "ENVSECRETS_PLUGINS names 'envsecrets-nope'" in refused.stderr


def test_a_disabled_plugin_says_so(environ: dict[str, str]) -> None:
    done = cli("ssm-ls", **environ, ENVSECRETS_DISABLE_PLUGINS="ssm")
    assert done.returncode == 2
    assert done.stderr == (
        "envsecrets: error: the command 'ssm-ls' is unavailable: plugin 'ssm' is "
        "disabled by ENVSECRETS_DISABLE_PLUGINS\n"
    )
