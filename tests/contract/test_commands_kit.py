"""The commands contract catches broken command plugins and passes a good one.

Each test writes a plugin module with an ``envsecrets_commands`` hook and a
``CommandsContract`` subclass into a pytester directory, runs them in a
sub-session and checks which contract tests failed.
"""

from __future__ import annotations

import textwrap

import pytest

from tests.contract.test_contract_kit import OPT_IN, SUBSESSION_OPTIONS, Run

pytest_plugins = ["pytester"]

PLUGIN = """
import envsecrets
{imports}

def configure(parser):
    parser.add_argument("directory", nargs="?", default=".")
    parser.add_argument("--port", type=int, default=8000)


def action(args):
    return 0

{body}

@envsecrets.hookimpl
def envsecrets_commands():
    return {commands}
"""

CONTRACT = """
from envsecrets.testing import CommandsContract

import hello


class TestHello(CommandsContract):
    commands_plugin = hello
{attributes}
"""

GOOD = '[envsecrets.Command("hello", "Say hello.", configure, action)]'

ALL_TESTS = {
    "test_the_hook_returns_command_records",
    "test_command_names_are_valid_and_free",
    "test_summaries_are_one_line",
    "test_configure_parser_works_on_a_fresh_parser",
    "test_entry_point_names_the_plugin",
    "test_import_pulls_no_heavy_module",
    "test_actions_accept_what_they_are_given",
}


def run_contract(
    pytester: pytest.Pytester,
    commands: str = GOOD,
    *,
    body: str = "",
    imports: str = "",
    attributes: str = "",
) -> Run:
    pytester.makepyfile(
        hello=PLUGIN.format(commands=commands, body=textwrap.dedent(body), imports=imports),
        test_hello=CONTRACT.format(attributes=textwrap.indent(attributes or "pass", "    ")),
    )
    return Run(pytester)


def test_a_correct_command_plugin_passes(pytester: pytest.Pytester) -> None:
    run = run_contract(pytester, attributes='command_arguments = {"hello": [["x", "--port", "0"]]}')
    assert set(run.outcomes) == ALL_TESTS
    assert run.failed == set(), run.text
    assert run.outcomes["test_entry_point_names_the_plugin"] == "skipped"


def test_a_context_command_passes(pytester: pytest.Pytester) -> None:
    body = "def with_context(args, context):\n    return context.EXIT_OK\n"
    commands = '[envsecrets.Command("hello", "Say hi.", configure, with_context, context=True)]'
    run = run_contract(pytester, commands, body=body)
    assert run.failed == set(), run.text


@pytest.mark.parametrize(
    ("action", "context", "said"),
    [
        ("def wrong(args, context):\n    return 0\n", False, "set context=True"),
        ("def wrong(args):\n    return 0\n", True, "action(args, context)"),
    ],
)
def test_an_action_of_the_wrong_shape_fails(
    pytester: pytest.Pytester, action: str, context: bool, said: str
) -> None:
    commands = f'[envsecrets.Command("hello", "Say hi.", configure, wrong, context={context})]'
    run = run_contract(pytester, commands, body=action)
    assert run.failed == {"test_actions_accept_what_they_are_given"}, run.text
    assert said in run.text


@pytest.mark.parametrize("name", ["run", "ls", "new-provider"])
def test_a_command_named_like_a_built_in_fails(pytester: pytest.Pytester, name: str) -> None:
    run = run_contract(pytester, f'[envsecrets.Command("{name}", "Mine.", configure, action)]')
    assert run.failed == {"test_command_names_are_valid_and_free"}
    assert "is a built-in command" in run.text


@pytest.mark.parametrize("name", ["Hello", "he llo", "-x", "é"])
def test_an_invalid_command_name_fails(pytester: pytest.Pytester, name: str) -> None:
    run = run_contract(pytester, f'[envsecrets.Command("{name}", "Mine.", configure, action)]')
    assert "test_command_names_are_valid_and_free" in run.failed
    assert "[a-z][a-z0-9-]*" in run.text


def test_two_commands_with_one_name_fail(pytester: pytest.Pytester) -> None:
    run = run_contract(pytester, f"{GOOD} * 2")
    assert "test_command_names_are_valid_and_free" in run.failed


def test_a_record_that_is_not_a_command_fails(pytester: pytest.Pytester) -> None:
    run = run_contract(pytester, '[("hello", "Say hello.", configure, action)]')
    assert "test_the_hook_returns_command_records" in run.failed
    assert "not an envsecrets.Command" in run.text


def test_a_hook_without_the_marker_fails(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        hello=PLUGIN.format(commands=GOOD, body="", imports="").replace(
            "@envsecrets.hookimpl\n", ""
        ),
        test_hello=CONTRACT.format(attributes="    pass"),
    )
    run = Run(pytester)
    assert "test_the_hook_returns_command_records" in run.failed
    assert "@envsecrets.hookimpl" in run.text


@pytest.mark.parametrize("summary", ["", "Say hello.\\nTwice."])
def test_a_bad_summary_fails(pytester: pytest.Pytester, summary: str) -> None:
    run = run_contract(pytester, f'[envsecrets.Command("hello", "{summary}", configure, action)]')
    assert run.failed == {"test_summaries_are_one_line"}


def test_a_parser_set_up_from_used_up_state_fails(pytester: pytest.Pytester) -> None:
    # The options are consumed by the first parser: the second lacks them.
    body = """
    OPTIONS = [("--host",)]


    def configure_once(parser):
        while OPTIONS:
            parser.add_argument(*OPTIONS.pop())
    """
    run = run_contract(
        pytester,
        '[envsecrets.Command("hello", "Say hello.", configure_once, action)]',
        body=body,
        attributes='command_arguments = {"hello": [["--host", "h"]]}',
    )
    assert run.failed == {"test_configure_parser_works_on_a_fresh_parser"}
    assert "refuses ['--host', 'h']" in run.text


def test_a_parser_refusing_its_documented_arguments_fails(pytester: pytest.Pytester) -> None:
    run = run_contract(pytester, attributes='command_arguments = {"hello": [["--port", "x"]]}')
    assert run.failed == {"test_configure_parser_works_on_a_fresh_parser"}
    assert "refuses ['--port', 'x']" in run.text


def test_arguments_for_an_unknown_command_fail(pytester: pytest.Pytester) -> None:
    run = run_contract(pytester, attributes='command_arguments = {"bye": [[]]}')
    assert run.failed == {"test_configure_parser_works_on_a_fresh_parser"}
    assert "unknown commands: bye" in run.text


def test_a_heavy_import_fails(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(fakeweb="LOADED = True")
    run = run_contract(
        pytester, imports="import fakeweb", attributes='heavy_modules = ("fakeweb",)'
    )
    assert run.failed == {"test_import_pulls_no_heavy_module"}
    assert "imports fakeweb" in run.text


def test_the_contract_is_not_collected_on_its_own(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_base="""
        from envsecrets.testing import CommandsContract

        class TestAbstract(CommandsContract):
            __test__ = False
        """
    )
    pytester.makeconftest(OPT_IN)
    result = pytester.runpytest(*SUBSESSION_OPTIONS)
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
