"""Credential isolation: settings from the process environment only, and
the agent's credentials kept from the command it starts (issue 15)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import Runner
from tests.conftest import SENTINEL
from tests.support.plugins import install_fake_distribution

#: A provider declaring settings and credentials: it answers with the
#: address it would have contacted, so a test sees where settings came from.
FAKE_PLUGIN = """
import envsecrets

class FakeProvider(envsecrets.Provider):
    prefix = "fake"
    description = "Answers with its settings (tests)."
    settings = frozenset({"FAKE_ADDR", "FAKE_TOKEN", "FAKE_URL_*"})
    credentials = frozenset({"FAKE_TOKEN"})

    def fetch(self, name):
        import os
        marker = self.environ.get("FAKE_MARKER")
        if marker:
            open(marker, "a").write(name + "\\n")
        return {"addr": self.environ.get("FAKE_ADDR", "unset"), "name": name}

@envsecrets.hookimpl
def envsecrets_providers():
    return [FakeProvider]
"""

PRINT_ENV = "import os, json; print(json.dumps(dict(os.environ)))"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    folder = tmp_path / "site"
    folder.mkdir()
    install_fake_distribution(folder, "envsecrets-fake", "envsecrets_fake", FAKE_PLUGIN)
    return folder


def agent_env(site: Path, **extra: str) -> dict[str, str]:
    return {
        "PYTHONPATH": str(site),
        "FAKE_ADDR": "https://vault.internal",
        "FAKE_TOKEN": SENTINEL,
        "HOME": "/home/agent",
        "UNRELATED": "stays",
        **extra,
    }


def child_env(result: object) -> dict[str, str]:
    return json.loads(result.stdout)  # type: ignore[attr-defined, no-any-return]


def test_run_keeps_declared_credentials_from_the_child(cli: Runner, site: Path) -> None:
    env = agent_env(site, DB="_fake:db:addr")
    result = cli("run", "--", sys.executable, "-c", PRINT_ENV, env=env)
    assert result.returncode == 0, result.stderr
    seen = child_env(result)
    assert "FAKE_TOKEN" not in seen
    assert SENTINEL not in result.stdout
    # Settings that are not credentials, and everything else, pass on.
    assert seen["FAKE_ADDR"] == "https://vault.internal"
    assert seen["UNRELATED"] == "stays"
    assert seen["DB"] == "https://vault.internal"


def test_keep_credentials_passes_them_on(cli: Runner, site: Path) -> None:
    result = cli(
        "run", "--keep-credentials", "--", sys.executable, "-c", PRINT_ENV, env=agent_env(site)
    )
    assert result.returncode == 0, result.stderr
    assert child_env(result)["FAKE_TOKEN"] == SENTINEL


def test_pristine_gives_only_files_references_and_the_basics(
    cli: Runner, site: Path, tmp_path: Path
) -> None:
    role = tmp_path / "role.env"
    role.write_text("HOST=db.internal\nPASS=_fake:db:name\n")
    env = agent_env(site, DB="_fake:other:name", LANG="C.UTF-8", TERM="dumb")
    result = cli(
        "run", "--pristine", "-e", str(role), "--", sys.executable, "-c", PRINT_ENV, env=env
    )
    assert result.returncode == 0, result.stderr
    seen = child_env(result)
    seen.pop("LC_CTYPE", None)  # the child's Python may set it (PEP 538)
    assert seen == {
        "PATH": env_path(cli),
        "HOME": "/home/agent",
        "LANG": "C.UTF-8",
        "TERM": "dumb",
        "HOST": "db.internal",
        "PASS": "db",
        "DB": "other",
    }


def env_path(cli: Runner) -> str:
    result = cli("run", "--", sys.executable, "-c", "import os; print(os.environ['PATH'])")
    return str(result.stdout.strip())


def test_pristine_and_keep_credentials_exclude_each_other(cli: Runner, site: Path) -> None:
    result = cli("run", "--pristine", "--keep-credentials", "--", "true", env=agent_env(site))
    assert result.returncode == 2
    assert "not allowed with" in result.stderr


@pytest.mark.parametrize(
    ("line", "variable"),
    [
        ("FAKE_ADDR=http://attacker.example", "FAKE_ADDR"),
        ("FAKE_TOKEN=file:///etc/os-release", "FAKE_TOKEN"),
        ("FAKE_URL_SECRETS=http://attacker.example", "FAKE_URL_SECRETS"),
    ],
)
@pytest.mark.parametrize("command", ["run", "resolve", "check"])
def test_an_env_file_cannot_set_a_provider_setting(
    cli: Runner, site: Path, tmp_path: Path, *, line: str, variable: str, command: str
) -> None:
    role = tmp_path / "role.env"
    role.write_text(f"{line}\nPASS=_fake:db:addr\n")
    marker = tmp_path / "fetched"
    args = [command, "-e", str(role)]
    if command == "run":
        args += ["--", "true"]
    if command == "check":
        args += ["--fetch"]
    result = cli(*args, env=agent_env(site, FAKE_MARKER=str(marker)))
    assert result.returncode == 2
    assert f"env file {str(role)!r} sets {variable}, a provider setting" in result.stderr
    assert "--allow-provider-settings" in result.stderr
    assert not marker.exists(), "something was fetched before the refusal"
    assert result.stdout == ""


def test_allow_provider_settings_lets_the_file_configure_providers(
    cli: Runner, site: Path, tmp_path: Path
) -> None:
    role = tmp_path / "role.env"
    role.write_text("FAKE_ADDR=https://dev-vault.local\nDB=_fake:db:addr\n")
    result = cli(
        "resolve", "--allow-provider-settings", "-e", str(role), "-f", "json", env=agent_env(site)
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["DB"] == "https://dev-vault.local"


def test_settings_never_come_from_the_files_data_path(
    cli: Runner, site: Path, tmp_path: Path
) -> None:
    # Without the flag the refusal comes first; with the process value the
    # provider sees the agent's own address.
    role = tmp_path / "role.env"
    role.write_text("DB=_fake:db:addr\n")
    result = cli("resolve", "-e", str(role), "-f", "json", env=agent_env(site))
    assert json.loads(result.stdout) == {"DB": "https://vault.internal"}


def test_resolve_never_prints_credentials_unless_asked(cli: Runner, site: Path) -> None:
    plain = cli("resolve", "-f", "json", env=agent_env(site))
    assert plain.returncode == 0, plain.stderr
    assert "FAKE_TOKEN" not in json.loads(plain.stdout)
    assert SENTINEL not in plain.stdout
    kept = cli("resolve", "-f", "json", "--keep-credentials", env=agent_env(site))
    assert json.loads(kept.stdout)["FAKE_TOKEN"] == SENTINEL


def test_a_credential_the_env_file_sets_is_the_users_own(
    cli: Runner, site: Path, tmp_path: Path
) -> None:
    role = tmp_path / "role.env"
    role.write_text("FAKE_TOKEN=for-the-child\n")
    result = cli(
        "run",
        "--allow-provider-settings",
        "-e",
        str(role),
        "--",
        sys.executable,
        "-c",
        PRINT_ENV,
        env=agent_env(site),
    )
    assert result.returncode == 0, result.stderr
    assert child_env(result)["FAKE_TOKEN"] == "for-the-child"


def test_envjson_documents_still_come_from_env_files(cli: Runner, tmp_path: Path) -> None:
    role = tmp_path / "role.env"
    role.write_text('CFG={"port": 5432}\nPORT=_envjson:CFG:port\n')
    result = cli("resolve", "-e", str(role), "-f", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["PORT"] == "5432"
