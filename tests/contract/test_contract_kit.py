"""The provider contract catches broken providers and passes a good one.

Each test writes a provider plugin module and a contract subclass into a
pytester directory, runs them in a sub-session and checks which contract
tests failed.
"""

from __future__ import annotations

import textwrap
from importlib import metadata

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

#: The top-level conftest.py of a provider's suite: the kit is opt-in.
OPT_IN = 'pytest_plugins = ["envsecrets.testing"]\n'

ALL_TESTS = {
    "test_credentials_are_declared_without_code",
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
    "test_errors_never_depend_on_fetched_values",
    "test_concurrent_fetches_agree",
    "test_concurrent_resolutions_agree",
    "test_close_is_idempotent",
    "test_settings_and_credentials_are_frozensets_of_names",
    "test_credentials_are_settings",
    "test_hints_are_strings_that_split_back",
    "test_credentials_never_appear_in_errors_or_logs",
    "test_list_names_is_implemented_or_refused",
    "test_list_names_finds_the_seeded_secrets",
    "test_list_names_of_an_unknown_prefix_is_empty",
    "test_list_keys_match_the_seeded_documents",
    "test_listing_never_reveals_a_value",
    "test_logs_are_redacted_not_silenced",
}

#: Skipped for the plain MemoryProvider: no entry point, no credentials, no listing.
PLAIN_SKIPS = {
    "test_credentials_are_declared_without_code",
    "test_entry_point_names_the_plugin",
    "test_credentials_never_appear_in_errors_or_logs",
    "test_list_names_finds_the_seeded_secrets",
    "test_list_names_of_an_unknown_prefix_is_empty",
}

#: Every check that searches for seeded values: a fetch that leaks one leaks
#: it to Resolver.list_keys too.
VALUE_CHECKS = {"test_errors_and_logs_never_hold_a_secret", "test_listing_never_reveals_a_value"}


class Run:
    """The outcome of one contract sub-session."""

    def __init__(self, pytester: pytest.Pytester) -> None:
        pytester.makeconftest(OPT_IN)  # as a provider's suite does
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
    assert run.passed == ALL_TESTS - PLAIN_SKIPS


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
    # The core withholds such a message once it has fetched a value, so the
    # text also changes with what was fetched: the oracle check fails too.
    assert run.failed == VALUE_CHECKS | {"test_errors_never_depend_on_fetched_values"}
    assert "the value of seeded secret" in run.text
    # The report names the secret and never quotes it.
    assert LITERAL not in run.text
    assert PASSWORD not in run.text


def test_a_provider_that_masks_served_values_in_its_messages_fails(
    pytester: pytest.Pytester,
) -> None:
    # The old core's redaction, copied into a provider: a partial *** marks
    # which candidate in the role's name is a secret (issue 19).
    run = run_contract(
        pytester,
        """
        served = []

        def fetch(self, name):
            if name not in STORE:
                for value in self.served:
                    name = name.replace(value, "***")
                raise envsecrets.SecretNotFound(f"no secret {name!r}")
            document = STORE[name]
            self.served.append(document)
            return document
        """,
    )
    assert run.failed == {"test_errors_never_depend_on_fetched_values"}, run.text
    assert "must not depend on a fetched value" in run.text
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
    assert run.failed == VALUE_CHECKS
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
    assert run.failed == VALUE_CHECKS
    assert "log records of candidate" in run.text
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


@pytest.mark.parametrize("prefix", ["Mem", "mem-x", "_mem", "1mem"])
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


def test_fetch_many_answering_unasked_names_fails(pytester: pytest.Pytester) -> None:
    run = run_contract(
        pytester,
        """
        def fetch_many(self, names):
            return {"unasked": "x", **{name: STORE[name] for name in names if name in STORE}}
        """,
    )
    assert "test_fetch_many_agrees_with_fetch" in run.failed


def test_fetch_many_leaving_names_to_the_core_passes(pytester: pytest.Pytester) -> None:
    run = run_contract(
        pytester,
        """
        def fetch_many(self, names):
            return {name: STORE[name] for name in names if name in STORE and len(name) % 2}
        """,
    )
    assert run.failed == set()


