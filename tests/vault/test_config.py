"""VAULT_* parsing: durations, CA forms, token forms, required settings."""

from __future__ import annotations

import base64
import logging
from pathlib import Path

import pytest

from envsecrets_vault.config import (
    DEFAULT_TIMEOUT,
    VaultConfigError,
    load_ca,
    load_config,
    load_token,
    parse_duration,
)
from tests.conftest import SENTINEL

PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
ADDR = {"VAULT_ADDR": "http://127.0.0.1:8200"}


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("5s", 5.0),
        ("500ms", 0.5),
        ("1m", 60.0),
        ("1m30s", 90.0),
        ("7", 7.0),
        ("2.5", 2.5),
        ("1h", 3600.0),
        ("1.5s", 1.5),
        ("250us", 0.00025),
    ],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "5x", "s", "five", "nan", "inf", "5s junk"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_timeout_from_environment(caplog: pytest.LogCaptureFixture) -> None:
    env = {**ADDR, "VAULT_TOKEN": "t"}
    assert load_config(env).timeout == DEFAULT_TIMEOUT
    assert load_config({**env, "VAULT_HTTP_REQ_TIMEOUT": "500ms"}).timeout == 0.5
    with caplog.at_level(logging.WARNING):
        assert load_config({**env, "VAULT_HTTP_REQ_TIMEOUT": "soon"}).timeout == DEFAULT_TIMEOUT
    assert "VAULT_HTTP_REQ_TIMEOUT" in caplog.text


def test_vault_addr_is_required() -> None:
    with pytest.raises(VaultConfigError, match="VAULT_ADDR is not set"):
        load_config({"VAULT_TOKEN": SENTINEL})
    with pytest.raises(VaultConfigError, match="http:// or https://") as caught:
        load_config({"VAULT_ADDR": "127.0.0.1:8200", "VAULT_TOKEN": SENTINEL})
    assert SENTINEL not in str(caught.value)


@pytest.mark.parametrize(
    ("given", "missing"),
    [
        ("VAULT_APP_ROLE_ID", "VAULT_APP_ROLE_SECRET_ID"),
        ("VAULT_APP_ROLE_SECRET_ID", "VAULT_APP_ROLE_ID"),
    ],
)
def test_one_approle_variable_alone(given: str, missing: str) -> None:
    with pytest.raises(VaultConfigError) as caught:
        load_config({**ADDR, given: SENTINEL, "VAULT_TOKEN": "t"})
    assert f"{given} is set but {missing} is not" in str(caught.value)
    assert SENTINEL not in str(caught.value)


def test_credentials_are_required() -> None:
    with pytest.raises(VaultConfigError, match="no Vault credentials"):
        load_config(ADDR)


def test_approle_wins_and_secrets_stay_out_of_repr() -> None:
    config = load_config(
        {
            **ADDR,
            "VAULT_TOKEN": SENTINEL + "t",
            "VAULT_APP_ROLE_ID": SENTINEL,
            "VAULT_APP_ROLE_SECRET_ID": SENTINEL + "s",
        }
    )
    assert config.method == "approle"
    assert config.token is None
    assert SENTINEL not in repr(config)


def test_address_shown_without_credentials() -> None:
    config = load_config(
        {
            "VAULT_ADDR": f"https://me:{SENTINEL}@vault:8200/",
            "VAULT_TOKEN": "t",
            "VAULT_NAMESPACE": "team/",
        }
    )
    assert config.where == "https://vault:8200 (namespace team)"


def test_token_forms(tmp_path: Path) -> None:
    file = tmp_path / "token"
    file.write_text(SENTINEL + "\n")
    assert load_token(f"file://{file}") == SENTINEL
    encoded = base64.b64encode(SENTINEL.encode()).decode()
    assert load_token(f"base64://{encoded}") == SENTINEL
    assert load_token(SENTINEL) == SENTINEL
    assert load_token("  ") is None
    with pytest.raises(VaultConfigError, match="cannot be read"):
        load_token(f"file://{tmp_path / 'missing'}")
    with pytest.raises(VaultConfigError, match="not valid base64") as caught:
        load_token("base64://" + SENTINEL + "!!")
    assert SENTINEL not in str(caught.value)


