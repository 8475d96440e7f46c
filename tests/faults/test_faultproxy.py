"""The toolkit's proxy (testservers.proxy) does what the suites rely on,
every time: a cut answer arrives as the bytes sent and then the end (never a
reset that drops them), a reset is a reset, a restart cuts the request in
flight and serves again on the same port; it counts what it forwards, answers
for the server, lets rules block, adds latency over kept-alive upstream
connections, and serves as a redirecting, trickling or forward-proxy stub.
"""

from __future__ import annotations

import asyncio
import http.client
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from testservers.faults import AMZ_JSON, Answer, Blackhole, Reset, Seen, Status, Truncate, first
from testservers.ports import refused_url
from testservers.proxy import Proxy
from testservers.stubs import ForwardProxy, Redirector, Trickler

BODY = b'{"data": "' + b"x" * 20_000 + b'"}'


class _Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
            return
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
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
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
    with Proxy(upstream, Truncate(0.5)) as proxy:
        received = raw_get(proxy.port)  # a reset would raise ConnectionResetError here
    head, _, body = received.partition(b"\r\n\r\n")
    assert f"Content-Length: {len(BODY)}".encode() in head
    assert body == BODY[: len(BODY) // 2]


def test_a_client_sees_a_cut_answer_as_incomplete(upstream: str) -> None:
    with Proxy(upstream, Truncate(0.5)) as proxy:
        connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
        connection.request("GET", "/v1/x")
        response = connection.getresponse()
        with pytest.raises(http.client.IncompleteRead) as info:
            response.read()
        connection.close()
    assert info.value.partial == BODY[: len(BODY) // 2]


def test_a_reset_is_a_reset(upstream: str) -> None:
    with Proxy(upstream, Reset()) as proxy, pytest.raises(ConnectionResetError):
        raw_get(proxy.port)


def test_a_restart_cuts_the_request_in_flight_and_serves_again(upstream: str) -> None:
    cut = threading.Event()

    def restart() -> None:
        proxy.restart()
        cut.set()

    def rule(request: Seen) -> Blackhole:
        threading.Thread(target=restart, daemon=True).start()
        return Blackhole()

    with Proxy(upstream, rule) as proxy:
        port = proxy.port
        with pytest.raises(ConnectionResetError):
            raw_get(port)
        assert cut.wait(10)
        proxy.fault = Truncate(1.0)  # forwards the whole answer
        assert proxy.port == port
        assert raw_get(port).endswith(BODY)
    assert proxy.count() == 2


def test_a_connection_accepted_as_the_proxy_goes_down_is_reset(upstream: str) -> None:
    """The race of a restart under load: a client connected (the kernel
    accepted it) but the proxy has not served it yet when down() runs. It is
    reset like any other, never left open with nobody reading it (the client
    would wait out its whole timeout) nor served after the "restart"."""
    with Proxy(upstream) as proxy:
        assert proxy._loop is not None
        held, gate = threading.Event(), threading.Event()

        def hold() -> None:
            held.set()
            gate.wait(10)

        # Hold the proxy's event loop: the connection waits, accepted by the
        # kernel, while down() is queued behind the hold.
        proxy._loop.call_soon_threadsafe(hold)
        assert held.wait(10)
        sock = socket.create_connection(("127.0.0.1", proxy.port), timeout=10)
        sock.sendall(b"GET /v1/x HTTP/1.1\r\nHost: proxy\r\n\r\n")
        time.sleep(0.1)  # the request is in the kernel's buffers
        down = asyncio.run_coroutine_threadsafe(proxy._down(), proxy._loop)
        gate.set()  # on resuming, the loop accepts the connection and goes down
        down.result(10)
        with sock, pytest.raises(ConnectionResetError):
            sock.recv(1)
    assert proxy.count() == 0


def get(url: str, path: str = "/v1/x", **headers: str) -> tuple[int, dict[str, str], bytes]:
    parts = url.split(":")
    connection = http.client.HTTPConnection("127.0.0.1", int(parts[-1]), timeout=10)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_it_forwards_and_counts_by_operation(upstream: str) -> None:
    with Proxy(upstream) as proxy:
        assert get(proxy.url)[2] == BODY
        get(proxy.url, "/v1/x?version=2")
        get(proxy.url, "/", **{"X-Amz-Target": "secretsmanager.GetSecretValue"})
        assert proxy.operations() == {"GET /v1/x": 2, "GetSecretValue": 1}
        assert proxy.count(lambda r: r.path == "/v1/x?version=2") == 1
        proxy.reset()
        assert proxy.count() == 0
        assert proxy.operations() == {}


def test_a_chunked_answer_is_relayed_with_a_length(upstream: str) -> None:
    with Proxy(upstream) as proxy:
        status, headers, body = get(proxy.url, "/chunked")
    assert (status, body) == (200, b"hello world")
    assert headers["Content-Length"] == "11"
    assert "Transfer-Encoding" not in headers


def test_a_rule_answers_for_the_server_and_is_recorded(upstream: str) -> None:
    canned = Answer(403, b'{"errors":["denied"]}', dict(AMZ_JSON))
    with Proxy(upstream, rule=lambda r: canned if r.path == "/v1/denied" else None) as proxy:
        assert get(proxy.url, "/v1/denied")[0::2] == (403, b'{"errors":["denied"]}')
        assert get(proxy.url)[2] == BODY
        proxy.rule = None
        assert get(proxy.url, "/v1/denied")[2] == BODY
        proxy.fault = first(1, Status(503))
        assert [get(proxy.url)[0] for _ in range(2)] == [503, 200]
    assert [r.fault for r in proxy.requests] == [
        "Answer(403)",
        "Forward",
        "Forward",
        "Status(503)",
        "Forward",
    ]


def test_rules_may_block_until_concurrent_requests_arrive(upstream: str) -> None:
    together = threading.Barrier(10, timeout=10)

    def rule(request: Seen) -> None:
        together.wait()  # all ten wait here at once: none may hold up the others

    with Proxy(upstream, rule=rule) as proxy:
        threads = [threading.Thread(target=get, args=(proxy.url,)) for _ in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(15)
        assert proxy.count() == 10
    assert not together.broken


def test_latency_over_kept_alive_upstream_connections(upstream: str) -> None:
    with Proxy(upstream, delay=0.2, fast=True) as proxy:
        port = int(proxy.url.rsplit(":", 1)[1])
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        started = time.monotonic()
        for _ in range(3):
            connection.request("GET", "/v1/x")
            assert connection.getresponse().read() == BODY
        elapsed = time.monotonic() - started
        connection.close()
        assert proxy.upstream_connections == 1
        assert proxy.connections == 1
    assert elapsed >= 0.6


def test_a_blackhole_holds_the_request_until_the_proxy_stops(upstream: str) -> None:
    with Proxy(upstream, Blackhole()) as proxy:
        port = int(proxy.url.rsplit(":", 1)[1])
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(b"GET /v1/x HTTP/1.1\r\nHost: proxy\r\n\r\n")
        sock.settimeout(0.3)
        with pytest.raises(TimeoutError):
            sock.recv(1)  # no answer, no end
        sock.settimeout(10)
    with sock, pytest.raises(ConnectionResetError):
        sock.recv(1)  # stop() cut it
    assert proxy.count() == 1


def test_down_refuses_and_up_serves_on_the_same_port(upstream: str) -> None:
    with Proxy(upstream) as proxy:
        proxy.down()
        with pytest.raises(ConnectionRefusedError):
            get(proxy.url)
        proxy.up()
        assert get(proxy.url)[2] == BODY


def test_an_unreachable_upstream_is_a_bad_gateway() -> None:
    with Proxy(refused_url()) as proxy:
        assert get(proxy.url)[0] == 502


def test_the_redirector_sends_every_request_on_with_its_path() -> None:
    with Redirector("http://127.0.0.1:1/base/", status=302) as stub:
        status, headers, _ = get(stub.url, "/v1/x?list=true")
    assert status == 302
    assert headers["Location"] == "http://127.0.0.1:1/base/v1/x?list=true"
    assert stub.seen == [("GET", "/v1/x?list=true")]


def test_the_trickler_announces_the_whole_body_then_sends_it_slowly() -> None:
    with Trickler(interval=0.05, body=b"0123456789") as stub:
        port = int(stub.url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"GET /v1/x HTTP/1.1\r\nHost: stub\r\n\r\n")
            received = b""
            started = time.monotonic()
            while not received.endswith(b"\r\n\r\n0123456789"):
                received += sock.recv(65536)
            elapsed = time.monotonic() - started
        assert stub.connections == 1
    assert b"Content-Length: 10\r\n" in received
    assert elapsed >= 0.4


def test_the_forward_proxy_sends_absolute_urls_to_their_host(upstream: str) -> None:
    with ForwardProxy() as forward:
        status, _, body = get(
            forward.url, f"{upstream}/v1/x", **{"Proxy-Authorization": "Basic eA=="}
        )
        assert (status, body) == (200, BODY)
        [(method, url, headers)] = forward.seen
    assert (method, url) == ("GET", f"{upstream}/v1/x")
    assert headers["Proxy-Authorization"] == "Basic eA=="
