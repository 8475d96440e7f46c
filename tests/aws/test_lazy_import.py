"""The SDK (botocore) is imported on the first fetch of an _aws reference, never before:
checked in fresh interpreters, with a positive control."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, os, sys
import envsecrets

SDK = ("boto3", "botocore")
def loaded():
    return sorted(m for m in SDK if m in sys.modules)

environ = json.loads(os.environ["PROBE_ENVIRON"])
report = {}
with envsecrets.Resolver(environ) as resolver:  # entry points: as installed
    report["registered"] = "aws" in resolver.registry.providers
    report["plain"] = resolver.resolve({"A": "plain", "B": "_not_a_reference"})
    report["after_plain"] = loaded()
    checked = resolver.check({"S": "_aws:app/db:password", "T": "_aws:x"}, fetch=False)
    report["checked"] = [c.ok for c in checked]
    report["provider_built"] = repr(resolver.provider("aws"))
    report["after_check"] = loaded()
    report["value"] = resolver.get("_aws:" + os.environ["PROBE_SECRET"])
    report["after_fetch"] = loaded()
print(json.dumps(report))
"""


def run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **env},
        timeout=120,
        check=False,
    )


def test_importing_the_plugin_imports_no_sdk() -> None:
    done = run(
        "import envsecrets_aws, sys; "
        "assert 'boto3' not in sys.modules, 'boto3'; "
        "assert 'botocore' not in sys.modules, 'botocore'; "
        "print(envsecrets_aws.AWSProvider.prefix)"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "aws"


def test_sdk_imported_only_when_an_aws_secret_is_fetched(
    sm: Any, environ: dict[str, str], unique: Any
) -> None:
    name = unique("lazy")
    sm.create_secret(Name=name, SecretString="the-value")
    done = run(PROBE, PROBE_ENVIRON=json.dumps(environ), PROBE_SECRET=name)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["registered"] is True
    assert report["plain"] == {"A": "plain", "B": "_not_a_reference"}
    assert report["after_plain"] == []
    assert report["checked"] == [True, True]
    assert report["provider_built"] == "<AWSProvider prefix='aws'>"
    assert report["after_check"] == []
    assert report["value"] == "the-value"
    assert report["after_fetch"] == ["botocore"]  # the control: the probe can see it
