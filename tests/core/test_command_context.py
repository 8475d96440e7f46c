"""A plugin command's context (``Command(..., context=True)``), the errors
and exit codes it gets, and a provider bug's traceback at ``-vv``."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator

import pytest

import envsecrets
from envsecrets.commands import CommandInfo, run_command
from tests.core.conftest import Configure

Action = Callable[[argparse.Namespace, envsecrets.CommandContext], int]


def run(action: Action, *, verbose: int = 0) -> int:
    command = envsecrets.Command("probe", "a probe", lambda parser: None, action, context=True)
    info = CommandInfo(command, "probe_plugin", "envsecrets-probe", "1.0")
    return run_command(info, argparse.Namespace(command="probe", verbose=verbose))


def test_the_context_gives_a_configured_resolver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ENVSECRETS_PLUGINS", raising=False)
    seen: list[object] = []

    def action(args: argparse.Namespace, context: envsecrets.CommandContext) -> int:
        with context.resolver(timeout=3) as resolver:
            seen.append(resolver)
            assert resolver.resolve({"PLAIN": "hello"}) == {"PLAIN": "hello"}
        return context.EXIT_OK

    assert run(action) == 0
    assert isinstance(seen[0], envsecrets.Resolver)


def test_a_refused_allowlist_ends_the_command_with_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ENVSECRETS_PLUGINS", "envsecrets-not-installed")

    def action(args: argparse.Namespace, context: envsecrets.CommandContext) -> int:
        with context.resolver():
            raise AssertionError("not reached")

    assert run(action) == envsecrets.CommandContext.EXIT_USAGE == 2
    error = capsys.readouterr().err
    assert error.startswith(
        "envsecrets: error: ENVSECRETS_PLUGINS names 'envsecrets-not-installed'"
    )


@pytest.mark.parametrize(
    ("raised", "code", "text"),
    [
        (envsecrets.ProviderNotInstalled("no installed provider serves _x"), 2, "serves _x"),
        (envsecrets.ListingNotSupported("cannot list"), 2, "cannot list"),
        (envsecrets.ReferenceSyntaxError("bad \x1b[31mname"), 2, "bad \\x1b[31mname"),
        (envsecrets.AccessDenied("refused"), 1, "refused"),
        (
            envsecrets.ResolutionError(
                [envsecrets.Failure("A", "_x:a", envsecrets.SecretNotFound("no 'a'"))]
            ),
            1,
            "A=_x:a: no 'a'",
        ),
        (envsecrets.CommandExit(3, "stopped"), 3, "stopped"),
    ],
)
def test_envsecrets_errors_are_printed_with_their_exit_code(
    capsys: pytest.CaptureFixture[str], raised: Exception, code: int, text: str
) -> None:
    def action(args: argparse.Namespace, context: envsecrets.CommandContext) -> int:
        raise raised

    assert run(action) == code
    error = capsys.readouterr().err
    assert error.startswith("envsecrets: error: ")
    assert text in error
    assert "\x1b" not in error  # escaped for the terminal


def test_fail_and_error_print_the_standard_way(capsys: pytest.CaptureFixture[str]) -> None:
    def action(args: argparse.Namespace, context: envsecrets.CommandContext) -> int:
        context.error("first")
        raise context.fail("second", code=context.EXIT_FAILURE)

    assert run(action) == 1
    assert capsys.readouterr().err == "envsecrets: error: first\nenvsecrets: error: second\n"


def test_a_command_without_context_is_called_with_its_arguments_alone() -> None:
    calls: list[argparse.Namespace] = []
    command = envsecrets.Command("old", "old style", lambda parser: None, calls.append)
    info = CommandInfo(command, "old_plugin")
    assert run_command(info, argparse.Namespace(command="old")) == 0
    assert len(calls) == 1


def test_a_command_bug_shows_its_traceback_at_vv(
    configure: Configure, capsys: pytest.CaptureFixture[str]
) -> None:
    printed = configure(2)
    value = "s3ntinel-command-value"

    def action(args: argparse.Namespace, context: envsecrets.CommandContext) -> int:
        return {"a": 1}[value]

    assert run(action, verbose=2) == 1
    err = capsys.readouterr().err
    assert "the probe command failed (KeyError); -vv shows where" in err
    assert 'return {"a": 1}[value]' in printed.getvalue()
    # A KeyError's message is its key: it may be a value, never printed.
    assert value not in err + printed.getvalue()


class _Buggy(envsecrets.Provider):
    prefix = "buggy"
    description = "Raises a plain KeyError (a bug)."

    def fetch(self, name: str) -> envsecrets.Document:
        secrets = {"other": "pw-bug-sentinel-41c9"}
        return secrets[f"pw-bug-sentinel-41c9{name}"]  # the KeyError quotes the value

    def list_names(self, prefix: str) -> Iterator[str]:
        folders = {"other/": ["pw-bug-sentinel-41c9"]}
        yield from folders[f"pw-bug-sentinel-41c9{prefix}"]  # a bug, as in fetch


class _BuggyPlugin:
    @envsecrets.hookimpl
    def envsecrets_providers(self) -> list[type[envsecrets.Provider]]:
        return [_Buggy]


@pytest.mark.parametrize("verbosity", [0, 1, 2])
def test_a_provider_bug_shows_its_traceback_at_vv_only_and_never_its_message(
    configure: Configure, verbosity: int
) -> None:
    stream = configure(verbosity)
    resolver = envsecrets.Resolver({}, plugins=[_BuggyPlugin()], entry_points=False)
    with resolver, pytest.raises(envsecrets.ResolutionError) as caught:
        resolver.resolve({"A": "_buggy:x", "B": "_buggy:x:key"})
    assert str(caught.value).count("the _buggy provider failed (KeyError)") == 2
    printed = stream.getvalue()
    assert "sentinel-41c9" not in str(caught.value) + printed.replace(
        'secrets[f"pw-bug-sentinel-41c9{name}"]', ""
    )
    if verbosity < 2:
        assert "Traceback" not in printed
    else:
        assert printed.count("Traceback (most recent call last)") == 1  # once per error
        assert "in fetch" in printed
        assert "\nKeyError\n" in printed


@pytest.mark.parametrize("verbosity", [0, 2])
def test_a_listing_bug_shows_its_traceback_at_vv_as_a_fetch_does(
    configure: Configure, verbosity: int
) -> None:
    stream = configure(verbosity)
    resolver = envsecrets.Resolver({}, plugins=[_BuggyPlugin()], entry_points=False)
    with resolver, pytest.raises(envsecrets.ProviderError) as caught:
        resolver.list_names("buggy", "app/")
    assert str(caught.value) == "the _buggy provider failed to list 'app/' (KeyError)"
    printed = stream.getvalue()
    assert "sentinel-41c9" not in str(caught.value) + printed.replace(
        'folders[f"pw-bug-sentinel-41c9{prefix}"]', ""
    )
    if verbosity < 2:
        assert "Traceback" not in printed
    else:
        assert "the _buggy provider failed to list 'app/' (KeyError)" in printed
        assert printed.count("Traceback (most recent call last)") == 1
        assert "in list_names" in printed
        assert "\nKeyError\n" in printed