def test_fetch_many_starting_threads_fails(pytester: pytest.Pytester) -> None:
    run = run_contract(
        pytester,
        """
        def fetch_many(self, names):
            import threading
            stop = threading.Event()
            threading.Thread(target=stop.wait, args=(5,), daemon=True).start()
            return {}
        """,
    )
    assert "test_fetch_many_agrees_with_fetch" in run.failed
    assert "providers start no threads" in run.text


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
        @classmethod
        def split(cls, rest):
            return rest, None
        """,
    )
    assert "test_split_round_trips_names_and_keys" in run.failed


def test_an_instance_method_split_fails(pytester: pytest.Pytester) -> None:
    run = run_contract(
        pytester,
        """
        def split(self, rest):
            return envsecrets.Provider.split(rest)
        """,
    )
    assert "test_split_round_trips_names_and_keys" in run.failed
    assert "must be a classmethod" in run.text


def test_a_provider_requiring_keys_passes_when_it_says_so(pytester: pytest.Pytester) -> None:
    body = """
        @classmethod
        def split(cls, rest):
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
    pytester.makeconftest(OPT_IN)
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


def test_the_kit_is_loaded_here_by_the_top_level_conftest(pytestconfig: pytest.Config) -> None:
    import envsecrets.testing

    assert pytestconfig.pluginmanager.get_plugin("envsecrets.testing") is envsecrets.testing
    # Which is why it is loaded as a plugin: pytest rewrote its assertions.
    assert "@py_builtins" in vars(envsecrets.testing._fetching)


def test_installing_envsecrets_loads_no_kit_into_other_suites(pytester: pytest.Pytester) -> None:
    assert not [
        entry_point
        for entry_point in metadata.distribution("envsecrets").entry_points
        if entry_point.group == "pytest11"
    ], "a pytest11 entry point would load the kit into every project's tests"
    pytester.makepyfile(
        test_plain="""
        import sys

        def test_no_kit(request):
            plugins = request.config.pluginmanager.list_name_plugin()
            assert not [name for name, _ in plugins if str(name).startswith("envsecrets")]
            assert "envsecrets.testing" not in sys.modules
        """
    )
    # A fresh interpreter with every installed pytest plugin: this session
    # has imported the kit already.
    pytester.runpytest_subprocess(*SUBSESSION_OPTIONS).assert_outcomes(passed=1)
    # The control: the opt-in line loads it.
    pytester.makeconftest(OPT_IN)
    result = pytester.runpytest_subprocess(*SUBSESSION_OPTIONS)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*envsecrets.testing*"])


def test_the_kit_adds_nothing_to_unrelated_suites(pytester: pytest.Pytester) -> None:
    # Even where it is loaded, it adds no fixture and no test.
    pytester.makeconftest(OPT_IN)
    pytester.makepyfile(test_plain="def test_plain():\n    assert True\n")
    result = pytester.runpytest(*SUBSESSION_OPTIONS, "--fixtures")
    assert "contract_" not in result.stdout.str()
    assert "missing_name" not in result.stdout.str()
    pytester.runpytest(*SUBSESSION_OPTIONS).assert_outcomes(passed=1)


# -- settings, credentials and hints --------------------------------------------

#: A provider that needs an address and a token, as a networked one does.
CONFIGURED = """
settings = frozenset({"MEM_ADDR", "MEM_TOKEN"})
credentials = frozenset({"MEM_TOKEN"})

def fetch(self, name):
    if "MEM_ADDR" not in self.environ:
        raise envsecrets.ProviderError("MEM_ADDR is not set")
    return super().fetch(name)
"""

CONFIGURED_ENVIRON = """
@pytest.fixture
def contract_environ(self):
    return {"MEM_ADDR": "127.0.0.1:1"}
"""

CREDENTIAL_CHECK = "test_credentials_never_appear_in_errors_or_logs"


def assert_credential_leak_reported(run: Run) -> None:
    assert run.failed == {CREDENTIAL_CHECK}, run.text
    assert "the value of credential MEM_TOKEN is in: " in run.text
    # The report names the variable and never quotes the sentinel.
    assert "contract-credential-" not in run.text


def test_a_provider_with_credentials_passes(pytester: pytest.Pytester) -> None:
    run = run_contract(pytester, CONFIGURED, attributes=CONFIGURED_ENVIRON)
    assert run.failed == set(), run.text
    assert CREDENTIAL_CHECK in run.passed


def test_a_credential_in_an_error_message_fails(pytester: pytest.Pytester) -> None:
    body = CONFIGURED.replace(
        "return super().fetch(name)",
        """if name not in STORE:
        raise envsecrets.SecretNotFound(f"no {name!r} (token {self.environ.get('MEM_TOKEN')})")
    return STORE[name]""",
    )
    assert_credential_leak_reported(run_contract(pytester, body, attributes=CONFIGURED_ENVIRON))


