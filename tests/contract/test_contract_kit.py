"""The provider contract catches broken providers and passes a good one.

Each test writes a provider plugin module and a contract subclass into a
pytester directory, runs them in a sub-session and checks which contract
tests failed.
"""

from __future__ import annotations

import textwrap

import pytest

pytest_plugins = ["pytester"]

# Seeded by every contract below; the kit must never print these values.
LITERAL = "tok-5e8a1c90"
PASSWORD = "pw-77aa19c2"

MEMSTORE = '''
import envsecrets

STORE = {}


class MemoryProvider(envsecrets.Provider):
    """A correct provider: secrets held in a module-level dict."""

    prefix = "mem"
    description = "In-memory secrets (contract kit tests)."

    def fetch(self, name):
        try:
            return STORE[name]
        except KeyError:
            raise envsecrets.SecretNotFound(f"no secret {name!r}") from None
'''

PLUGIN = """
import logging
import threading
import time

import envsecrets
from memstore import STORE, MemoryProvider

log = logging.getLogger("candidate")

{imports}


class Candidate(MemoryProvider):
{body}


@envsecrets.hookimpl
def envsecrets_providers():
    return [Candidate]
"""

CONTRACT = f'''
import pytest
from envsecrets.testing import ProviderContract

from memstore import STORE
from candidate import Candidate

SEEDED = {{
    "token": "{LITERAL}",
    "app/db": '{{"user": "user-3b7d91", "password": "{PASSWORD}", "port": 5432, '
    '"ratio": 1.50, "on": true, "off": null, "nested": {{"mode": "verify-full", "n": [1, 2]}}}}',
}}


class TestCandidate(ProviderContract):
    provider_class = Candidate
{{attributes}}

    @pytest.fixture
    def contract_secrets(self):
        STORE.clear()
        STORE.update(SEEDED)
        yield dict(SEEDED)
        STORE.clear()
'''

# Plugins the sub-sessions do not need; hypothesis alone costs a second each.
SUBSESSION_OPTIONS = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:benchmark")

ALL_TESTS = {
    "test_prefix_matches_the_grammar",
    "test_description_is_one_line",
    "test_max_batch_is_a_positive_int",
    "test_plugin_registers_the_provider",
    "test_entry_point_names_the_plugin",
    "test_import_pulls_no_heavy_sdk",
    "test_seeded_secrets_are_usable",
    "test_fetch_returns_the_seeded_documents",
    "test_fetch_many_agrees_with_fetch",
    "test_fetch_many_accepts_duplicates",
    "test_missing_secret_raises_secret_not_found",
    "test_split_round_trips_names_and_keys",
    "test_references_render_per_the_value_rules",
    "test_missing_secret_fails_the_resolution",
    "test_missing_key_raises_key_not_found",
    "test_errors_and_logs_never_hold_a_secret",
    "test_concurrent_fetches_agree",
    "test_concurrent_resolutions_agree",
    "test_close_is_idempotent",
}


class Run:
    """The outcome of one contract sub-session."""

    def __init__(self, pytester: pytest.Pytester) -> None:
        recorder = pytester.inline_run(*SUBSESSION_OPTIONS)
        self.outcomes: dict[str, str] = {}
        self.reports: dict[str, str] = {}
        for report in recorder.getreports("pytest_runtest_logreport"):
            name = report.nodeid.rsplit("::", 1)[-1]
            if report.failed:
                self.outcomes[name] = "failed"
                self.reports[name] = self.reports.get(name, "") + report.longreprtext
            elif report.skipped:
                if self.outcomes.get(name) != "failed":
                    self.outcomes[name] = "skipped"
            else:
                self.outcomes.setdefault(name, "passed")
        self.text = "\n".join(self.reports.values())

    @property
    def failed(self) -> set[str]:
        return {name for name, outcome in self.outcomes.items() if outcome == "failed"}

    @property
    def passed(self) -> set[str]:
        return {name for name, outcome in self.outcomes.items() if outcome == "passed"}


def run_contract(
    pytester: pytest.Pytester,
    body: str = "    pass",
    *,
    imports: str = "",
    attributes: str = "",
) -> Run:
    pytester.makepyfile(
        memstore=MEMSTORE,
        candidate=PLUGIN.format(
            body=textwrap.indent(textwrap.dedent(body), "    "), imports=imports
        ),
        test_candidate=CONTRACT.replace("{attributes}", textwrap.indent(attributes, "    ")),
    )
    return Run(pytester)


def test_a_correct_provider_passes(pytester: pytest.Pytester) -> None:
    run = run_contract(pytester)
    assert set(run.outcomes) == ALL_TESTS
    assert run.failed == set(), run.text
    # Not installed from a distribution: no entry point to look for.
    assert run.outcomes["test_entry_point_names_the_plugin"] == "skipped"
    assert run.passed == ALL_TESTS - {"test_entry_point_names_the_plugin"}


