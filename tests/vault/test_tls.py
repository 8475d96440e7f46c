"""HTTPS: every VAULT_CACERT form, VAULT_CAPATH, the system trust store
(SSL_CERT_FILE/SSL_CERT_DIR), SAN-only host matching, client certificates
(mTLS), VAULT_SKIP_VERIFY, http:// to an HTTPS listener."""

from __future__ import annotations

import base64
import shutil
from pathlib import Path

import certifi
import pytest

import envsecrets
from tests.vault.conftest import Certs, TLSBao, assert_clean, failure_of, resolver
from testservers.openbao import OpenBao, token_env

REFERENCE = "_vaultkv2:tls:password"


def _forms(ca_path: str) -> dict[str, str]:
    pem = Path(ca_path).read_text()
    encoded = base64.b64encode(pem.encode()).decode()
    return {
        "path": ca_path,
        "file": f"file://{ca_path}",
        "base64-scheme": f"base64://{encoded}",
        "bare-base64": encoded,
        "inline-pem": pem,
    }


@pytest.mark.parametrize("form", ["path", "file", "base64-scheme", "bare-base64", "inline-pem"])
def test_cacert_forms(bao_tls: OpenBao, form: str) -> None:
    assert bao_tls.ca_path is not None
    env = token_env(bao_tls.address, VAULT_CACERT=_forms(bao_tls.ca_path)[form])
    with resolver(env) as instance:
        assert instance.get(REFERENCE) == "tls-pass"


@pytest.mark.parametrize("cacert", ["wrong-ca", "system"])
def test_wrong_ca_is_a_tls_failure(
    bao_tls: OpenBao, cacert: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    env = token_env(bao_tls.address, "s.SENTINEL-7d1f3c9a-never-print-me")
    if cacert == "wrong-ca":
        env["VAULT_CACERT"] = certifi.where()  # real CAs, none of which signed the dev cert
    failure = failure_of(env, REFERENCE)
    message = str(failure.error)
    assert "TLS failure: certificate verify failed" in message
    assert "GET /v1/secret/data/tls" in message
    assert bao_tls.address in message
    assert_clean(message, repr(failure.error), caplog.text)


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
@pytest.mark.parametrize("value", ["true", "1", "yes"])
def test_skip_verify(bao_tls: OpenBao, value: str, caplog: pytest.LogCaptureFixture) -> None:
    env = token_env(bao_tls.address, VAULT_SKIP_VERIFY=value)
    with resolver(env) as instance:
        assert instance.get(REFERENCE) == "tls-pass"
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert any("VAULT_SKIP_VERIFY" in r.getMessage() for r in warnings)


def test_plain_http_client_against_tls_server_says_so(bao_tls: OpenBao) -> None:
    address = bao_tls.address.replace("https://", "http://")
    failure = failure_of(token_env(address), REFERENCE)
    assert isinstance(failure.error, envsecrets.ProviderError)
    message = str(failure.error)
    assert "the server speaks HTTPS: the address uses http://" in message
    assert address in message


def test_ssl_cert_file_is_the_trust_store_when_no_ca_is_given(bao_tls: OpenBao) -> None:
    # A corporate CA installed for the whole machine: trusted as the system
    # store is, where certifi's bundle alone would refuse it.
    env = token_env(bao_tls.address, SSL_CERT_FILE=str(bao_tls.ca_path))
    with resolver(env) as instance:
        assert instance.get(REFERENCE) == "tls-pass"


def test_ssl_cert_dir(bao_tls: OpenBao, certs: Certs, tmp_path: Path) -> None:
    assert bao_tls.ca_path is not None
    shutil.copy(bao_tls.ca_path, tmp_path / "dev-ca.pem")
    certs.factory.rehash(tmp_path)
    with resolver(token_env(bao_tls.address, SSL_CERT_DIR=str(tmp_path))) as instance:
        assert instance.get(REFERENCE) == "tls-pass"


def test_capath(bao_tls: OpenBao, certs: Certs, tmp_path: Path) -> None:
    assert bao_tls.ca_path is not None
    shutil.copy(bao_tls.ca_path, tmp_path / "dev-ca.pem")
    certs.factory.rehash(tmp_path)
    with resolver(token_env(bao_tls.address, VAULT_CAPATH=str(tmp_path))) as instance:
        assert instance.get(REFERENCE) == "tls-pass"
    # The same directory without the dev CA: refused.
    empty = tmp_path / "empty"
    empty.mkdir()
    failure = failure_of(token_env(bao_tls.address, VAULT_CAPATH=str(empty)), REFERENCE)
    assert "certificate verify failed" in str(failure.error)


def test_capath_loads_every_file_whatever_its_name(bao_tls: OpenBao, tmp_path: Path) -> None:
    # As Vault's client: no `openssl rehash`, a directory holding ca.pem only is enough.
    assert bao_tls.ca_path is not None
    shutil.copy(bao_tls.ca_path, tmp_path / "ca.pem")
    nested = tmp_path / "more"
    nested.mkdir()
    shutil.copy(certifi.where(), nested / "bundle.crt")
    with resolver(token_env(bao_tls.address, VAULT_CAPATH=str(tmp_path))) as instance:
        assert instance.get(REFERENCE) == "tls-pass"


def test_capath_with_a_file_that_is_not_pem_says_so(bao_tls: OpenBao, tmp_path: Path) -> None:
    (tmp_path / "README").write_text("not a certificate\n")
    failure = failure_of(token_env(bao_tls.address, VAULT_CAPATH=str(tmp_path)), REFERENCE)
    assert "VAULT_CAPATH" in str(failure.error)
    assert "cannot be loaded" in str(failure.error)


def test_certificate_naming_its_host_in_the_cn_only_is_refused(
    bao_listeners: TLSBao, certs: Certs
) -> None:
    env = token_env(bao_listeners.cn_only, VAULT_CACERT=str(certs.ca.cert))
    failure = failure_of(env, REFERENCE)
    message = str(failure.error)
    assert "subject alternative name" in message
    assert bao_listeners.cn_only in message


def test_client_certificate(bao_listeners: TLSBao, certs: Certs) -> None:
    env = token_env(
        bao_listeners.mtls,
        VAULT_CACERT=str(certs.ca.cert),
        VAULT_CLIENT_CERT=str(certs.client.cert),
        VAULT_CLIENT_KEY=str(certs.client.key),
    )
    with resolver(env) as instance:
        assert instance.get(REFERENCE) == "tls-pass"
    # The certificate and its key in one file, as the Vault CLI allows.
    env.pop("VAULT_CLIENT_KEY")
    env["VAULT_CLIENT_CERT"] = str(certs.client_combined)
    with resolver(env) as instance:
        assert instance.get(REFERENCE) == "tls-pass"


def test_listener_requiring_a_client_certificate_refuses_none(
    bao_listeners: TLSBao, certs: Certs
) -> None:
    env = token_env(bao_listeners.mtls, VAULT_CACERT=str(certs.ca.cert))
    failure = failure_of(env, REFERENCE)
    assert isinstance(failure.error, envsecrets.ProviderError)
    assert "TLS failure: the TLS handshake failed" in str(failure.error)
    assert bao_listeners.mtls in str(failure.error)
    assert "GET /v1/secret/data/tls" in str(failure.error)