def test_a_credential_in_a_chained_exception_fails(pytester: pytest.Pytester) -> None:
    body = CONFIGURED.replace(
        "return super().fetch(name)",
        """if name not in STORE:
        auth = RuntimeError(f"header X-Token: {self.environ.get('MEM_TOKEN')}")
        raise envsecrets.SecretNotFound(f"no secret {name!r}") from auth
    return STORE[name]""",
    )
    assert_credential_leak_reported(run_contract(pytester, body, attributes=CONFIGURED_ENVIRON))


def test_a_credential_in_a_debug_log_fails(pytester: pytest.Pytester) -> None:
    body = CONFIGURED.replace(
        "return super().fetch(name)",
        """log.debug("GET %s with token %s", name, self.environ.get("MEM_TOKEN"))
    return super().fetch(name)""",
    )
    assert_credential_leak_reported(run_contract(pytester, body, attributes=CONFIGURED_ENVIRON))


def test_a_credential_on_a_quiet_logger_fails(pytester: pytest.Pytester) -> None:
    # An SDK's logger with its own level and no propagation (botocore's
    # request dump under a handler of its own): the kit opens every logger.
    # Imported on first fetch, as SDKs are: its logger appears mid-test.
    pytester.makepyfile(
        vendorsdk="""
        import logging

        wire = logging.getLogger("vendor.wire")
        wire.setLevel(logging.WARNING)
        wire.propagate = False
        wire.addHandler(logging.NullHandler())
        """
    )
    body = CONFIGURED.replace(
        "return super().fetch(name)",
        """import vendorsdk
    vendorsdk.wire.debug("Authorization: Bearer %s", self.environ.get("MEM_TOKEN"))
    return super().fetch(name)""",
    )
    run = run_contract(pytester, body, attributes=CONFIGURED_ENVIRON)
    assert_credential_leak_reported(run)
    assert "log records of vendor.wire" in run.text


def test_a_credential_in_a_failing_fetch_fails(pytester: pytest.Pytester) -> None:
    # Only the failing path leaks: the half-configured environment.
    body = CONFIGURED.replace(
        'raise envsecrets.ProviderError("MEM_ADDR is not set")',
        'raise envsecrets.ProviderError(f"MEM_ADDR is not set in {dict(self.environ)}")',
    )
    assert_credential_leak_reported(run_contract(pytester, body, attributes=CONFIGURED_ENVIRON))


def test_realistic_credentials_come_from_a_fixture(pytester: pytest.Pytester) -> None:
    # A backend that refuses a wrong token: the author gives a good one, and
    # the successful paths are searched too.
    body = CONFIGURED.replace(
        "return super().fetch(name)",
        """if self.environ.get("MEM_TOKEN") != "tok-accepted-4d2a9c":
        raise envsecrets.AccessDenied("the token is refused")
    log.debug("fetched %s as %s", name, self.environ["MEM_TOKEN"])
    return super().fetch(name)""",
    )
    realistic = """
@pytest.fixture
def contract_environ(self):
    return {"MEM_ADDR": "127.0.0.1:1", "MEM_TOKEN": "tok-accepted-4d2a9c"}

@pytest.fixture
def contract_credentials(self):
    return {"MEM_TOKEN": "tok-accepted-4d2a9c"}
"""
    run = run_contract(pytester, body, attributes=realistic)
    assert run.failed == {CREDENTIAL_CHECK}, run.text
    assert "tok-accepted-4d2a9c" not in run.text


def test_credentials_the_provider_does_not_declare_are_refused(
    pytester: pytest.Pytester,
) -> None:
    credentials = """
@pytest.fixture
def contract_credentials(self):
    return {"OTHER_TOKEN": "tok-other-77c1e0"}
"""
    run = run_contract(pytester, CONFIGURED, attributes=CONFIGURED_ENVIRON + credentials)
    assert run.failed == {CREDENTIAL_CHECK}
    assert "does not declare" in run.text


def test_a_credential_outside_the_settings_fails(pytester: pytest.Pytester) -> None:
    body = CONFIGURED.replace('"MEM_ADDR", "MEM_TOKEN"})', '"MEM_ADDR"})', 1)
    run = run_contract(pytester, body, attributes=CONFIGURED_ENVIRON)
    assert run.failed == {"test_credentials_are_settings"}
    assert "MEM_TOKEN" in run.text