def test_a_secret_in_an_error_message_fails(pytester: pytest.Pytester) -> None:
    run = run_contract(
        pytester,
        """
        def fetch(self, name):
            if name not in STORE:
                raise envsecrets.SecretNotFound(f"no secret {name!r}; known: {STORE!r}")
            return STORE[name]
        """,
    )
    assert run.failed == {"test_errors_and_logs_never_hold_a_secret"}
    assert "holds the value of seeded secret" in run.text
    # The report names the secret and never quotes it.
    assert LITERAL not in run.text
    assert PASSWORD not in run.text


def test_a_secret_in_a_chained_exception_fails(pytester: pytest.Pytester) -> None:
    run = run_contract(
        pytester,
        """
        def fetch(self, name):
            try:
                return STORE[name]
            except KeyError:
                # `from` keeps the KeyError, whose text holds every value.
                raise envsecrets.SecretNotFound(f"no secret {name!r}") from KeyError(str(STORE))
        """,
    )
    assert run.failed == {"test_errors_and_logs_never_hold_a_secret"}
    assert PASSWORD not in run.text


def test_a_secret_in_a_debug_log_fails(pytester: pytest.Pytester) -> None:
    run = run_contract(
        pytester,
        """
        def fetch(self, name):
            document = super().fetch(name)
            log.debug("fetched %s: %s", name, document)
            return document
        """,
    )
    assert run.failed == {"test_errors_and_logs_never_hold_a_secret"}
    assert "a log record of candidate" in run.text
    assert LITERAL not in run.text


def test_a_secret_in_the_repr_fails(pytester: pytest.Pytester) -> None:
    run = run_contract(
        pytester,
        """
        def fetch(self, name):
            self.last = super().fetch(name)
            return self.last

        def __repr__(self):
            return f"<Candidate last={getattr(self, 'last', None)!r}>"
        """,
    )
    assert run.failed == {"test_errors_and_logs_never_hold_a_secret"}
    assert "repr(provider)" in run.text


@pytest.mark.parametrize("prefix", ["Mem", "mem_x"])
def test_a_prefix_outside_the_grammar_fails(pytester: pytest.Pytester, prefix: str) -> None:
    run = run_contract(pytester, f"prefix = {prefix!r}")
    assert "test_prefix_matches_the_grammar" in run.failed
    assert "test_plugin_registers_the_provider" in run.failed


def test_a_missing_description_fails(pytester: pytest.Pytester) -> None:
    run = run_contract(pytester, 'description = ""')
    assert run.failed == {"test_description_is_one_line"}


def test_fetch_many_disagreeing_with_fetch_fails(pytester: pytest.Pytester) -> None:
    run = run_contract(
        pytester,
        """
        max_batch = 10

        def fetch_many(self, names):
            return {name: "stale-value" for name in names}
        """,
    )
    assert "test_fetch_many_agrees_with_fetch" in run.failed
    assert "test_fetch_many_accepts_duplicates" in run.failed
    # The resolver batches through fetch_many when max_batch > 1.
    assert "test_references_render_per_the_value_rules" in run.failed
    assert "test_fetch_returns_the_seeded_documents" in run.passed


def test_fetch_many_dropping_names_fails(pytester: pytest.Pytester) -> None:
    run = run_contract(
        pytester,
        """
        def fetch_many(self, names):
            return {name: STORE[name] for name in names if name in STORE}
        """,
    )
    assert "test_fetch_many_agrees_with_fetch" in run.failed


def test_a_key_error_for_a_missing_secret_fails(pytester: pytest.Pytester) -> None:
    run = run_contract(
        pytester,
        """
        def fetch(self, name):
            return STORE[name]
        """,
    )
    assert run.failed == {
        "test_missing_secret_raises_secret_not_found",
        "test_fetch_many_agrees_with_fetch",
        "test_missing_secret_fails_the_resolution",
    }


def test_a_message_without_the_name_fails(pytester: pytest.Pytester) -> None:
    run = run_contract(
        pytester,
        """
        def fetch(self, name):
            if name not in STORE:
                raise envsecrets.SecretNotFound("not found")
            return STORE[name]
        """,
    )
    assert run.failed == {"test_missing_secret_raises_secret_not_found"}


def test_a_wrong_document_fails(pytester: pytest.Pytester) -> None:
    run = run_contract(
        pytester,
        """
        def fetch(self, name):
            return super().fetch(name).upper()
        """,
    )
    assert "test_fetch_returns_the_seeded_documents" in run.failed
    assert "test_references_render_per_the_value_rules" in run.failed


