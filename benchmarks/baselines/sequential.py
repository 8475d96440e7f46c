"""A model of the original agent, written to its published algorithm.

Variables are resolved one after another. Each distinct secret is fetched
once per session (a per-session cache), with boto3 ``GetSecretValue`` for
``_aws``, hvac for ``_vaultkv2`` and its own environment for ``_envjson``;
with AppRole, the agent logs in before every read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

_REFERENCE = re.compile(r"^_([a-z][a-z0-9]*):(.+)$")


class SequentialAgent:
    """One session of the original agent: ``SequentialAgent(environ).resolve(env)``."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        self._aws: Any = None
        self._vault: Any = None

    def resolve(self, env: Mapping[str, str]) -> dict[str, str]:
        cache: dict[tuple[str, str], Mapping[str, Any]] = {}
        result: dict[str, str] = {}
        for variable, value in env.items():  # one after another
            match = _REFERENCE.match(value)
            if match is None:
                result[variable] = value
                continue
            prefix, rest = match.groups()
            name, _, key = rest.rpartition(":")
            document = cache.get((prefix, name))
            if document is None:
                document = cache[(prefix, name)] = self._fetch(prefix, name)
            result[variable] = str(document[key])
        return result

    def _fetch(self, prefix: str, name: str) -> Mapping[str, Any]:
        if prefix == "aws":
            return self._fetch_aws(name)
        if prefix == "vaultkv2":
            return self._fetch_vault(name)
        if prefix == "envjson":  # the JSON object in one of its own variables
            document: Mapping[str, Any] = json.loads(self.environ[name])
            return document
        raise ValueError(f"the model serves _aws, _vaultkv2 and _envjson, not _{prefix}")

    def _fetch_aws(self, name: str) -> Mapping[str, Any]:
        if self._aws is None:
            import boto3

            self._aws = boto3.client(
                "secretsmanager",
                endpoint_url=self.environ["AWS_ENDPOINT_URL"],
                region_name=self.environ["AWS_REGION"],
                aws_access_key_id=self.environ["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=self.environ["AWS_SECRET_ACCESS_KEY"],
            )
        answer = self._aws.get_secret_value(SecretId=name)
        document: Mapping[str, Any] = json.loads(answer["SecretString"])
        return document

    def _fetch_vault(self, name: str) -> Mapping[str, Any]:
        if self._vault is None:
            import hvac

            self._vault = hvac.Client(
                url=self.environ["VAULT_ADDR"], token=self.environ.get("VAULT_TOKEN", "")
            )
        role_id = self.environ.get("VAULT_APP_ROLE_ID")
        if role_id:  # the original logs in before every read
            self._vault.auth.approle.login(
                role_id=role_id, secret_id=self.environ["VAULT_APP_ROLE_SECRET_ID"]
            )
        answer = self._vault.read(name)  # NAME is the API path: secret/data/app
        document: Mapping[str, Any] = answer["data"]["data"]
        return document

    def close(self) -> None:
        if self._aws is not None:
            self._aws.close()
        if self._vault is not None:
            self._vault.adapter.close()


def resolve(env: Mapping[str, str], environ: Mapping[str, str]) -> dict[str, str]:
    """Resolve *env* in one session of the model."""
    agent = SequentialAgent(environ)
    try:
        return agent.resolve(env)
    finally:
        agent.close()
