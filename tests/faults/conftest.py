"""Fixtures of the fault-injection suite: one moto server and one OpenBao dev
server for the session, seeded with sentinel secrets, and fault proxies in
front of them.

Every secret value here contains :data:`tests.conftest.SENTINEL`, so a test
can assert that no value leaked by searching for that one string.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SENTINEL
from testservers.moto import moto_environ, moto_server, secretsmanager
from testservers.openbao import OpenBao
from testservers.proxy import Proxy as FaultProxy

#: Secrets of every backend: (reference, expected value).
AWS_SECRETS = {
    "AWS_PASS": ("_aws:faults/app:password", SENTINEL + "-aws-app"),
    "AWS_DB": ("_aws:faults/db:password", SENTINEL + "-aws-db"),
}
VAULT_SECRETS = {
    "VAULT_PASS": ("_vaultkv2:secret/faults/app:password", SENTINEL + "-vault-app"),
    "VAULT_DB": ("_vaultkv1:kv1/faults/db:password", SENTINEL + "-vault-db"),
}
ENVJSON_CONFIG = '{"password": "' + SENTINEL + '-envjson", "port": 5432}'

READER_POLICY = 'path "*" { capabilities = ["read"] }'


@dataclass
class Servers:
    moto_url: str
    bao: OpenBao
    approle: dict[str, tuple[str, str]] = field(repr=False, default_factory=dict)


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    with moto_server() as url, OpenBao() as bao:
        sm = secretsmanager(url)
        sm.create_secret(
            Name="faults/app", SecretString=json.dumps({"password": f"{SENTINEL}-aws-app"})
        )
        sm.create_secret(
            Name="faults/db", SecretString=json.dumps({"password": f"{SENTINEL}-aws-db"})
        )
        bao.enable_kv("kv1", version=1)
        bao.kv_put("secret", "faults/app", {"password": SENTINEL + "-vault-app"})
        bao.kv_put("kv1", "faults/db", {"password": SENTINEL + "-vault-db"}, version=1)
        bao.put_policy("reader", READER_POLICY)
        seeded = Servers(url, bao)
        for role in ("service", "batch"):
            seeded.approle[role] = bao.approle(
                f"faults-{role}", token_type=role, token_policies=["reader"]
            )
        yield seeded


@pytest.fixture
def fault_proxy() -> Iterator[Callable[..., FaultProxy]]:
    """Start fault proxies (of *kind*) in front of an upstream URL; stop them after the test."""
    made: list[FaultProxy] = []

    def make(upstream: str, kind: type[FaultProxy] = FaultProxy) -> FaultProxy:
        proxy = kind(upstream).start()
        made.append(proxy)
        return proxy

    yield make
    for proxy in made:
        proxy.stop()


def aws_environ(url: str, tmp: Path, **extra: str) -> dict[str, str]:
    empty = tmp / "aws-empty"
    empty.write_text("")
    return moto_environ(
        url, AWS_CONFIG_FILE=str(empty), AWS_SHARED_CREDENTIALS_FILE=str(empty), **extra
    )


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str
    elapsed: float


def run_cli(
    *args: str, env: dict[str, str], cwd: Path, timeout: float = 60, **popen: Any
) -> CliResult:
    """Run ``python -m envsecrets ARGS`` with exactly *env* (plus PATH); time it."""
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        # Only the first-party plugins: a stray third-party one must not matter.
        "ENVSECRETS_DISABLE_PLUGINS": "file",
        "PYTHONDONTWRITEBYTECODE": "1",
        **env,
    }
    started = time.monotonic()
    completed = subprocess.run(
        [sys.executable, "-m", "envsecrets", *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=cwd,
        timeout=timeout,
        **popen,
    )
    return CliResult(
        completed.returncode, completed.stdout, completed.stderr, time.monotonic() - started
    )


def marker_command(marker: Path) -> list[str]:
    """A child that records that it started, and prints its argv and env keys."""
    code = (
        "import json, os, pathlib, sys; "
        "pathlib.Path(sys.argv[1]).write_text('started'); "
        "print(json.dumps({'argv': sys.argv, "
        "'cmdline': open('/proc/self/cmdline', 'rb').read().decode('utf-8', 'replace'), "
        "'env': dict(os.environ)}))"
    )
    return [sys.executable, "-c", code, str(marker)]
