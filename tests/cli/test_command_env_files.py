"""A plugin command made with ``env_files=True`` takes ``-e FILE`` and
``--allow-provider-settings``, and its context applies the rules of ``run``,
``resolve`` and ``check``: an env file is data, never settings, unless allowed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import envsecrets
from tests.cli.conftest import Runner
from tests.support.plugins import install_fake_distribution

PLUGIN = """
import json

import envsecrets


class AcmeProvider(envsecrets.Provider):
    prefix = "acme"
    description = "Answers ACME_ADDR/NAME (a test backend)."
    settings = frozenset({"ACME_ADDR"})

    def fetch(self, name):
        return self.environ["ACME_ADDR"] + "/" + name


def configure(parser):
    parser.add_argument("--quiet", action="store_true")


def show(args, context):
    with context.resolver() as resolver:
        print(json.dumps(resolver.resolve(context.variables()), sort_keys=True))
    return context.EXIT_OK


@envsecrets.hookimpl
def envsecrets_providers():
    return [AcmeProvider]


@envsecrets.hookimpl
def envsecrets_commands():
    return [envsecrets.Command("acme-show", "resolve and show", configure, show,
                               context=True, env_files=True)]
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    site = tmp_path / "site"
    site.mkdir()
    install_fake_distribution(site, "acme-envsecrets", "acme_envsecrets", PLUGIN, "acme")
    info = next(site.glob("acme_envsecrets-*.dist-info"))
    with (info / "entry_points.txt").open("a") as entry_points:
        entry_points.write("\n[envsecrets.credentials]\n- = acme_envsecrets\n")
    return {
        "PYTHONPATH": str(site),
        "ACME_ADDR": "from-process",
        "ENVSECRETS_PLUGINS": "acme-envsecrets",
    }


def test_the_files_variables_are_resolved_with_the_process_settings(
    cli: Runner, env: dict[str, str], tmp_path: Path
) -> None:
    role = tmp_path / "role.env"
    role.write_text("PASS=_acme:db\nPLAIN=as-is\n")
    done = cli("acme-show", "-e", str(role), env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"PASS": "from-process/db", "PLAIN": "as-is"}


def test_without_env_files_the_process_environment_is_resolved(
    cli: Runner, env: dict[str, str]
) -> None:
    done = cli("acme-show", env={**env, "PASS": "_acme:db"})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["PASS"] == "from-process/db"


def test_an_env_file_setting_a_provider_setting_is_refused_as_check_refuses_it(
    cli: Runner, env: dict[str, str], tmp_path: Path
) -> None:
    role = tmp_path / "role.env"
    role.write_text("ACME_ADDR=elsewhere\nPASS=_acme:db\n")
    done = cli("acme-show", "-e", str(role), env=env)
    check = cli("check", "-e", str(role), "--no-agent", env=env)
    assert (done.returncode, done.stdout) == (2, "")
    assert check.returncode == 2
    assert done.stderr == check.stderr
    assert "sets ACME_ADDR, a provider setting" in done.stderr
    allowed = cli("acme-show", "-e", str(role), "--allow-provider-settings", env=env)
    assert allowed.returncode == 0, allowed.stderr
    assert json.loads(allowed.stdout) == {"ACME_ADDR": "elsewhere", "PASS": "elsewhere/db"}


def test_an_unreadable_env_file_is_a_usage_error(
    cli: Runner, env: dict[str, str], tmp_path: Path
) -> None:
    done = cli("acme-show", "-e", str(tmp_path / "missing.env"), env=env)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith("envsecrets: error: cannot read env file ")


def test_the_help_shows_the_env_file_options(cli: Runner, env: dict[str, str]) -> None:
    done = cli("acme-show", "--help", env=env)
    assert done.returncode == 0, done.stderr
    assert "--env-file FILE" in done.stdout
    assert "--allow-provider-settings" in done.stdout
    assert "--quiet" in done.stdout


def test_env_files_need_a_context() -> None:
    with pytest.raises(envsecrets.PluginError, match="only with context=True"):
        envsecrets.Command("x", "x", lambda parser: None, lambda args: 0, env_files=True)
