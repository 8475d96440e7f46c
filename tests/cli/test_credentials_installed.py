"""Credentials never depend on what loaded, and the allowlist names
distributions (issue 19): the real CLI, in a subprocess."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import Runner
from tests.conftest import SENTINEL
from tests.support.plugins import install_fake_distribution

# The credentials of installed first-party distributions: both must be
# installed (tox env wheels); with envjson alone there is nothing to keep.
pytest.importorskip("envsecrets_vault", reason="needs envsecrets-vault installed")
pytest.importorskip("envsecrets_aws", reason="needs envsecrets-aws installed")

PRINT_ENV = "import os, json; print(json.dumps(dict(os.environ)))"

#: The agent's credentials, and the pointers at its AWS identity.
AGENT_CREDENTIALS = (
    "VAULT_TOKEN",
    "VAULT_APP_ROLE_SECRET_ID",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_PROFILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CONFIG_FILE",
)

#: A plugin that says it was imported: the allowlist must never import it.
ROGUE_PLUGIN = """
import os
open(os.environ["ROGUE_MARKER"], "w").write("imported")

import envsecrets

class RogueVault(envsecrets.Provider):
    prefix = "vaultkv2"
    description = "Not the real one."

    def fetch(self, name):
        return {"password": "rogue"}

@envsecrets.hookimpl
def envsecrets_providers():
    return [RogueVault]
"""

#: A third-party provider with its credential declared at class level only.
THIRD_PARTY = """
import envsecrets

class AcmeProvider(envsecrets.Provider):
    prefix = "acme"
    description = "Acme (tests)."
    settings = frozenset({"ACME_TOKEN"})
    credentials = frozenset({"ACME_TOKEN"})

    def fetch(self, name):
        return {"value": name}

@envsecrets.hookimpl
def envsecrets_providers():
    return [AcmeProvider]
"""


@pytest.fixture
def site(tmp_path: Path) -> Path:
    folder = tmp_path / "site"
    folder.mkdir()
    return folder


def agent_env(site: Path, **extra: str) -> dict[str, str]:
    """An agent's environment: every credential holds the sentinel."""
    env = {name: f"{SENTINEL}-{name}" for name in AGENT_CREDENTIALS}
    return {
        **env,
        "PYTHONPATH": str(site),
        "AWS_REGION": "eu-west-1",
        "ENV_CONFIG": '{"port": 5432}',
        "PORT": "_envjson:ENV_CONFIG:port",
        "UNRELATED": "stays",
        **extra,
    }


def break_module(site: Path, module: str) -> None:
    """Shadow the installed *module* with one whose import fails: the real
    distribution, with its real metadata, fails to load."""
    package = site / module
    package.mkdir()
    (package / "__init__.py").write_text("raise ImportError('broken on purpose')\n")


def assert_no_credentials(cli: Runner, env: dict[str, str]) -> None:
    """Neither run's child nor resolve's output holds any agent credential."""
    run = cli("run", "--", sys.executable, "-c", PRINT_ENV, env=env)
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout)
    assert sorted(set(AGENT_CREDENTIALS) & set(seen)) == []
    assert SENTINEL not in run.stdout
    assert (seen["PORT"], seen["UNRELATED"]) == ("5432", "stays")
    resolve = cli("resolve", "-f", "json", env=env)
    assert resolve.returncode == 0, resolve.stderr
    printed = json.loads(resolve.stdout)
    assert sorted(set(AGENT_CREDENTIALS) & set(printed)) == []
    assert SENTINEL not in resolve.stdout + resolve.stderr
    assert printed["PORT"] == "5432"


def test_credentials_are_kept_under_an_allowlist_without_their_provider(
    cli: Runner, site: Path
) -> None:
    assert_no_credentials(cli, agent_env(site, ENVSECRETS_PLUGINS="envjson"))


def test_credentials_are_kept_when_their_providers_are_disabled(cli: Runner, site: Path) -> None:
    assert_no_credentials(cli, agent_env(site, ENVSECRETS_DISABLE_PLUGINS="aws,vault"))


def test_credentials_are_kept_when_their_providers_fail_to_import(cli: Runner, site: Path) -> None:
    break_module(site, "envsecrets_vault")
    break_module(site, "envsecrets_aws")
    env = agent_env(site)
    providers = cli("providers", env=env)
    assert "failed: plugin 'vault'" in providers.stdout
    assert "failed: plugin 'aws'" in providers.stdout
    assert_no_credentials(cli, env)


def test_keep_credentials_still_passes_them(cli: Runner, site: Path) -> None:
    env = agent_env(site, ENVSECRETS_PLUGINS="envjson")
    run = cli("run", "--keep-credentials", "--", sys.executable, "-c", PRINT_ENV, env=env)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["AWS_ROLE_ARN"] == f"{SENTINEL}-AWS_ROLE_ARN"


def test_a_third_party_credential_declared_in_metadata_is_kept_when_not_loaded(
    cli: Runner, site: Path
) -> None:
    install_fake_distribution(site, "acme-envsecrets", "acme_envsecrets", THIRD_PARTY)
    info = next(site.glob("acme_envsecrets-*.dist-info"))
    with (info / "entry_points.txt").open("a") as entry_points:
        entry_points.write("\n[envsecrets.credentials]\nACME_TOKEN = acme_envsecrets\n")
    env = agent_env(site, ACME_TOKEN=SENTINEL, ENVSECRETS_PLUGINS="envjson")
    assert_no_credentials(cli, env)
    run = cli("run", "--", sys.executable, "-c", PRINT_ENV, env=env)
    assert "ACME_TOKEN" not in json.loads(run.stdout)


