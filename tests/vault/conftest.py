"""Fixtures of the Vault provider suite: real OpenBao dev servers, seeded once.

``bao`` is a plain-HTTP server for the whole session, ``bao_tls`` a second
one with ``-dev-tls``. ``seed`` holds what was written (AppRole credentials,
a restricted token...). ``proxy`` puts a counting :class:`Proxy` in front of
``bao``. ``bao_auth`` is a server with the ``jwt``, ``kubernetes`` and ``cert``
auth methods, a client-certificate listener and a file audit device.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import envsecrets
import envsecrets_vault
from tests.conftest import SENTINEL
from tests.vault.kubernetes_api import KubernetesAPI
from testservers.certs import CertFactory, JWTSigner, KeyPair
from testservers.faults import Seen
from testservers.openbao import OpenBao, audit_config, audit_entries
from testservers.ports import free_port_pair
from testservers.proxy import Proxy as LoopbackProxy

#: Values that must never leak (secret values stored next to failing paths).
DENIED_VALUE = SENTINEL + "-vault-denied"
DELETED_VALUE = SENTINEL + "-vault-deleted"
DESTROYED_VALUE = SENTINEL + "-vault-destroyed"
MANY = 30

READER_POLICY = """
path "*" { capabilities = ["read"] }
path "secret/data/denied" { capabilities = ["deny"] }
"""


#: The mount lookup the plugin sends before its first read or listing of each mount.
LOOKUP = "/v1/sys/internal/ui/mounts/"


def is_lookup(request: Seen) -> bool:
    return LOOKUP in request.path  # absolute-form paths included


class Proxy(LoopbackProxy):
    """The counting proxy, whose counts leave out the mount lookups (:meth:`lookups` counts
    them): the tests of reads, logins and retries count those."""

    def count(self, predicate: Callable[[Seen], bool] | None = None) -> int:
        return super().count(lambda r: not is_lookup(r) and (predicate is None or predicate(r)))

    def operations(self) -> dict[str, int]:
        return {op: n for op, n in super().operations().items() if LOOKUP not in op}

    def lookups(self) -> list[str]:
        """The paths looked up, in order."""
        return [r.path.partition(LOOKUP)[2] for r in self.requests if is_lookup(r)]

    def sent(self) -> list[Seen]:
        """The requests seen but the lookups."""
        return [r for r in self.requests if not is_lookup(r)]


@dataclass
class Seed:
    """What the session server holds, for tests to refer to."""

    reader_token: str = field(repr=False, default="")
    approle: dict[str, tuple[str, str]] = field(repr=False, default_factory=dict)


@pytest.fixture(scope="session")
def bao() -> Iterator[OpenBao]:
    with OpenBao() as server:
        yield server


@pytest.fixture(scope="session")
def seed(bao: OpenBao) -> Seed:
    bao.enable_kv("kv1", version=1)
    bao.enable_kv("kv", version=2)
    bao.enable_kv("custom-mount", version=2)
    bao.enable_kv("team/kv", version=2)

    bao.kv_put("kv1", "legacy", {"token": "kv1-token", "port": 6379}, version=1)
    bao.kv_put("kv1", "team/app", {"user": "kv1-user"}, version=1)
    for number in (1, 2, 3):
        bao.kv_put("secret", "app", {"password": f"app-v{number}", "version": number})
    bao.kv_put(
        "secret",
        "typed",
        {
            "port": 5432,
            "ratio": 1.5,
            "enabled": True,
            "off": False,
            "nothing": None,
            "nested": {"a": [1, 2], "b": {"c": "d"}},
            "text": "plain",
        },
    )
    bao.kv_put("secret", "denied", {"password": DENIED_VALUE})
    bao.kv_put("kv", "app/db", {"user": "kv-user", "password": "kv-pass"})
    bao.kv_put("custom-mount", "app/db", {"password": "custom-pass"})
    bao.kv_put("team/kv", "app", {"password": "team-pass"})
    for number in range(MANY):
        bao.kv_put("secret", f"many/s{number}", {"value": f"many-{number}"})

    bao.kv_put("secret", "history", {"password": DELETED_VALUE})  # v1: deleted
    bao.kv_put("secret", "history", {"password": DESTROYED_VALUE})  # v2: destroyed
    bao.kv_put("secret", "history", {"password": "history-v3"})
    bao.kv_delete_versions("secret", "history", [1])
    bao.kv_destroy_versions("secret", "history", [2])

    bao.create_namespace("ns1")
    bao.enable_kv("secret", version=2, namespace="ns1")
    bao.kv_put("secret", "app", {"password": "ns1-pass"}, namespace="ns1")

    bao.put_policy("reader", READER_POLICY)
    seed = Seed(reader_token=bao.create_token(policies=["reader"]))
    seed.approle["batch"] = bao.approle("batch", token_type="batch", token_policies=["reader"])
    seed.approle["service"] = bao.approle(
        "service", token_type="service", token_policies=["reader"]
    )
    seed.approle["short"] = bao.approle(
        "short",
        token_type="service",
        token_policies=["reader"],
        token_ttl="2s",
        token_max_ttl="2s",
    )
    return seed


@pytest.fixture(scope="session")
def bao_tls() -> Iterator[OpenBao]:
    with OpenBao(tls=True) as server:
        server.kv_put("secret", "tls", {"password": "tls-pass"})
        yield server


@dataclass(frozen=True)
class Certs:
    """A test CA and what it signed (see testservers.certs)."""

    factory: CertFactory
    ca: KeyPair
    server: KeyPair  # SAN: 127.0.0.1, localhost
    cn_only: KeyPair  # CN 127.0.0.1, no SAN
    client: KeyPair

    @property
    def client_combined(self) -> Path:
        """The client certificate and its key in one PEM file."""
        path = self.factory.directory / "client-combined.pem"
        if not path.exists():
            path.write_text(self.client.cert.read_text() + self.client.key.read_text())
        return path


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    factory = CertFactory(tmp_path_factory.mktemp("certs"))
    ca = factory.ca()
    return Certs(
        factory,
        ca,
        factory.issue(ca, "server"),
        factory.issue(ca, "cn-only", san=None),
        factory.issue(ca, "client", client=True),
    )


@dataclass(frozen=True)
class TLSBao:
    """An OpenBao dev server with two more HTTPS listeners, certificates by *certs*."""

    server: OpenBao
    mtls: str  # https address requiring a client certificate
    cn_only: str  # https address whose certificate names its host in the CN only


@pytest.fixture(scope="session")
def bao_listeners(certs: Certs) -> Iterator[TLSBao]:
    mtls_port, cn_port = free_port_pair(), free_port_pair()
    config = f"""