def test_a_document_of_the_wrong_type_fails(pytester: pytest.Pytester) -> None:
    run = run_contract(
        pytester,
        """
        def fetch(self, name):
            return super().fetch(name).encode()
        """,
    )
    assert "test_fetch_returns_the_seeded_documents" in run.failed


NO_WHOLE_DOCUMENTS = "whole_document_references = False"

PARSES_WITH_FLOATS = """
def fetch(self, name):
    document = super().fetch(name)
    # json.loads reads 1.50 as the float 1.5: the number text is lost.
    return json.loads(document) if document.startswith("{") else document
"""


def test_losing_number_text_fails(pytester: pytest.Pytester) -> None:
    run = run_contract(
        pytester, PARSES_WITH_FLOATS, imports="import json", attributes=NO_WHOLE_DOCUMENTS
    )
    assert run.failed == {"test_references_render_per_the_value_rules"}
    assert "numbers as written" in run.text


def test_losing_json_text_fails_a_whole_document(pytester: pytest.Pytester) -> None:
    run = run_contract(pytester, PARSES_WITH_FLOATS, imports="import json")
    assert run.failed == {"test_references_render_per_the_value_rules"}
    assert "verbatim" in run.text


def test_exact_numbers_false_accepts_normalised_numbers(pytester: pytest.Pytester) -> None:
    run = run_contract(
        pytester, PARSES_WITH_FLOATS, imports="import json", attributes="exact_numbers = False"
    )
    assert run.failed == set(), run.text


def test_a_provider_racing_on_shared_state_fails(pytester: pytest.Pytester) -> None:
    run = run_contract(
        pytester,
        """
        def fetch(self, name):
            self.current = name  # shared between threads: a race
            time.sleep(0.002)
            return super().fetch(self.current)
        """,
    )
    assert "test_concurrent_fetches_agree" in run.failed


def test_close_that_fails_the_second_time_fails(pytester: pytest.Pytester) -> None:
    run = run_contract(
        pytester,
        """
        closed = False

        def close(self):
            if self.closed:
                raise RuntimeError("closed twice")
            self.closed = True
        """,
    )
    assert run.failed == {"test_close_is_idempotent"}


def test_a_heavy_import_fails(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(fakesdk="LOADED = True")
    run = run_contract(
        pytester, imports="import fakesdk", attributes='heavy_modules = ("fakesdk",)'
    )
    assert run.failed == {"test_import_pulls_no_heavy_sdk"}
    assert "imports fakesdk" in run.text


def test_a_split_that_loses_keys_fails(pytester: pytest.Pytester) -> None:
    run = run_contract(
        pytester,
        """
        def split(self, rest):
            return rest, None
        """,
    )
    assert "test_split_round_trips_names_and_keys" in run.failed


def test_a_provider_requiring_keys_passes_when_it_says_so(pytester: pytest.Pytester) -> None:
    body = """
        def split(self, rest):
            name, colon, key = rest.rpartition(":")
            if not colon:
                raise envsecrets.ReferenceSyntaxError("_mem needs a key")
            return name, key
        """
    assert "test_split_round_trips_names_and_keys" in run_contract(pytester, body).failed
    fixed = run_contract(pytester, body, attributes="whole_document_references = False")
    assert fixed.failed == set(), fixed.text


def test_the_base_class_and_abstract_subclasses_are_not_collected(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_base="""
        from envsecrets.testing import ProviderContract

        class TestAbstract(ProviderContract):
            __test__ = False

        class Helper(ProviderContract):
            __test__ = False
        """
    )
    result = pytester.runpytest(*SUBSESSION_OPTIONS)
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_forgetting_contract_secrets_says_what_to_do(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        memstore=MEMSTORE,
        candidate=PLUGIN.format(body="    pass", imports=""),
        test_candidate="""
        from envsecrets.testing import ProviderContract
        from candidate import Candidate

        class TestCandidate(ProviderContract):
            provider_class = Candidate
        """,
    )
    run = Run(pytester)
    assert "test_fetch_returns_the_seeded_documents" in run.failed
    assert "must define the contract_secrets fixture" in run.text
    assert "test_prefix_matches_the_grammar" in run.passed


def test_the_kit_is_a_registered_pytest_plugin(pytestconfig: pytest.Config) -> None:
    import envsecrets.testing

    assert pytestconfig.pluginmanager.get_plugin("envsecrets") is envsecrets.testing


def test_the_kit_adds_nothing_to_unrelated_suites(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_plain():\n    assert True\n")
    result = pytester.runpytest(*SUBSESSION_OPTIONS, "--fixtures")
    assert "contract_" not in result.stdout.str()
    assert "missing_name" not in result.stdout.str()
    pytester.runpytest(*SUBSESSION_OPTIONS).assert_outcomes(passed=1)