def test_an_undeclared_plugin_that_did_not_load_fails_closed(cli: Runner, site: Path) -> None:
    """A broken third-party plugin declaring nothing statically: a variable
    that looks like a credential is not handed on, the run refuses."""
    install_fake_distribution(site, "acme-envsecrets", "acme_envsecrets", THIRD_PARTY)
    (site / "acme_envsecrets.py").write_text("raise ImportError('broken on purpose')\n")
    env = agent_env(site, ACME_TOKEN=SENTINEL)
    run = cli("run", "--", sys.executable, "-c", PRINT_ENV, env=env)
    assert run.returncode == 2
    assert run.stdout == ""
    assert "'ACME_TOKEN' may be credentials of acme-envsecrets" in run.stderr
    assert SENTINEL not in run.stderr
    resolve = cli("resolve", env=env)
    assert (resolve.returncode, resolve.stdout) == (2, "")
    # Nothing that looks like a credential: the broken plugin breaks nothing.
    del env["ACME_TOKEN"]
    assert_no_credentials(cli, env)
    # A role's reference named like a credential is its input, not a credential.
    env["PG_PASS"] = "_envjson:CFG:pass"
    env["CFG"] = json.dumps({"pass": "from-the-role"})
    role = cli("run", "--", sys.executable, "-c", PRINT_ENV, env=env)
    assert role.returncode == 0, role.stderr
    assert json.loads(role.stdout)["PG_PASS"] == "from-the-role"
    del env["PG_PASS"], env["CFG"]
    # Asked for explicitly, credentials pass.
    env["ACME_TOKEN"] = SENTINEL
    kept = cli("run", "--keep-credentials", "--", sys.executable, "-c", PRINT_ENV, env=env)
    assert json.loads(kept.stdout)["ACME_TOKEN"] == SENTINEL


def test_a_plugin_declaring_no_credentials_does_not_fail_closed(cli: Runner, site: Path) -> None:
    """The entry ``- = package`` in ``envsecrets.credentials`` says "none":
    when such a plugin does not load, nothing is refused."""
    install_fake_distribution(site, "acme-envsecrets", "acme_envsecrets", THIRD_PARTY)
    (site / "acme_envsecrets.py").write_text("raise ImportError('broken on purpose')\n")
    entry_points = site / "acme_envsecrets-1.2.3.dist-info" / "entry_points.txt"
    entry_points.write_text(
        entry_points.read_text() + "\n[envsecrets.credentials]\n- = acme_envsecrets\n"
    )
    env = agent_env(site, ACME_TOKEN="not-a-credential-of-acme")
    run = cli("run", "--", sys.executable, "-c", PRINT_ENV, env=env)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["ACME_TOKEN"] == "not-a-credential-of-acme"


# The allowlist names distributions.


def test_the_allowlist_takes_distribution_names(cli: Runner, site: Path) -> None:
    env = {"PYTHONPATH": str(site), "ENVSECRETS_PLUGINS": "envsecrets-envjson, Envsecrets_AWS"}
    providers = cli("providers", env=env)
    assert providers.returncode == 0, providers.stderr
    table = providers.stdout.split("not loaded")[0]
    assert "_envjson" in table
    assert "_aws " in table
    assert "_vaultkv2" not in table
    assert "not loaded: plugin 'vault' (not in ENVSECRETS_PLUGINS): envsecrets-vault" in (
        providers.stdout
    )


def test_the_allowlist_takes_short_forms(cli: Runner, site: Path) -> None:
    env = {"PYTHONPATH": str(site), "ENVSECRETS_PLUGINS": "vault,envjson"}
    providers = cli("providers", env=env)
    assert providers.returncode == 0, providers.stderr
    table = providers.stdout.split("not loaded")[0]
    assert "_vaultkv2" in table
    assert "_envjson" in table
    assert "_aws " not in table
    assert "not loaded: plugin 'aws' (not in ENVSECRETS_PLUGINS): envsecrets-aws" in (
        providers.stdout
    )


def test_an_unknown_allowlist_name_is_a_usage_error(cli: Runner, site: Path) -> None:
    env = agent_env(site, ENVSECRETS_PLUGINS="envjson,vualt")
    commands = (
        ("run", "--", sys.executable, "-c", "print('started')"),
        ("resolve",),
        ("check",),
        ("get", "_envjson:CFG:k"),
        ("ls", "_envjson:"),
    )
    for args in commands:
        result = cli(*args, env=env)
        assert (result.returncode, result.stdout) == (2, "")
        assert "ENVSECRETS_PLUGINS names 'vualt', which is not installed" in result.stderr
        assert "envsecrets-vault (vault)" in result.stderr
        assert "envsecrets-aws (aws)" in result.stderr
    providers = cli("providers", env=env)
    assert providers.returncode == 2
    assert "'vualt'" in providers.stderr


def test_the_allowlist_never_imports_another_distribution_of_the_same_entry_name(
    cli: Runner, site: Path, tmp_path: Path
) -> None:
    install_fake_distribution(
        site, "envsecrets-rogue", "envsecrets_rogue", ROGUE_PLUGIN, entry_name="vault"
    )
    marker = tmp_path / "imported"
    env = agent_env(site, ENVSECRETS_PLUGINS="vault,envjson", ROGUE_MARKER=str(marker))
    providers = cli("providers", env=env)
    assert "envsecrets-vault" in providers.stdout
    assert "not loaded: plugin 'vault' (not in ENVSECRETS_PLUGINS): envsecrets-rogue" in (
        providers.stdout
    )
    run = cli("run", "--", sys.executable, "-c", "print('started')", env=env)
    assert (run.returncode, run.stdout) == (0, "started\n"), run.stderr
    assert not marker.exists()
