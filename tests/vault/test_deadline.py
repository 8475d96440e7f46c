"""The watchdog behind VAULT_HTTP_REQ_TIMEOUT, with an injected clock: a
watch whose deadline has passed shuts its sockets, wherever the call is."""

from __future__ import annotations

import itertools
import socket
import threading
from collections.abc import Iterator

from envsecrets_vault.deadline import Watchdog, current


def _late_clock() -> Iterator[float]:
    # The first reading sets the deadline (0 + seconds); every later one is
    # far beyond it.
    return itertools.chain([0.0], itertools.repeat(1e9))


def test_a_passed_deadline_wakes_a_blocked_read() -> None:
    clock = _late_clock()
    dog = Watchdog(clock=lambda: next(clock))
    mine, theirs = socket.socketpair()
    try:
        with dog.watch(5.0) as watch:
            watch.add(mine)
            assert current() is watch
            assert mine.recv(1) == b""  # shut by the watchdog, not answered
        assert watch.fired
        assert current() is None
    finally:
        mine.close()
        theirs.close()
        dog.close()


def test_a_finished_watch_never_fires() -> None:
    dog = Watchdog()  # real clock, a deadline an hour away
    mine, theirs = socket.socketpair()
    try:
        with dog.watch(3600.0) as watch:
            watch.add(mine)
            theirs.sendall(b"x")
            assert mine.recv(1) == b"x"
        assert not watch.fired
        watch.fire()  # too late: the call is over
        assert not watch.fired
        theirs.sendall(b"y")
        assert mine.recv(1) == b"y"  # the socket is still usable
    finally:
        mine.close()
        theirs.close()
        dog.close()


def test_a_socket_added_after_the_deadline_is_shut_at_once() -> None:
    dog = Watchdog()
    mine, theirs = socket.socketpair()
    try:
        with dog.watch(3600.0) as watch:
            watch.fire()
            watch.add(mine)  # a retry's new connection
            assert mine.recv(1) == b""
    finally:
        mine.close()
        theirs.close()
        dog.close()


def test_watches_are_per_thread() -> None:
    dog = Watchdog()
    seen: list[object] = []
    with dog.watch(3600.0) as watch:
        thread = threading.Thread(target=lambda: seen.append(current()))
        thread.start()
        thread.join()
        assert current() is watch
    assert seen == [None]
    dog.close()
