"""A stand-in for the Kubernetes API server's TokenReview endpoint: the only stand-in of the Vault
suite (OpenBao and its ``kubernetes`` auth method are real). It issues service-account tokens (JWTs
with the claims of a projected token) and reviews them as the API server does: a token it issued,
not expired, for one of the audiences asked, is its service account.

    with KubernetesAPI(signer) as api:          # api.url: http://127.0.0.1:PORT
        token = api.issue("apps", "envsecrets")  # namespace, service account
        api.reviewed                             # the tokens reviewed, in order
"""

from __future__ import annotations

import http.server
import json
import threading
import time
import uuid
from typing import Any

from testservers.certs import JWTSigner

REVIEW_PATH = "/apis/authentication.k8s.io/v1/tokenreviews"


class KubernetesAPI:
    """A TokenReview endpoint on a free loopback port, served by a thread; a context manager."""

    def __init__(self, signer: JWTSigner) -> None:
        self.signer = signer
        self.issued: dict[str, dict[str, Any]] = {}
        self.reviewed: list[str] = []
        self._server: http.server.ThreadingHTTPServer | None = None
        self.url = ""

    def issue(
        self, namespace: str, name: str, *, audience: str = "vault", ttl: int = 600, uid: str = ""
    ) -> str:
        """A projected service-account token of *namespace*/*name*, valid for *ttl* seconds."""
        now = int(time.time())
        uid = uid or str(uuid.uuid5(uuid.NAMESPACE_URL, f"{namespace}/{name}"))
        claims = {
            "aud": [audience],
            "exp": now + ttl,
            "iat": now,
            "nbf": now,
            "iss": "https://kubernetes.default.svc.cluster.local",
            "sub": f"system:serviceaccount:{namespace}:{name}",
            "jti": str(uuid.uuid4()),  # two tokens issued in one second differ
            "kubernetes.io": {
                "namespace": namespace,
                "pod": {"name": f"{name}-pod", "uid": str(uuid.uuid4())},
                "serviceaccount": {"name": name, "uid": uid},
            },
        }
        token = self.signer.sign(claims)
        self.issued[token] = claims
        return token

    def review(self, token: str, audiences: list[str]) -> dict[str, Any]:
        """The ``status`` of a TokenReview of *token* for *audiences*."""
        self.reviewed.append(token)
        claims = self.issued.get(token)
        if claims is None:
            return {"authenticated": False, "error": "invalid bearer token"}
        if claims["exp"] <= time.time():
            return {"authenticated": False, "error": "token has expired"}
        if audiences and not set(audiences) & set(claims["aud"]):
            return {"authenticated": False, "error": "token audiences are invalid"}
        account = claims["kubernetes.io"]
        return {
            "authenticated": True,
            "audiences": audiences or claims["aud"],
            "user": {
                "username": claims["sub"],
                "uid": account["serviceaccount"]["uid"],
                "groups": [
                    "system:serviceaccounts",
                    f"system:serviceaccounts:{account['namespace']}",
                ],
            },
        }

    def __enter__(self) -> KubernetesAPI:
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                bearer = self.headers.get("Authorization", "").removeprefix("Bearer ")
                if self.path != REVIEW_PATH:
                    self._answer(404, {"kind": "Status", "status": "Failure", "code": 404})
                elif bearer not in api.issued:  # as the API server: who may review at all
                    self._answer(401, {"kind": "Status", "status": "Failure", "code": 401})
                else:
                    spec = body.get("spec") or {}
                    status = api.review(spec.get("token", ""), spec.get("audiences") or [])
                    answer = {**body, "kind": "TokenReview", "status": status}
                    self._answer(201, answer)

            def _answer(self, code: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass  # quiet

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
