"""The fault proxy does what the fault cases rely on, every time: a cut answer
arrives as the bytes sent and then the end (never a reset that drops them),
a reset is a reset, and a restart cuts the request in flight and serves
again on the same port.
"""

from __future__ import annotations

import http.client
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from testservers.faults import Blackhole, Reset, Seen, Truncate
from testservers.proxy import Proxy as FaultProxy

BODY = b'{"data": "' + b"x" * 20_000 + b'"}'


class _Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


@pytest.fixture
def upstream() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def raw_get(port: int) -> bytes:
    """Send one GET and read until the server ends the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /v1/x HTTP/1.1\r\nHost: proxy\r\n\r\n")
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
        return received


@pytest.mark.parametrize("attempt", range(20))
def test_a_cut_answer_arrives_whole_up_to_the_cut_then_ends(upstream: str, attempt: int) -> None:
    with FaultProxy(upstream, Truncate(0.5)) as proxy:
        received = raw_get(proxy.port)  # a reset would raise ConnectionResetError here
    head, _, body = received.partition(b"\r\n\r\n")
    assert f"Content-Length: {len(BODY)}".encode() in head
    assert body == BODY[: len(BODY) // 2]


def test_a_client_sees_a_cut_answer_as_incomplete(upstream: str) -> None:
    with FaultProxy(upstream, Truncate(0.5)) as proxy:
        connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
        connection.request("GET", "/v1/x")
        response = connection.getresponse()
        with pytest.raises(http.client.IncompleteRead) as info:
            response.read()
        connection.close()
    assert info.value.partial == BODY[: len(BODY) // 2]


def test_a_reset_is_a_reset(upstream: str) -> None:
    with FaultProxy(upstream, Reset()) as proxy, pytest.raises(ConnectionResetError):
        raw_get(proxy.port)


def test_a_restart_cuts_the_request_in_flight_and_serves_again(upstream: str) -> None:
    cut = threading.Event()

    def restart() -> None:
        proxy.restart()
        cut.set()

    def rule(request: Seen) -> Blackhole:
        threading.Thread(target=restart, daemon=True).start()
        return Blackhole()

    with FaultProxy(upstream, rule) as proxy:
        port = proxy.port
        with pytest.raises(ConnectionResetError):
            raw_get(port)
        assert cut.wait(10)
        proxy.fault = Truncate(1.0)  # forwards the whole answer
        assert proxy.port == port
        assert raw_get(port).endswith(BODY)
    assert proxy.count() == 2