def test_ca_forms(tmp_path: Path) -> None:
    file = tmp_path / "ca.pem"
    file.write_text(PEM)
    encoded = base64.b64encode(PEM.encode()).decode()
    assert load_ca("") is None
    assert load_ca(str(file)).path == str(file)  # type: ignore[union-attr]
    assert load_ca(f"file://{file}").path == str(file)  # type: ignore[union-attr]
    assert load_ca(f"base64://{encoded}").pem == PEM  # type: ignore[union-attr]
    assert load_ca(encoded).pem == PEM  # type: ignore[union-attr]
    assert load_ca(PEM).pem == PEM  # type: ignore[union-attr]
    one_line = PEM.replace("\n", "\\n")  # as a one-line env file holds it
    assert load_ca(one_line).pem == PEM  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("/no/such/ca.pem", "neither an existing file"),
        ("file:///no/such/ca.pem", "does not exist"),
        ("base64://aGVsbG8=", "base64 PEM"),
        ("aGVsbG8=", "neither an existing file"),
        ("not a certificate", "neither an existing file"),
    ],
)
def test_bad_ca(value: str, message: str) -> None:
    with pytest.raises(VaultConfigError, match=message):
        load_ca(value)


@pytest.mark.parametrize(
    ("value", "verify"),
    [("true", False), ("1", False), ("YES", False), ("false", True), ("0", True), ("", True)],
)
def test_skip_verify(value: str, verify: bool) -> None:
    assert load_config({**ADDR, "VAULT_TOKEN": "t", "VAULT_SKIP_VERIFY": value}).verify is verify


def test_bad_skip_verify() -> None:
    with pytest.raises(VaultConfigError, match="VAULT_SKIP_VERIFY"):
        load_config({**ADDR, "VAULT_TOKEN": "t", "VAULT_SKIP_VERIFY": "maybe"})


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, None),
        ({"HTTPS_PROXY": "http://proxy:3128"}, "http://proxy:3128"),
        ({"https_proxy": "http://low:3128", "HTTPS_PROXY": "http://up:3128"}, "http://low:3128"),
        ({"HTTP_PROXY": "http://proxy:3128"}, None),  # VAULT_ADDR is https
        ({"ALL_PROXY": "http://all:3128"}, "http://all:3128"),
        ({"HTTPS_PROXY": "proxy:3128"}, "http://proxy:3128"),  # as requests reads it
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "example.com"}, None),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": ".example.com"}, None),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "*.example.com"}, None),
        ({"HTTPS_PROXY": "http://p:1", "no_proxy": "other.org, *"}, None),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "ample.com"}, "http://p:1"),  # a boundary
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "vault.example.com:8200"}, None),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "vault.example.com:9999"}, "http://p:1"),
    ],
)
def test_proxy_comes_from_the_agent_environment(
    environ: dict[str, str], expected: str | None
) -> None:
    from envsecrets_vault.config import proxy_environ
    from envsecrets_vault.proxies import proxy_for

    assert proxy_for("https://vault.example.com:8200", proxy_environ(environ)) == expected


@pytest.mark.parametrize(
    ("address", "no_proxy", "bypassed"),
    [
        ("http://10.1.2.3:8200", "10.0.0.0/8", True),  # CIDR
        ("http://11.1.2.3:8200", "10.0.0.0/8", False),
        ("http://192.168.1.7:8200", "192.168.1.7", True),
        ("http://192.168.1.7:8200", "192.168.1.7:8200", True),
        ("http://192.168.1.7:8200", "192.168.1.7:443", False),
        ("http://[::1]:8200", "::1", True),  # IPv6 literal
        ("http://[::1]:8200", "[::1]:8200", True),
        ("http://[fd00::5]:8200", "fd00::/8", True),  # IPv6 CIDR
        ("http://[fe80::5]:8200", "fd00::/8", False),
        ("http://127.0.0.1:8200", "localhost", False),  # no name resolution
    ],
)
def test_no_proxy_semantics(address: str, no_proxy: str, bypassed: bool) -> None:
    from envsecrets_vault.proxies import proxy_for

    environ = {"http_proxy": "http://proxy:3128", "no_proxy": no_proxy}
    assert (proxy_for(address, environ) is None) is bypassed


def test_agent_address_wins_and_needs_no_token() -> None:
    config = load_config(
        {"VAULT_ADDR": "https://vault:8200", "VAULT_AGENT_ADDR": "http://127.0.0.1:8100"}
    )
    assert config.address == "http://127.0.0.1:8100"
    assert config.via_agent
    assert config.token is None
    assert config.method == "token"


