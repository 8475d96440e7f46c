"""A moto server on loopback: a real AWS HTTP endpoint for tests, benchmarks
and demos (``moto[server]``, imported when a server is wanted)::

    from testservers.moto import moto_environ, moto_server, secretsmanager

    with moto_server() as url:          # "http://127.0.0.1:PORT"
        secretsmanager(url).create_secret(Name="app", SecretString="s3cr3t")
        environ = moto_environ(url)     # dummy credentials, region, endpoint

One service alone (``service_server("ssm")``, ``secretsmanager_server()``)
is lighter than every service; ``aws_client("ssm", url)`` seeds any service.

The server keeps its state (secrets...) until it stops: tests give their
secrets unique names.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = [
    "MOTO_ENVIRON",
    "aws_client",
    "moto_environ",
    "moto_server",
    "secretsmanager",
    "secretsmanager_server",
    "service_server",
]

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
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(port=port, ip_address=host, verbose=False)
    server.start()
    try:
        bound_host, bound_port = server.get_host_and_port()
        yield f"http://{bound_host}:{bound_port}"
    finally:
        server.stop()


@contextmanager
def secretsmanager_server(host: str = "127.0.0.1") -> Iterator[str]:
    """moto's Secrets Manager app alone, as the real endpoint is one service.

    moto's all-services server works out the service of every request by
    listing its ~170 service modules on disk: about 35% of its CPU per
    BatchGetSecretValue. The benchmarks measure the client, not that.
    """
    with service_server("secretsmanager", host) as url:
        yield url


@contextmanager
def service_server(service: str, host: str = "127.0.0.1") -> Iterator[str]:
    """moto's app for one AWS *service* alone (``"ssm"``, ``"secretsmanager"``,
    as botocore names them), on a free port of *host*; yield its URL."""
    import threading

    from moto.moto_server.werkzeug_app import MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log
    # Any service name: moto's own annotation lists its services as literals.
    backend_app: Callable[..., Any] = create_backend_app
    server = make_server(
        host,
        0,
        backend_app(service),
        threaded=True,
        request_handler=MotoRequestHandler,
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        bound_host, bound_port = server.server_address[:2]
        yield f"http://{bound_host!s}:{bound_port}"
    finally:
        server.shutdown()
        server.server_close()


def moto_environ(url: str, **extra: str) -> dict[str, str]:
    """Return an environment that points an AWS client at the moto server *url*."""
    return {**MOTO_ENVIRON, "AWS_ENDPOINT_URL": url, **extra}


def secretsmanager(url: str) -> Any:
    """A boto3 Secrets Manager client of the moto server *url*, for seeding
    it directly (not through the code under test)."""
    return aws_client("secretsmanager", url)


def aws_client(service: str, url: str) -> Any:
    """A boto3 client of *service* at the moto server *url*, for seeding it
    directly (not through the code under test)."""
    import boto3

    # Any service name: boto3-stubs overload client() per literal service.
    client: Callable[..., Any] = boto3.client
    return client(
        service,
        endpoint_url=url,
        region_name=MOTO_ENVIRON["AWS_REGION"],
        aws_access_key_id=MOTO_ENVIRON["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=MOTO_ENVIRON["AWS_SECRET_ACCESS_KEY"],
    )
