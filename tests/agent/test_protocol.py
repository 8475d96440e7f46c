"""The wire format, and an agent fed garbage: every malformed, oversized or
foreign request gets an error answer (or a closed connection) and the agent
goes on answering good requests."""

from __future__ import annotations

import json
import socket
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envsecrets.agent import client, protocol
from envsecrets.agent.server import AgentServer
from envsecrets.agent.service import Service
from envsecrets.resolver import Resolver

GOOD = {"op": "get", "process": {}, "reference": "_nosuch:name", "timeout": 5.0}


def test_a_message_round_trips_with_surrogates() -> None:
    message = {"values": {"A": "caf\udce9", "B": "\U0001f600"}, "exit": 0}
    frame = protocol.encode(message)
    (length,) = struct.unpack(">I", frame[:4])
    assert length == len(frame) - 4
    assert protocol.decode(frame[4:]) == {**message, "v": protocol.VERSION}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"v": 2}', "protocol version 2"),
        (b'{"op": "get"}', "protocol version None"),
        (b"[" * 100_000, "not JSON"),
    ],
)
def test_bad_bodies_are_refused(body: bytes, reason: str) -> None:
    with pytest.raises(protocol.ProtocolError, match=reason):
        protocol.decode(body)


def test_an_oversized_message_is_refused_before_it_is_sent() -> None:
    with pytest.raises(protocol.ProtocolError, match="larger than"):
        protocol.encode({"process": {"A": "x" * protocol.MAX_FRAME}})


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgentServer]:
    path = tmp_path_factory.mktemp("proto") / "a.sock"
    resolver = Resolver({}, entry_points=False)
    running = AgentServer(str(path), Service(resolver), {__import__("os").getuid()})
    thread = threading.Thread(target=running.serve_forever, daemon=True)
    thread.start()
    yield running
    running.shutdown()
    running.server_close()
    running.remove_socket()
    resolver.close()


def _raw(path: str, data: bytes) -> bytes:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(15)
        sock.connect(path)
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the agent may answer and close before reading it all
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _alive(path: str) -> None:
    answer = client.exchange(path, GOOD, 15)
    assert answer["exit"] == 1
    assert "_nosuch" in answer["errors"][0]


def test_an_oversized_frame_gets_an_error_answer(server: AgentServer) -> None:
    answer = _raw(server.path, struct.pack(">I", protocol.MAX_FRAME + 1) + b"{}")
    assert b"larger than" in answer
    _alive(server.path)


def test_a_frame_cut_short_gets_an_error_answer(server: AgentServer) -> None:
    answer = _raw(server.path, struct.pack(">I", 100) + b'{"v": 1')
    assert b"closed in the middle" in answer
    _alive(server.path)


@pytest.mark.parametrize(
    "request_",
    [
        {"op": "launch", "process": {}, "timeout": 1},
        {"op": "run", "process": {"A": 1}, "timeout": 1},
        {"op": "run", "process": {}, "timeout": -1},
        {"op": "run", "process": {}, "timeout": True},
        {"op": "run", "process": {}, "files": [["f"]], "timeout": 1},
        {"op": "run", "process": {}, "timeout": 1, "command_problem": [0, "x"]},
        {"op": "get", "process": {}, "timeout": 1},
    ],
)
def test_a_malformed_request_gets_a_reason(
    server: AgentServer, request_: dict[str, object]
) -> None:
    answer = protocol.decode(_raw(server.path, protocol.encode(request_))[4:])
    assert answer["error"].startswith("bad request: ")
    _alive(server.path)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.binary(max_size=300),
        st.builds(
            lambda body: struct.pack(">I", len(body)) + body,
            st.one_of(
                st.binary(max_size=200),
                st.recursive(
                    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                    lambda inner: (
                        st.lists(inner, max_size=4)
                        | st.dictionaries(st.text(max_size=10), inner, max_size=4)
                    ),
                    max_leaves=12,
                ).map(lambda value: json.dumps({"v": 1, "op": "run", "x": value}).encode()),
                st.fixed_dictionaries(
                    {"v": st.just(1)},
                    optional={
                        "op": st.sampled_from(["run", "resolve", "check", "get", "x", 1]),
                        "process": st.dictionaries(st.text(max_size=8), st.text(max_size=8))
                        | st.integers(),
                        "files": st.lists(st.lists(st.text(max_size=5), max_size=3), max_size=2),
                        "timeout": st.floats(allow_nan=True) | st.integers() | st.text(),
                        "reference": st.text(max_size=20),
                        "files_only": st.booleans() | st.integers(),
                        "pristine": st.booleans(),
                        "command_problem": st.lists(st.integers() | st.text(), max_size=3),
                    },
                ).map(lambda message: json.dumps(message).encode()),
            ),
        ),
    )
)
def test_fuzz_the_agent_never_stops(server: AgentServer, data: bytes) -> None:
    answer = _raw(server.path, data)
    if answer:  # an answer, when there is one, is one well-formed frame
        (length,) = struct.unpack(">I", answer[:4])
        assert length == len(answer) - 4
        message = protocol.decode(answer[4:])
        assert "error" in message or isinstance(message.get("exit"), int)
    _alive(server.path)


def test_a_socket_path_is_private(server: AgentServer) -> None:
    assert Path(server.path).stat().st_mode & 0o777 == 0o600


def test_the_default_socket() -> None:
    from envsecrets.agent.paths import default_socket

    uid = __import__("os").getuid()
    assert default_socket({"XDG_RUNTIME_DIR": "/run/user/7"}) == "/run/user/7/envsecrets/agent.sock"
    assert default_socket({"TMPDIR": "/var/tmp/me"}) == f"/var/tmp/me/envsecrets-{uid}/agent.sock"
    assert default_socket({"XDG_RUNTIME_DIR": "relative"}) == f"/tmp/envsecrets-{uid}/agent.sock"