listener "tcp" {{
  address = "127.0.0.1:{mtls_port}"
  tls_cert_file = "{certs.server.cert}"
  tls_key_file = "{certs.server.key}"
  tls_client_ca_file = "{certs.ca.cert}"
  tls_require_and_verify_client_cert = true
}}
listener "tcp" {{
  address = "127.0.0.1:{cn_port}"
  tls_cert_file = "{certs.cn_only.cert}"
  tls_key_file = "{certs.cn_only.key}"
}}
"""
    with OpenBao(config=config) as server:
        server.kv_put("secret", "tls", {"password": "tls-pass"})
        yield TLSBao(server, f"https://127.0.0.1:{mtls_port}", f"https://127.0.0.1:{cn_port}")


#: Secrets of the auth server: AUTH_PATHS under secret/svc/, one KV v1 secret.
AUTH_PATHS = 20
#: The login method -> its auth mount on ``bao_auth`` (kubernetes: a nested mount, named by
#: VAULT_AUTH_PATH).
AUTH_MOUNTS = {"jwt": "jwt", "kubernetes": "team/k8s", "cert": "cert"}
JWT_AUDIENCE = "envsecrets"
JWT_ISSUER = "https://issuer.test"


@dataclass
class AuthBao:
    """An OpenBao server whose logins are counted by its file audit device."""

    server: OpenBao
    audit_log: Path
    mtls: str  # https address requiring a client certificate
    signer: JWTSigner  # its public key is the jwt method's jwt_validation_pubkeys
    kubernetes: KubernetesAPI  # the TokenReview endpoint of the kubernetes method
    certs: Certs

    def jwt(self, *, ttl: int = 600, audience: str = JWT_AUDIENCE, **claims: object) -> str:
        now = int(time.time())
        return self.signer.sign({"sub": "agent", "aud": audience, "iss": JWT_ISSUER,
                                 "iat": now, "nbf": now, "exp": now + ttl,
                                 "jti": str(uuid.uuid4()), **claims})  # fmt: skip

    def env(self, method: str, token_file: Path | None = None, **extra: str) -> dict[str, str]:
        """The agent's environment to log in with *method* (``token_file``: the JWT's file)."""
        env = {"VAULT_AUTH_METHOD": method, "VAULT_AUTH_ROLE": "app"}
        if method == "cert":
            env.update(VAULT_ADDR=self.mtls, VAULT_CACERT=str(self.certs.ca.cert),
                       VAULT_CLIENT_CERT=str(self.certs.client.cert),
                       VAULT_CLIENT_KEY=str(self.certs.client.key))  # fmt: skip
        else:
            env["VAULT_ADDR"] = self.server.address
        if method == "kubernetes":
            env["VAULT_AUTH_PATH"] = AUTH_MOUNTS[method]
        if token_file is not None:
            env["VAULT_AUTH_JWT_FILE"] = str(token_file)
        return {**env, **extra}

    def login_entries(self, method: str) -> list[dict[str, Any]]:
        """The audit device's entries of the logins of *method* (successful or not)."""
        path = f"auth/{AUTH_MOUNTS[method]}/login"
        return [entry for entry in audit_entries(self.audit_log) if entry.get("path") == path]

    def logins(self, method: str) -> int:
        return len(self.login_entries(method))


