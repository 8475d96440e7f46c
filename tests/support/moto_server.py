"""A moto server on loopback, for tests that need a real AWS HTTP endpoint.

Dependency-light on purpose (``moto[server]`` only, imported when used), so
that benchmarks, fault tests and demos can share it::

    from tests.support.moto_server import moto_server

    with moto_server() as url:          # "http://127.0.0.1:PORT"
        environ = {"AWS_ENDPOINT_URL": url, "AWS_REGION": "us-east-1",
                   "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
        ...

A pytest fixture is a two-liner on top of it::

    @pytest.fixture(scope="session")
    def moto_url():
        with moto_server() as url:
            yield url

The server keeps its state (secrets...) until it stops; call
:func:`reset_moto` to empty it between tests that need a clean slate.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["MOTO_ENVIRON", "moto_environ", "moto_server", "reset_moto"]

#: Dummy credentials and region moto accepts; never real ones.
MOTO_ENVIRON = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


@contextmanager
def moto_server(host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Start ``moto.server.ThreadedMotoServer`` and yield its URL; stop it on exit.

    :param host: address to bind; loopback by default.
    :param port: port to bind; 0 picks a free one.
    :return: the base URL, such as ``http://127.0.0.1:54321``.
    """
    from moto.server import ThreadedMotoServer  # only when a server is wanted

    server = ThreadedMotoServer(port=port, ip_address=host, verbose=False)
    server.start()
    try:
        bound_host, bound_port = server.get_host_and_port()
        yield f"http://{bound_host}:{bound_port}"
    finally:
        server.stop()


def moto_environ(url: str, **extra: str) -> dict[str, str]:
    """Return an environment that points an AWS client at the moto server *url*."""
    return {**MOTO_ENVIRON, "AWS_ENDPOINT_URL": url, **extra}


def reset_moto(url: str) -> None:
    """Drop every resource the moto server at *url* holds (``POST /moto-api/reset``)."""
    request = urllib.request.Request(f"{url}/moto-api/reset", data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        json.loads(response.read() or b"{}")
