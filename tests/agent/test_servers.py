"""Through the agent against real servers (OpenBao with AppRole, moto):
the child environments, outputs and errors of the in-process path, byte
for byte; and one AppRole login for a fleet of runs, counted by the
server's file audit device."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.agent.conftest import PRINT_ENV, Agent, envsecrets

for _module in ("envsecrets_aws", "envsecrets_vault", "envsecrets_envjson", "moto"):
    pytest.importorskip(_module, reason="needs every plugin and moto installed")

from testservers.moto import moto_environ, moto_server, secretsmanager  # noqa: E402
from testservers.openbao import OpenBao, approle_env, audit_operations  # noqa: E402

LOGIN = ("update", "auth/approle/login")
FLEET = 50
ENV_CONFIG = json.dumps({"PG_PORT": 5432, "PG_DB": "orders"})
ROLE = {
    "PG_USER": "_vaultkv2:secret/database/pg:user",
    "PG_PASS": "_vaultkv2:secret/database/pg:password",
    "PG_HOST": "_aws:agentpg:PG_HOST",
    "PG_PORT": "_envjson:ENV_CONFIG:PG_PORT",
    "PG_DB": "_envjson:ENV_CONFIG:PG_DB",
    "ENV_CONFIG": ENV_CONFIG,
    "PG_SSLMODE": "require",
}


class Servers:
    def __init__(self, bao: OpenBao, audit: Path, settings: dict[str, str]) -> None:
        self.bao = bao
        self.audit = audit
        #: The providers' settings and credentials (the agent's environment).
        self.settings = settings

    def logins(self) -> int:
        return sum(1 for seen in audit_operations(self.audit) if seen == LOGIN)


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    audit = tmp_path_factory.mktemp("audit") / "audit.log"
    config = f'audit "file" "counting" {{\n  options {{\n    file_path = "{audit}"\n  }}\n}}\n'
    with OpenBao(config=config) as bao, moto_server() as url:
        bao.kv_put("secret", "database/pg", {"user": "app", "password": "pg-s3cr3t"})
        bao.put_policy("role", 'path "secret/data/database/*" { capabilities = ["read"] }')
        credentials = bao.approle("fleet", token_type="service", token_policies=["role"])
        secretsmanager(url).create_secret(
            Name="agentpg", SecretString=json.dumps({"PG_HOST": "db.example.internal"})
        )
        yield Servers(bao, audit, {**approle_env(bao.address, credentials), **moto_environ(url)})


@pytest.fixture(scope="module")
def agent(servers: Servers, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    socket = tmp_path_factory.mktemp("agent") / "a.sock"
    with Agent(socket, {**servers.settings, "HOME": str(socket.parent)}) as running:
        yield running


CASES = {
    "role": (["run", "--", *PRINT_ENV], ROLE),
    "pristine": (["run", "--pristine", "--", *PRINT_ENV], ROLE),
    "missing": (
        ["run", "--", *PRINT_ENV],
        {
            **ROLE,
            "A": "_vaultkv2:secret/database/none:x",
            "B": "_aws:nope:k",
            "C": "_aws:agentpg:NOPE",
        },
    ),
    "confined": (
        ["run", "--", *PRINT_ENV],
        {
            "T": "_vaultkv1:auth/token/lookup-self:id",
            "S": "_vaultkv2:sys/mounts:x",
            "C": "_vaultkv1:cubbyhole/x:y",
            "I": "_vaultkv1:identity/entity/id:x",
        },
    ),
    "resolve": (["resolve", "-f", "json"], ROLE),
    "check": (["check", "--fetch"], {**ROLE, "BAD": "_vaultkv2:secret/database/pg:nokey"}),
    "get": (["get", "_vaultkv2:secret/database/pg:password"], {}),
    "get denied": (["get", "_vaultkv2:secret/other:password"], {}),
}


@pytest.mark.parametrize("case", CASES)
def test_the_agent_answers_as_in_process(
    servers: Servers, agent: Agent, tmp_path: Path, case: str
) -> None:
    args, role = CASES[case]
    # The client's environment holds the same settings: in-process uses them;
    # the agent uses its own and strips them from the child all the same.
    env = {**servers.settings, "HOME": str(tmp_path), **role}
    through = envsecrets(*args, env={**env, "ENVSECRETS_AGENT_SOCK": str(agent.socket)})
    alone = envsecrets(args[0], "--no-agent", *args[1:], env=env)
    assert (through.returncode, through.stdout, through.stderr) == (
        alone.returncode,
        alone.stdout,
        alone.stderr,
    )
    if case == "role":
        assert through.returncode == 0, through.stderr
        child = json.loads(through.stdout)
        assert child["PG_PASS"] == "pg-s3cr3t"
        assert child["PG_HOST"] == "db.example.internal"
        assert child["PG_PORT"] == "5432"
        assert not {"VAULT_APP_ROLE_SECRET_ID", "AWS_SECRET_ACCESS_KEY"} & set(child)
    if case in ("missing", "confined"):
        assert through.returncode == 1


def test_an_env_file_setting_a_provider_setting_is_refused_the_same(
    servers: Servers, agent: Agent, tmp_path: Path
) -> None:
    role = tmp_path / "role.env"
    role.write_text(
        "VAULT_ADDR=http://attacker.invalid\nPG_PASS=_vaultkv2:secret/database/pg:password\n"
    )
    env = {**servers.settings, "HOME": str(tmp_path)}
    args = ("run", "-e", str(role), "--", *PRINT_ENV)
    through = envsecrets(*args, env={**env, "ENVSECRETS_AGENT_SOCK": str(agent.socket)})
    alone = envsecrets("run", "--no-agent", *args[1:], env=env)
    assert through.returncode == alone.returncode == 2
    assert through.stderr == alone.stderr
    assert "sets VAULT_ADDR, a provider setting" in through.stderr


def test_the_client_settings_never_steer_the_agent(
    servers: Servers, agent: Agent, tmp_path: Path
) -> None:
    env = {
        "HOME": str(tmp_path),
        "VAULT_ADDR": "http://127.0.0.1:9",  # nothing there: the agent's own address serves
        "PG_PASS": "_vaultkv2:secret/database/pg:password",
        "ENVSECRETS_AGENT_SOCK": str(agent.socket),
    }
    done = envsecrets("run", "--", *PRINT_ENV, env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["PG_PASS"] == "pg-s3cr3t"


def test_a_fleet_of_runs_logs_in_once(servers: Servers, tmp_path: Path) -> None:
    before = servers.logins()
    with Agent(tmp_path / "fleet.sock", {**servers.settings, "HOME": str(tmp_path)}) as agent:
        env = {"HOME": str(tmp_path), **ROLE, "ENVSECRETS_AGENT_SOCK": str(agent.socket)}
        for _ in range(FLEET):
            done = envsecrets("run", "--", *PRINT_ENV, env=env)
            assert done.returncode == 0, done.stderr
            assert json.loads(done.stdout)["PG_PASS"] == "pg-s3cr3t"
    assert servers.logins() - before == 1


READ = ("read", "secret/data/database/pg")


@pytest.mark.parametrize(("options", "reads"), [((), 3), (("--cache-ttl", "300"), 1)])
def test_values_are_fetched_per_session_unless_cached(
    servers: Servers, tmp_path: Path, options: tuple[str, ...], reads: int
) -> None:
    def count() -> int:
        return sum(1 for seen in audit_operations(servers.audit) if seen == READ)

    before = count()
    with Agent(tmp_path / "c.sock", {**servers.settings, "HOME": str(tmp_path)}, *options) as agent:
        env = {"HOME": str(tmp_path), **ROLE, "ENVSECRETS_AGENT_SOCK": str(agent.socket)}
        for _ in range(3):
            done = envsecrets("run", "--", *PRINT_ENV, env=env)
            assert done.returncode == 0, done.stderr
            assert json.loads(done.stdout)["PG_PORT"] == "5432"  # _envjson: never cached
    assert count() - before == reads


def test_the_clients_deadline_bounds_its_request(tmp_path: Path) -> None:
    # A Vault that accepts connections and never answers.
    import socket as sockets
    import time

    with sockets.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        settings = {"VAULT_ADDR": f"http://127.0.0.1:{silent.getsockname()[1]}"}
        settings["VAULT_TOKEN"] = "t"
        env = {"HOME": str(tmp_path), **settings, "P": "_vaultkv2:secret/app:password"}
        with Agent(tmp_path / "d.sock", {**settings, "HOME": str(tmp_path)}) as agent:
            started = time.monotonic()
            through = envsecrets(
                "run", "--timeout", "1", "--", *PRINT_ENV, env={**env, **_via_socket(agent)}
            )
            elapsed = time.monotonic() - started
        alone = envsecrets("run", "--no-agent", "--timeout", "1", "--", *PRINT_ENV, env=env)
    assert through.returncode == alone.returncode == 1
    assert through.stderr == alone.stderr
    assert "before the deadline" in through.stderr
    assert elapsed < 10  # the request's own deadline, not the agent's default (30 s)


def _via_socket(agent: Agent) -> dict[str, str]:
    return {"ENVSECRETS_AGENT_SOCK": str(agent.socket)}