@pytest.mark.parametrize("namespace", ["team\r\nX-Injected: 1", "team\nx", "a\x00b"])
def test_control_characters_in_namespace_are_refused(namespace: str) -> None:
    value = namespace.encode().decode("unicode_escape")
    with pytest.raises(VaultConfigError, match="VAULT_NAMESPACE holds a control character"):
        load_config({**ADDR, "VAULT_TOKEN": "t", "VAULT_NAMESPACE": value})


def test_header_values_that_are_not_latin1_are_refused_without_quoting_them() -> None:
    with pytest.raises(VaultConfigError, match="VAULT_TOKEN holds characters") as caught:
        load_config({**ADDR, "VAULT_TOKEN": SENTINEL + "токен"})
    assert SENTINEL not in str(caught.value)
    with pytest.raises(VaultConfigError, match="VAULT_NAMESPACE holds characters"):
        load_config({**ADDR, "VAULT_TOKEN": "t", "VAULT_NAMESPACE": "équipe🔑"})


def test_control_characters_in_token_are_refused_without_quoting_it() -> None:
    with pytest.raises(VaultConfigError, match="VAULT_TOKEN") as caught:
        load_config({**ADDR, "VAULT_TOKEN": SENTINEL + "\r\nX: y"})
    assert SENTINEL not in str(caught.value)


def test_capath_and_client_certificate(tmp_path: Path) -> None:
    cert = tmp_path / "client.pem"
    cert.write_text(PEM)
    key = tmp_path / "client-key.pem"
    key.write_text("key")
    config = load_config(
        {
            **ADDR,
            "VAULT_TOKEN": "t",
            "VAULT_CAPATH": str(tmp_path),
            "VAULT_CLIENT_CERT": str(cert),
            "VAULT_CLIENT_KEY": str(key),
        }
    )
    assert config.tls.ca is not None
    assert config.tls.ca.directory == str(tmp_path)
    assert config.tls.client is not None
    assert config.tls.client.cert_file == str(cert)
    assert str(key) not in repr(config)
    # VAULT_CACERT wins over VAULT_CAPATH, as in the Vault CLI.
    both = load_config({**ADDR, "VAULT_TOKEN": "t", "VAULT_CAPATH": str(tmp_path),
                        "VAULT_CACERT": str(cert)})  # fmt: skip
    assert both.tls.ca is not None
    assert both.tls.ca.path == str(cert)
    with pytest.raises(VaultConfigError, match="VAULT_CAPATH"):
        load_config({**ADDR, "VAULT_TOKEN": "t", "VAULT_CAPATH": str(tmp_path / "none")})
    with pytest.raises(VaultConfigError, match="VAULT_CLIENT_KEY is set but VAULT_CLIENT_CERT"):
        load_config({**ADDR, "VAULT_TOKEN": "t", "VAULT_CLIENT_KEY": str(key)})


@pytest.mark.parametrize(("value", "disabled"), [("true", True), ("", False), ("0", False)])
def test_disable_redirects(value: str, disabled: bool) -> None:
    environ = {**ADDR, "VAULT_TOKEN": "t", "VAULT_DISABLE_REDIRECTS": value}
    assert load_config(environ).disable_redirects is disabled


