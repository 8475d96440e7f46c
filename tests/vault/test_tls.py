"""HTTPS: every VAULT_CACERT form, a wrong CA, VAULT_SKIP_VERIFY."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import certifi
import pytest

import envsecrets
from tests.support.openbao import OpenBao, token_env
from tests.vault.conftest import assert_clean, failure_of, resolver

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
        ca_file = instance.provider("vaultkv2").client().ca_file  # type: ignore[attr-defined]
        if form in ("path", "file"):
            assert ca_file is None  # used in place
        else:
            assert ca_file is not None
            assert stat.S_IMODE(os.stat(ca_file).st_mode) == 0o600
    if ca_file is not None:
        assert not os.path.exists(ca_file)  # removed on close


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


def test_plain_http_client_against_tls_server_fails_cleanly(bao_tls: OpenBao) -> None:
    address = bao_tls.address.replace("https://", "http://")
    failure = failure_of(token_env(address), REFERENCE)
    assert isinstance(failure.error, envsecrets.ProviderError)
    assert address in str(failure.error)
