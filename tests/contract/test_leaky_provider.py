"""The kit reports every leak of a leaky provider at once, readably, and
tells redaction from silencing (``leaky_provider.py``).

Each test runs the contract against a variant of the provider in a
pytester sub-session and reads the terminal output as an author would.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.contract.test_contract_kit import OPT_IN, SUBSESSION_OPTIONS

pytest_plugins = ["pytester"]

SOURCE = (Path(__file__).parent / "leaky_provider.py").read_text(encoding="utf-8")

#: Seeded values and credentials: none may ever be printed.
VALUE = "pw-leaky-9c1e7b2a"
CREDENTIALS = {
    "LEAKY_ACCESS_KEY_ID": "AKIALEAKYSENTINEL1",
    "LEAKY_SECRET_ACCESS_KEY": "leaky-secret-key-4d8e",
    "LEAKY_SESSION_TOKEN": "leaky-session-token-7f3a",
}

CONTRACT = f'''
import pytest
from envsecrets.testing import ProviderContract

from leaky_provider import STORE
from candidate import Candidate

SEEDED = {{"db/password": "{VALUE}", "db/config": '{{"user": "app-user-51c2", "port": 5432, '
    '"tls": true, "none": null, "pool": {{"size": 4}}}}'}}


class TestCandidate(ProviderContract):
    provider_class = Candidate

    @pytest.fixture
    def contract_secrets(self):
        STORE.clear()
        STORE.update(SEEDED)
        yield dict(SEEDED)
        STORE.clear()

    @pytest.fixture
    def contract_credentials(self):
        return {CREDENTIALS!r}
'''

CANDIDATE = """
import envsecrets
from leaky_provider import LeakyProvider


class Candidate(LeakyProvider):
    redact = {redact}
    silence = {silence}


@envsecrets.hookimpl
def envsecrets_providers():
    return [Candidate]
"""


@pytest.fixture(autouse=True)
def botocore_level() -> Iterator[None]:
    """The sub-sessions run in this process: the silencing variant's level
    must not outlive its test."""
    logger = logging.getLogger("botocore")
    level = logger.level
    yield
    logger.setLevel(level)


def run(pytester: pytest.Pytester, *, redact: bool, silence: bool) -> pytest.RunResult:
    pytester.makeconftest(OPT_IN)
    pytester.makepyfile(
        leaky_provider=SOURCE,
        candidate=CANDIDATE.format(redact=redact, silence=silence),
        test_candidate=CONTRACT,
    )
    # In a subprocess: no logging state of earlier tests (handlers, redactions) reaches it.
    return pytester.runpytest_subprocess(*SUBSESSION_OPTIONS, "-rN", "-p", "no:randomly")


def failure_of(result: pytest.RunResult, test: str) -> list[str]:
    """The lines of *test*'s failure section in the terminal output."""
    text = "\n".join(result.outlines)
    match = re.search(rf"_+ TestCandidate\.{test} _+\n(.*?)(?=\n_{{3,}} |\n={{3,}} )", text, re.S)
    assert match, f"no failure section for {test}:\n{text}"
    return match.group(1).strip().splitlines()


def assert_nothing_printed(result: pytest.RunResult) -> None:
    output = "\n".join(result.outlines + result.errlines)
    assert VALUE not in output
    for variable, value in CREDENTIALS.items():
        assert value not in output, f"{variable}'s value was printed"


def test_every_leak_is_reported_at_once_in_a_few_lines(pytester: pytest.Pytester) -> None:
    result = run(pytester, redact=False, silence=False)
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) >= 2
    assert_nothing_printed(result)
    report = failure_of(result, "test_credentials_never_appear_in_errors_or_logs")
    assert len(report) <= 6, "\n".join(report)
    text = "\n".join(report)
    assert text.startswith("3 value(s) leaked")
    for variable in CREDENTIALS:  # every variable, in one failure
        assert f"the value of credential {variable} is in: log records of botocore." in text
    for logger in ("botocore.auth", "botocore.endpoint", "botocore.credentials"):
        assert logger in text  # every logger
    assert "log records searched at DEBUG, not shown" in text
    assert "envsecrets.redact_logs" in text
    values = failure_of(result, "test_errors_and_logs_never_hold_a_secret")
    assert len(values) <= 6, "\n".join(values)
    assert "log records of botocore.parsers" in "\n".join(values)
    # The captured DEBUG records are the kit's alone: pytest shows none of them.
    assert not any("Captured log" in line for line in result.outlines)


def test_the_helper_fixes_every_leak_and_keeps_the_records(pytester: pytest.Pytester) -> None:
    result = run(pytester, redact=True, silence=False)
    result.assert_outcomes(passed=28, skipped=3)
    assert_nothing_printed(result)


def test_silencing_the_sdk_fails_the_kit(pytester: pytest.Pytester) -> None:
    result = run(pytester, redact=False, silence=True)
    assert_nothing_printed(result)
    report = "\n".join(failure_of(result, "test_logs_are_redacted_not_silenced"))
    assert "logger botocore is set to INFO" in report
    assert "envsecrets.redact_logs" in report