def test_importing_the_plugin_does_not_import_attrs() -> None:
    import subprocess
    import sys

    code = (
        "import sys, envsecrets, envsecrets_vault\n"
        "print('attr' in sys.modules or 'attrs' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


LOGIN = {**ADDR, "VAULT_AUTH_ROLE": "app"}


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"VAULT_AUTH_METHOD": "aws"}, "VAULT_AUTH_METHOD must be one of token, approle, jwt, "
         "kubernetes, cert"),
        ({"VAULT_AUTH_METHOD": "jwt", "VAULT_AUTH_ROLE": ""}, "VAULT_AUTH_METHOD=jwt needs "
         "VAULT_AUTH_ROLE"),
        ({"VAULT_AUTH_METHOD": "jwt"}, "VAULT_AUTH_METHOD=jwt needs VAULT_AUTH_JWT_FILE"),
        ({"VAULT_AUTH_METHOD": "kubernetes", "VAULT_AUTH_ROLE": " "}, "VAULT_AUTH_METHOD="
         "kubernetes needs VAULT_AUTH_ROLE"),
        ({"VAULT_AUTH_METHOD": "cert"}, "VAULT_AUTH_METHOD=cert needs VAULT_CLIENT_CERT"),
        ({"VAULT_AUTH_METHOD": "approle"}, "VAULT_AUTH_METHOD=approle needs VAULT_APP_ROLE_ID "
         "and VAULT_APP_ROLE_SECRET_ID"),
        ({"VAULT_AUTH_METHOD": "token"}, "no Vault credentials"),
        ({"VAULT_AUTH_METHOD": "kubernetes", "VAULT_AUTH_PATH": "k8s/../sys"}, "VAULT_AUTH_PATH "
         "must be an auth mount path"),
        ({"VAULT_AUTH_METHOD": "kubernetes", "VAULT_AUTH_PATH": "k8s?x=1"}, "VAULT_AUTH_PATH"),
    ],
)  # fmt: skip
def test_login_settings_errors(environ: dict[str, str], message: str) -> None:
    with pytest.raises(VaultConfigError, match=message):
        load_config({**LOGIN, **environ})


def test_the_method_is_case_blind_and_the_mount_defaults_to_its_name(tmp_path: Path) -> None:
    config = load_config({**LOGIN, "VAULT_AUTH_METHOD": " JWT ", "VAULT_AUTH_JWT_FILE": "/t"})
    assert (config.method, config.auth_mount, config.auth_role, config.jwt_file) == (
        "jwt", "jwt", "app", "/t",
    )  # fmt: skip
    assert config.logs_in
    config = load_config({**LOGIN, "VAULT_AUTH_METHOD": "kubernetes", "VAULT_AUTH_PATH": "/k8s/"})
    assert (config.auth_mount, config.jwt_file) == (
        "k8s", "/var/run/secrets/kubernetes.io/serviceaccount/token",
    )  # fmt: skip
    # The file is read at login, not now: a pod's token may appear after the agent starts.
    missing = str(tmp_path / "later")
    assert load_config({**LOGIN, "VAULT_AUTH_METHOD": "jwt", "VAULT_AUTH_JWT_FILE": missing})


def test_an_explicit_method_wins_over_the_other_credentials() -> None:
    both = {**ADDR, "VAULT_TOKEN": "t", "VAULT_APP_ROLE_ID": "r", "VAULT_APP_ROLE_SECRET_ID": "s"}
    config = load_config({**both, "VAULT_AUTH_METHOD": "token"})
    assert (config.method, config.token, config.role_id) == ("token", "t", None)
    config = load_config({**both, "VAULT_AUTH_METHOD": "kubernetes", "VAULT_AUTH_ROLE": "app"})
    assert (config.method, config.token, config.role_id, config.secret_id) == (
        "kubernetes", None, None, None,
    )  # fmt: skip
    assert load_config({**both, "VAULT_AUTH_PATH": "team/approle"}).auth_mount == "team/approle"


def test_cert_needs_a_verified_https_server(tmp_path: Path) -> None:
    cert = tmp_path / "client.pem"
    cert.write_text(PEM)
    environ = {"VAULT_AUTH_METHOD": "cert", "VAULT_CLIENT_CERT": str(cert)}
    with pytest.raises(VaultConfigError, match="cert needs an https:// address"):
        load_config({**ADDR, **environ})
    https = {"VAULT_ADDR": "https://vault:8200", **environ}
    with pytest.raises(VaultConfigError, match=r"whose certificate is verified \(no VAULT_SKIP"):
        load_config({**https, "VAULT_SKIP_VERIFY": "true"})
    config = load_config(https)
    assert (config.method, config.auth_mount, config.auth_role) == ("cert", "cert", None)


def test_the_login_settings_are_declared() -> None:
    from envsecrets_vault import VaultKV2Provider

    names = ("VAULT_AUTH_METHOD", "VAULT_AUTH_PATH", "VAULT_AUTH_ROLE", "VAULT_AUTH_JWT_FILE")
    assert set(names) <= VaultKV2Provider.settings
    # The JWT file points at the agent's identity: kept from the child, as VAULT_TOKEN.
    assert VaultKV2Provider.credentials & set(names) == {"VAULT_AUTH_JWT_FILE"}