def test_setting_patterns_cover_credentials(pytester: pytest.Pytester) -> None:
    body = """
    settings = frozenset({"MEM_ADDR", "MEM_*"})
    credentials = frozenset({"MEM_TOKEN", "MEM_KEY_*"})
    """
    run = run_contract(pytester, body)
    assert run.failed == set(), run.text
    assert CREDENTIAL_CHECK in run.passed


@pytest.mark.parametrize(
    "declaration",
    [
        'settings = {"MEM_ADDR"}',  # a set: mutable, shared by every instance
        'settings = ["MEM_ADDR"]',
        'settings = frozenset({"MEM-ADDR"})',
        'settings = frozenset({"*"})',
        'settings = frozenset({"MEM_*_URL"})',
        'credentials = frozenset({"1TOKEN"})',
        "credentials = frozenset({42})",
    ],
)
def test_malformed_settings_fail(pytester: pytest.Pytester, declaration: str) -> None:
    run = run_contract(pytester, declaration)
    assert "test_settings_and_credentials_are_frozensets_of_names" in run.failed
    assert "test_prefix_matches_the_grammar" in run.passed


def test_good_hints_pass(pytester: pytest.Pytester) -> None:
    run = run_contract(pytester, 'name_hint = "app/db"\nkey_hint = "password"')
    assert run.failed == set(), run.text
    assert "test_hints_are_strings_that_split_back" in run.passed


@pytest.mark.parametrize(
    ("hints", "reason"),
    [
        ('name_hint = "app/db"\nkey_hint = "a:b"', "not the hints"),  # splits at the last colon
        ('key_hint = "password"', "set name_hint too"),
        ("name_hint = 5", "must be a str"),
        ('name_hint = "app\\ndb"', "one printable line"),
    ],
)
def test_bad_hints_fail(pytester: pytest.Pytester, hints: str, reason: str) -> None:
    run = run_contract(pytester, hints)
    assert run.failed == {"test_hints_are_strings_that_split_back"}
    assert reason in run.text


def test_a_name_hint_alone_needs_whole_documents(pytester: pytest.Pytester) -> None:
    body = """
    name_hint = "app/db"

    @classmethod
    def split(cls, rest):
        name, colon, key = rest.rpartition(":")
        if not colon:
            raise envsecrets.ReferenceSyntaxError("_mem needs a key")
        return name, key
    """
    run = run_contract(pytester, body, attributes="whole_document_references = False")
    assert run.failed == {"test_hints_are_strings_that_split_back"}
    assert "set key_hint too" in run.text


# -- listing --------------------------------------------------------------------

LISTER = """
name_hint = "app/db"
key_hint = "password"

def list_names(self, prefix):
    log.debug("listing %r", prefix)
    return [name for name in STORE if name.startswith(prefix)]
"""

LISTING_CHECKS = {
    "test_list_names_is_implemented_or_refused",
    "test_list_names_finds_the_seeded_secrets",
    "test_list_names_of_an_unknown_prefix_is_empty",
    "test_listing_never_reveals_a_value",
}


def test_a_correct_lister_passes(pytester: pytest.Pytester) -> None:
    run = run_contract(pytester, LISTER)
    assert run.failed == set(), run.text
    assert run.passed >= LISTING_CHECKS


def test_a_lister_with_folders_passes(pytester: pytest.Pytester) -> None:
    # Vault-style: one level at a time, sub-folders end with "/".
    body = """
    def list_names(self, prefix):
        folder = prefix[: prefix.rfind("/") + 1]
        found = set()
        for name in STORE:
            if name.startswith(folder):
                head, slash, _ = name[len(folder):].partition("/")
                found.add(folder + head + slash)
        return sorted(entry for entry in found if entry.startswith(prefix))
    """
    run = run_contract(pytester, body)
    assert run.failed == set(), run.text
    assert run.passed >= LISTING_CHECKS


def test_a_lister_returning_values_fails(pytester: pytest.Pytester) -> None:
    run = run_contract(
        pytester,
        """
        def list_names(self, prefix):
            return [f"{name}={document}" for name, document in STORE.items()]
        """,
    )
    assert {
        "test_list_names_finds_the_seeded_secrets",
        "test_listing_never_reveals_a_value",
    } <= run.failed
    assert "the value of seeded secret" in run.text
    assert "the output of list_names('')" in run.text
    assert LITERAL not in run.text
    assert PASSWORD not in run.text


