"""What the HTTP stack does with awkward servers, seen from a resolver:
kept-alive connections never mix answers, a connection the server dropped
is replaced, a cut answer and a non-HTTP answer are clear failures.

A scripted raw TCP server stands in for Vault; each accepted connection
answers its requests from a script.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

import envsecrets
from tests.conftest import SENTINEL
from tests.vault.conftest import assert_clean, failure_of, resolver
from testservers.openbao import token_env


def answer(password: str, *extra: str) -> bytes:
    return _http_200(('{"data":{"data":{"password":"' + password + '"}}}').encode(), *extra)


def _http_200(body: bytes, *extra: str) -> bytes:
    head = ["HTTP/1.1 200 OK", "Content-Type: application/json",
            f"Content-Length: {len(body)}", *extra]  # fmt: skip
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


#: The mount lookup's answer before the first read: the KV v2 mount secret/.
MOUNT = _http_200(b'{"data":{"path":"secret/","type":"kv","options":{"version":"2"}}}')


class Scripted:
    """Connection n answers its requests with scripts[n] (the last script
    repeats); an entry is bytes to send, or "close" to close the connection."""

    def __init__(self, scripts: list[list[bytes | str]]) -> None:
        self.scripts = scripts
        self.connections = 0
        self.requests = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            script = self.scripts[min(self.connections, len(self.scripts) - 1)]
            self.connections += 1
            threading.Thread(target=self._serve, args=(connection, script), daemon=True).start()

    def _serve(self, connection: socket.socket, script: list[bytes | str]) -> None:
        with connection:
            for step in script:
                if step == "close":
                    return
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = connection.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                self.requests += 1
                assert isinstance(step, bytes)
                connection.sendall(step)
            connection.recv(65536)  # hold the connection open until the client leaves

    def close(self) -> None:
        self._listener.close()


@pytest.fixture
def scripted() -> Iterator[list[Scripted]]:
    made: list[Scripted] = []
    yield made
    for server in made:
        server.close()


def test_bytes_left_after_an_answer_never_become_the_next_answer(
    scripted: list[Scripted],
) -> None:
    # The first answer is followed by a stray second one on the same
    # connection: the next read must not take it for its own answer.
    stray = answer("a") + answer(SENTINEL + "-stray")
    server = Scripted([[MOUNT, stray], [answer("b")], [answer("c")]])
    scripted.append(server)
    with resolver(token_env(server.url)) as instance:
        assert instance.get("_vaultkv2:a:password") == "a"
        assert instance.get("_vaultkv2:b:password") == "b"


def test_kept_alive_connection_is_reused(scripted: list[Scripted]) -> None:
    server = Scripted([[MOUNT, answer("one"), answer("two"), answer("three")]])
    scripted.append(server)
    with resolver(token_env(server.url)) as instance:
        values = [instance.get(f"_vaultkv2:s{n}:password") for n in range(3)]
    assert values == ["one", "two", "three"]
    assert server.connections == 1


def test_connection_closed_by_the_server_is_replaced(scripted: list[Scripted]) -> None:
    # Each connection answers once, then closes without saying so.
    server = Scripted([[MOUNT, "close"], [answer("x"), "close"]])
    scripted.append(server)
    with resolver(token_env(server.url)) as instance:
        assert [instance.get(f"_vaultkv2:s{n}:password") for n in range(3)] == ["x"] * 3
    assert server.connections == 4  # the mount lookup's, then one per read


def test_answer_cut_short_is_a_clear_failure(scripted: list[Scripted]) -> None:
    cut = answer(SENTINEL)[:-10]  # announced whole, then the connection ends
    server = Scripted([[cut, "close"]])
    scripted.append(server)
    failure = failure_of(token_env(server.url), "_vaultkv2:app:password")
    assert isinstance(failure.error, envsecrets.ProviderError)
    assert "the connection was cut before the whole answer arrived" in str(failure.error)
    assert_clean(failure.error, failure.describe())


def test_an_answer_that_is_not_http_fails_without_quoting_it(scripted: list[Scripted]) -> None:
    server = Scripted([[b"SSH-2.0-OpenSSH " + SENTINEL.encode() + b"\r\n\r\n", "close"]])
    scripted.append(server)
    failure = failure_of(token_env(server.url, SENTINEL + "-token"), "_vaultkv2:app:password")
    assert isinstance(failure.error, envsecrets.ProviderError)
    assert "the answer is not well-formed HTTP" in str(failure.error)
    assert server.url in str(failure.error)
    assert_clean(failure.error, repr(failure.error), failure.describe())
