"""Test certificates made with the ``openssl`` command: a CA, server
certificates (with a SAN, or with a CN only), client certificates.

    from testservers.certs import CertFactory

    certs = CertFactory(tmp_path)
    ca = certs.ca()                                  # ca.cert, ca.key
    server = certs.issue(ca, "server", san=["IP:127.0.0.1", "DNS:localhost"])
    cn_only = certs.issue(ca, "cn-only", cn="127.0.0.1", san=None)
    client = certs.issue(ca, "client", client=True)

    signer = certs.jwt_signer("issuer")              # an RSA key pair for JWTs (RS256)
    signer.public_pem                                # for jwt_validation_pubkeys
    token = signer.sign({"sub": "agent", "aud": "envsecrets", "exp": ...})

Only the standard library and the ``openssl`` binary (present wherever
Python's ssl module is built) are used.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class KeyPair:
    """A certificate file and its private key file (PEM)."""

    cert: Path
    key: Path


@dataclass(frozen=True)
class JWTSigner:
    """Signs JWTs (RS256, RFC 7515 compact form) with an RSA key, through ``openssl dgst``."""

    key: Path
    public_pem: str
    openssl: str

    def sign(self, claims: Mapping[str, object], *, kid: str | None = None) -> str:
        header = {"alg": "RS256", "typ": "JWT", **({"kid": kid} if kid else {})}
        signed = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        signature = subprocess.run(
            [self.openssl, "dgst", "-sha256", "-sign", str(self.key)],
            input=signed.encode(), check=True, capture_output=True,
        ).stdout  # fmt: skip
        return f"{signed}.{_b64url(signature)}"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class CertFactory:
    """Writes keys and certificates under *directory*."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        binary = shutil.which("openssl")
        if binary is None:
            raise RuntimeError("the openssl command is not on PATH")
        self.openssl = binary

    def _run(self, *args: str) -> None:
        subprocess.run([self.openssl, *args], check=True, capture_output=True, cwd=self.directory)

    def ca(self, name: str = "ca") -> KeyPair:
        """A self-signed CA (basicConstraints CA:true)."""
        pair = KeyPair(self.directory / f"{name}.pem", self.directory / f"{name}-key.pem")
        self._run(
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", str(pair.key), "-out", str(pair.cert), "-days", "2",
            "-subj", f"/CN=envsecrets test {name}",
            "-addext", "basicConstraints=critical,CA:true",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        )  # fmt: skip
        return pair

    def issue(
        self,
        ca: KeyPair,
        name: str,
        *,
        cn: str = "127.0.0.1",
        san: list[str] | None = ("IP:127.0.0.1", "DNS:localhost"),  # type: ignore[assignment]
        client: bool = False,
    ) -> KeyPair:
        """A certificate signed by *ca*; ``san=None`` leaves the SAN out (CN only)."""
        pair = KeyPair(self.directory / f"{name}.pem", self.directory / f"{name}-key.pem")
        request = self.directory / f"{name}.csr"
        extensions = self.directory / f"{name}.ext"
        lines = [
            "basicConstraints=CA:false",
            f"extendedKeyUsage={'clientAuth' if client else 'serverAuth'}",
        ]
        if san:
            lines.append("subjectAltName=" + ",".join(san))
        extensions.write_text("\n".join(lines) + "\n")
        self._run(
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", str(pair.key), "-out", str(request), "-subj", f"/CN={cn}",
        )  # fmt: skip
        self._run(
            "x509", "-req", "-in", str(request), "-CA", str(ca.cert), "-CAkey", str(ca.key),
            "-CAcreateserial", "-out", str(pair.cert), "-days", "2",
            "-extfile", str(extensions),
        )  # fmt: skip
        return pair

    def jwt_signer(self, name: str) -> JWTSigner:
        """A new RSA key pair that signs JWTs."""
        key = self.directory / f"{name}-jwt-key.pem"
        self._run("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                  "-out", str(key))  # fmt: skip
        public = subprocess.run(
            [self.openssl, "pkey", "-in", str(key), "-pubout"], check=True, capture_output=True
        ).stdout.decode()
        return JWTSigner(key, public, self.openssl)

    def rehash(self, directory: Path) -> None:
        """Make *directory* usable as a CA directory (``openssl rehash``)."""
        self._run("rehash", str(directory))