def test_a_lister_logging_values_fails(pytester: pytest.Pytester) -> None:
    run = run_contract(
        pytester,
        """
        def list_names(self, prefix):
            names = [name for name in STORE if name.startswith(prefix)]
            log.debug("found %s", {name: STORE[name] for name in names})
            return names
        """,
    )
    assert run.failed == {"test_listing_never_reveals_a_value"}
    assert "log records of candidate" in run.text
    assert LITERAL not in run.text


def test_a_lister_missing_a_secret_fails(pytester: pytest.Pytester) -> None:
    run = run_contract(
        pytester,
        """
        def list_names(self, prefix):
            return [name for name in STORE if name.startswith(prefix) and "/" not in name]
        """,
    )
    assert run.failed == {"test_list_names_finds_the_seeded_secrets"}
    assert "does not list the seeded secret 'app/db'" in run.text


def test_a_lister_ignoring_the_prefix_fails(pytester: pytest.Pytester) -> None:
    run = run_contract(pytester, "def list_names(self, prefix):\n    return list(STORE)")
    assert run.failed == {
        "test_list_names_finds_the_seeded_secrets",
        "test_list_names_of_an_unknown_prefix_is_empty",
    }
    assert "does not start with the prefix" in run.text


def test_a_lister_failing_on_an_unknown_prefix_fails(pytester: pytest.Pytester) -> None:
    body = LISTER.replace(
        "return [",
        """if not any(name.startswith(prefix) for name in STORE):
        raise envsecrets.SecretNotFound(f"nothing under {prefix!r}")
    return [""",
    )
    run = run_contract(pytester, body)
    assert run.failed == {"test_list_names_of_an_unknown_prefix_is_empty"}
    assert "raised SecretNotFound" in run.text


def test_a_lister_returning_one_string_fails(pytester: pytest.Pytester) -> None:
    run = run_contract(pytester, 'def list_names(self, prefix):\n    return "\\n".join(STORE)')
    assert "test_list_names_finds_the_seeded_secrets" in run.failed
    assert "not one string" in run.text


def test_an_override_that_refuses_to_list_fails(pytester: pytest.Pytester) -> None:
    run = run_contract(
        pytester,
        """
        def list_names(self, prefix):
            raise envsecrets.ListingNotSupported("not yet")
        """,
    )
    assert "test_list_names_is_implemented_or_refused" in run.failed
    assert "remove the override" in run.text


def test_a_default_list_names_that_does_not_refuse_fails(pytester: pytest.Pytester) -> None:
    # Not an override of list_names (provider_can_list is False), yet the
    # provider answers: through __getattribute__, the way a proxy would.
    body = """
    def __getattribute__(self, attribute):
        if attribute == "list_names":
            return lambda prefix: []
        return super().__getattribute__(attribute)
    """
    run = run_contract(pytester, body)
    assert "test_list_names_is_implemented_or_refused" in run.failed
    assert "must raise envsecrets.ListingNotSupported" in run.text


def test_keys_of_a_wrong_document_fail(pytester: pytest.Pytester) -> None:
    # Resolver.list_keys reads the fetched document: a provider that
    # drops a key shows the wrong keys.
    run = run_contract(
        pytester,
        """
        def fetch(self, name):
            document = super().fetch(name)
            if document.startswith("{"):
                return {k: v for k, v in json.loads(document).items() if k != "nested"}
            return document
        """,
        imports="import json",
    )
    assert "test_list_keys_match_the_seeded_documents" in run.failed
    assert "'nested'" in run.text


def test_logs_of_a_logger_configured_mid_capture_are_captured() -> None:
    # An SDK imported on first use configures its logger after the capture
    # started: the kit runs the action again with that logger opened up.
    import logging
    import uuid

    from envsecrets.testing._leaks import capture_logs

    name = f"lazy.sdk.{uuid.uuid4().hex}"
    calls = []

    def action() -> int:
        logger = logging.getLogger(name)
        if not calls:
            logger.setLevel(logging.ERROR)
            logger.propagate = False
        calls.append(1)
        logger.debug("request dump")
        return len(calls)

    result, records = capture_logs(action)
    assert result == 2
    assert [record.getMessage() for record in records if record.name == name] == ["request dump"]
    assert logging.getLogger(name).level == logging.ERROR  # restored