@pytest.fixture(scope="session")
def bao_auth(certs: Certs, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthBao]:
    mtls_port = free_port_pair()
    audit_log = tmp_path_factory.mktemp("audit") / "audit.log"
    config = (
        audit_config(audit_log)
        + f"""
listener "tcp" {{
  address = "127.0.0.1:{mtls_port}"
  tls_cert_file = "{certs.server.cert}"
  tls_key_file = "{certs.server.key}"
  tls_client_ca_file = "{certs.ca.cert}"
  tls_require_and_verify_client_cert = true
}}
"""
    )
    signer = certs.factory.jwt_signer("issuer")
    with (
        KubernetesAPI(certs.factory.jwt_signer("kubernetes")) as kubernetes,
        OpenBao(config=config) as server,
    ):
        server.put_policy("reader", READER_POLICY)
        server.enable_kv("kv1", version=1)
        server.kv_put("kv1", "auth/app", {"user": "kv1-auth-user"}, version=1)
        for number in range(AUTH_PATHS):
            server.kv_put("secret", f"svc/s{number}", {"value": f"auth-{number}"})
        token = {"token_policies": ["reader"], "token_ttl": "1h"}
        short = {"token_policies": ["reader"], "token_ttl": "2s", "token_max_ttl": "2s"}
        server.enable_auth(
            "jwt", jwt_validation_pubkeys=[signer.public_pem], bound_issuer=JWT_ISSUER
        )
        for role, audience, options in [
            ("app", JWT_AUDIENCE, token),
            ("short", JWT_AUDIENCE, short),
            ("other", "another-audience", token),
        ]:
            server.api("POST", f"auth/jwt/role/{role}", {
                "role_type": "jwt", "user_claim": "sub", "bound_audiences": [audience], **options,
            })  # fmt: skip
        server.enable_auth(  # the CA goes unused: the stand-in speaks plain HTTP
            "kubernetes", AUTH_MOUNTS["kubernetes"], kubernetes_host=kubernetes.url,
            disable_local_ca_jwt=True, kubernetes_ca_cert=certs.ca.cert.read_text(),
        )  # fmt: skip
        for role, options in [("app", token), ("short", short)]:
            server.api("POST", f"auth/{AUTH_MOUNTS['kubernetes']}/role/{role}", {
                "bound_service_account_names": ["envsecrets"],
                "bound_service_account_namespaces": ["apps"], "audience": "vault", **options,
            })  # fmt: skip
        server.enable_auth("cert")
        server.api("POST", "auth/cert/certs/app", {
            "certificate": certs.ca.cert.read_text(), **token,
        })  # fmt: skip
        yield AuthBao(
            server, audit_log, f"https://127.0.0.1:{mtls_port}", signer, kubernetes, certs
        )


@pytest.fixture
def proxy(bao: OpenBao, seed: Seed) -> Iterator[Proxy]:
    with Proxy(bao.address) as loopback:
        yield loopback


def resolver(environ: Mapping[str, str], **options: object) -> envsecrets.Resolver:
    """A resolver with the Vault plugin only (no entry-point scan)."""
    return envsecrets.Resolver(
        environ,
        plugins=[envsecrets_vault],
        entry_points=False,
        **options,  # type: ignore[arg-type]
    )


def resolve(environ: Mapping[str, str], env: Mapping[str, str]) -> dict[str, str]:
    with resolver(environ) as instance:
        return instance.resolve(env)


def failure_of(environ: Mapping[str, str], reference: str) -> envsecrets.Failure:
    """Resolve one reference that must fail; return its failure."""
    with resolver(environ) as instance, pytest.raises(envsecrets.ResolutionError) as caught:
        instance.resolve({"VAR": reference})
    assert len(caught.value.failures) == 1
    failure = caught.value.failures[0]
    assert failure.variable == "VAR"
    return failure


def assert_clean(*texts: object, secrets: tuple[str, ...] = ()) -> None:
    """No sentinel and none of *secrets* (tokens, secret IDs) in any text."""
    for text in texts:
        shown = str(text)
        assert SENTINEL not in shown, f"a secret value leaked: {shown[:300]!r}"
        for secret in secrets:
            assert secret not in shown, f"a credential leaked: {shown[:300]!r}"


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog
