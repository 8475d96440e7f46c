"""Fixtures shared by every test suite."""

from __future__ import annotations

import pytest

# The provider contract kit is opt-in, as for any third-party suite: loaded
# here, in the top-level conftest, pytest rewrites its assertions.
pytest_plugins = ["envsecrets.testing"]

#: A value that must never appear in an error, a log line or a repr.
SENTINEL = "SENTINEL-7d1f3c9a-never-print-me"


def assert_no_sentinel(*texts: object, sentinel: str = SENTINEL) -> None:
    """Fail when *sentinel* appears in any of *texts* (str() of each)."""
    for text in texts:
        assert sentinel not in str(text), f"secret value leaked into: {str(text)[:300]!r}"


@pytest.fixture
def sentinel() -> str:
    return SENTINEL
