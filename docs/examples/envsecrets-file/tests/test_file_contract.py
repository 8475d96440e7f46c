"""The envsecrets provider contract, run against the _file provider.

FileProvider implements list_names, so the contract's listing checks run
too: each seeded file is listed under its folder, and no listing shows a value.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest
from envsecrets.testing import ProviderContract

from envsecrets_file import FileProvider

DB_JSON = """{
  "user": "app_user_7c1f",
  "password": "pw-8d3e91b2-x",
  "port": 5432,
  "ratio": 1.50,
  "big": 1e6,
  "tls": true,
  "replica": null,
  "options": {"pool": 10, "mode": "verify-full"},
  "hosts": ["db1.internal", "db2.internal"]
}"""


class TestFileProvider(ProviderContract):
    provider_class = FileProvider

    @pytest.fixture
    def contract_environ(self, tmp_path: Path) -> Mapping[str, str]:
        return {"ENVSECRETS_FILE_DIR": str(tmp_path)}

    @pytest.fixture
    def contract_secrets(self, tmp_path: Path) -> Mapping[str, str]:
        (tmp_path / "app").mkdir()
        (tmp_path / "app" / "db.json").write_text(DB_JSON)
        (tmp_path / "token").write_text("tok-4f9a2c71e0")
        (tmp_path / "password.txt").write_text("hunter2-9b7e\n")  # newline dropped
        return {
            "app/db.json": DB_JSON,
            "token": "tok-4f9a2c71e0",
            "password.txt": "hunter2-9b7e",
        }


class TestFileProviderSeededOnce(ProviderContract):
    """The same contract with the secrets seeded once for the whole class, as
    a suite does against a slow server."""

    provider_class = FileProvider

    # A class-scoped fixture is a classmethod (pytest 9 deprecates instance
    # methods for it): it runs once, before any test instance exists.
    @pytest.fixture(scope="class")
    @classmethod
    def seeded_directory(cls, tmp_path_factory: pytest.TempPathFactory) -> Path:
        directory = tmp_path_factory.mktemp("secrets")
        (directory / "db.json").write_text(DB_JSON)
        (directory / "token").write_text("tok-4f9a2c71e0")
        return directory

    @pytest.fixture(scope="class")
    @classmethod
    def contract_secrets(cls, seeded_directory: Path) -> Mapping[str, str]:
        return {"db.json": DB_JSON, "token": "tok-4f9a2c71e0"}

    @pytest.fixture
    def contract_environ(self, seeded_directory: Path) -> Mapping[str, str]:
        return {"ENVSECRETS_FILE_DIR": str(seeded_directory)}
