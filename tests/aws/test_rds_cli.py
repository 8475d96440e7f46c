"""``envsecrets run`` with a role written by the original web app's AWS IAM
Role flow: the child receives the DB user and a token whose signature
verifies; nothing of the token or the credentials is printed at -vv."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.aws.sigv4 import assert_fresh, signature_of, verify

HOST = "pg-prod.c9akciq32.eu-west-3.rds.amazonaws.com"
#: The child prints what it received, as JSON on stdout.
CHILD = "import json, os; print(json.dumps({k: os.environ.get(k) for k in ('USER', 'PASS')}))"


@pytest.fixture
def role_file(tmp_path: Path) -> Path:
    """The role as the original web app saves it for a PostgreSQL resource."""
    path = tmp_path / "pg-prod.env"
    path.write_text(f"HOST={HOST}\nPORT=5432\nUSER=_aws_iam_rds:app\nPASS=_aws_iam_rds:authtoken\n")
    return path


@pytest.fixture
def agent(environ: dict[str, str]) -> dict[str, str]:
    token = uuid.uuid4().hex
    return {
        **environ,
        "AWS_ACCESS_KEY_ID": f"AKIARDSCLI{token[:10].upper()}",
        "AWS_SECRET_ACCESS_KEY": f"rds-cli-secret-key-{token}",
        "AWS_SESSION_TOKEN": f"rds-cli-session-token-{token}",
    }


def test_run_gives_the_child_the_user_and_a_token_that_verifies(
    run_cli: Any, role_file: Path, agent: dict[str, str]
) -> None:
    done = run_cli(["run", "-e", str(role_file), "--", sys.executable, "-c", CHILD], agent)
    assert done.returncode == 0, done.stderr
    received = json.loads(done.stdout)
    assert received["USER"] == "app"
    token = verify(received["PASS"], agent["AWS_SECRET_ACCESS_KEY"])
    assert (token.host, token.port, token.user, token.region) == (HOST, 5432, "app", "eu-west-3")
    assert token.security_token == agent["AWS_SESSION_TOKEN"]
    assert_fresh(token)


def test_at_vv_nothing_of_the_token_or_the_credentials_is_printed(
    run_cli: Any, role_file: Path, agent: dict[str, str]
) -> None:
    done = run_cli(["-vv", "run", "-e", str(role_file), "--", sys.executable, "-c", CHILD], agent)
    assert done.returncode == 0, done.stderr
    token = json.loads(done.stdout)["PASS"]
    assert "Signature:" in done.stderr  # botocore's signing was logged, redacted
    assert "DBUser=" not in done.stderr  # the canonical request: HOST and USER
    for secret in (
        signature_of(token),
        agent["AWS_SECRET_ACCESS_KEY"],
        agent["AWS_SESSION_TOKEN"],
        agent["AWS_ACCESS_KEY_ID"],
    ):
        assert secret not in done.stderr


def test_a_role_without_host_fails_naming_it_and_starts_nothing(
    run_cli: Any, tmp_path: Path, agent: dict[str, str]
) -> None:
    path = tmp_path / "broken.env"
    path.write_text("PORT=5432\nUSER=_aws_iam_rds:app\nPASS=_aws_iam_rds:authtoken\n")
    done = run_cli(["run", "-e", str(path), "--", sys.executable, "-c", "print('started')"], agent)
    assert done.returncode == 1
    assert "started" not in done.stdout
    assert (
        "PASS=_aws_iam_rds:authtoken: needs HOST, PORT and USER of the same variables; "
        "HOST is not set" in done.stderr
    )


def test_providers_lists_aws_iam_rds(run_cli: Any, agent: dict[str, str]) -> None:
    done = run_cli(["providers"], agent)
    assert done.returncode == 0, done.stderr
    [line] = [line for line in done.stdout.splitlines() if "_aws_iam_rds" in line]
    assert "envsecrets-aws" in line
    assert "RDS IAM" in line
