"""Two providers may declare the same settings and credentials: a
third-party ``_ssm`` and the first-party ``_aws`` both read ``AWS_*``."""

from __future__ import annotations

import envsecrets
from envsecrets import isolation

SHARED_SETTINGS = frozenset({"AWS_REGION", "AWS_ENDPOINT_URL*", "AWS_SESSION_TOKEN"})
SHARED_CREDENTIALS = frozenset({"AWS_SESSION_TOKEN"})


class _AwsLike(envsecrets.Provider):
    prefix = "awsx"
    description = "Reads AWS_REGION (a stand-in for _aws)."
    settings = SHARED_SETTINGS | {"AWS_PROFILE"}
    credentials = SHARED_CREDENTIALS | {"AWS_PROFILE"}

    def fetch(self, name: str) -> envsecrets.Document:
        return {"region": self.environ["AWS_REGION"], "name": name}


class _SsmLike(envsecrets.Provider):
    prefix = "ssmx"
    description = "Reads AWS_REGION too (a stand-in for a third-party _ssm)."
    settings = SHARED_SETTINGS
    credentials = SHARED_CREDENTIALS

    def fetch(self, name: str) -> envsecrets.Document:
        token = self.environ.get("AWS_SESSION_TOKEN", "")
        return {"region": self.environ["AWS_REGION"], "signed": str(bool(token))}


class _Aws:
    @envsecrets.hookimpl
    def envsecrets_providers(self) -> list[type[envsecrets.Provider]]:
        return [_AwsLike]


class _Ssm:
    @envsecrets.hookimpl
    def envsecrets_providers(self) -> list[type[envsecrets.Provider]]:
        return [_SsmLike]


ENVIRON = {
    "AWS_REGION": "eu-west-3",
    "AWS_SESSION_TOKEN": "tok-shared-8e2f41",
    "AWS_ENDPOINT_URL_SSM": "http://127.0.0.1:1",
}


def test_both_providers_load_and_read_the_same_settings() -> None:
    with envsecrets.Resolver(ENVIRON, plugins=[_Aws(), _Ssm()], entry_points=False) as resolver:
        assert not resolver.registry.failures
        assert not resolver.registry.conflicts
        env = {"A": "_awsx:app:region", "S": "_ssmx:/app/db:region", "T": "_ssmx:/x:signed"}
        assert resolver.resolve(env) == {"A": "eu-west-3", "S": "eu-west-3", "T": "True"}


def test_the_rules_apply_to_the_union_of_the_declarations() -> None:
    with envsecrets.Resolver(ENVIRON, plugins=[_Aws(), _Ssm()], entry_points=False) as resolver:
        registry = resolver.registry
        assert registry.settings() == SHARED_SETTINGS | {"AWS_PROFILE"}
        assert registry.credentials() == SHARED_CREDENTIALS | {"AWS_PROFILE"}
        # run keeps every declared credential from its command, once
        child = isolation.without_credentials({**ENVIRON, "PATH": "/bin"}, registry.credentials())
        assert "AWS_SESSION_TOKEN" not in child
        assert child["AWS_REGION"] == "eu-west-3"
        # an env file may set none of them
        files = [isolation.EnvFile("role.env", {"AWS_REGION": "us-east-1", "PG": "x"})]
        assert isolation.settings_in_files(files, registry.settings()) == [
            ("role.env", "AWS_REGION")
        ]


def test_only_the_prefix_must_be_unique() -> None:
    class _SsmAgain(_SsmLike):
        pass

    class _Again:
        @envsecrets.hookimpl
        def envsecrets_providers(self) -> list[type[envsecrets.Provider]]:
            return [_SsmAgain]

    resolver = envsecrets.Resolver(ENVIRON, plugins=[_Ssm(), _Again()], entry_points=False)
    with resolver:
        assert "ssmx" in resolver.registry.conflicts
