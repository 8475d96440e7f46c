"""A total deadline per Vault call: connect, send, every read, retries.

Socket timeouts bound each read, not their sum: a server that trickles one
byte per second keeps a request alive as long as it likes. Here a single
watchdog thread per client shuts the sockets of a call whose deadline has
passed (``shutdown`` wakes a thread blocked in ``recv``); the call then
fails, and the caller sees :attr:`Watch.fired` and says "timed out".
One watchdog serves the whole process (:func:`watchdog`): one thread,
however many resolvers come and go.

The HTTP connections register their sockets with the calling thread's
current :class:`Watch` (see :mod:`envsecrets_vault.session`).
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
from collections.abc import Callable

_local = threading.local()


class Watch:
    """The deadline of one call and the sockets it uses."""

    __slots__ = ("_lock", "_sockets", "deadline", "done", "fired")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.fired = False
        self.done = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def add(self, sock: socket.socket | None) -> None:
        """Watch *sock*; shut it at once if the deadline has already passed."""
        if sock is None:
            return
        with self._lock:
            if self.done:
                return
            if not self.fired:
                self._sockets.append(sock)
                return
        _shut(sock)

    def fire(self) -> None:
        with self._lock:
            if self.done or self.fired:
                return
            self.fired = True
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            _shut(sock)

    def finish(self) -> None:
        with self._lock:
            self.done = True
            self._sockets = []


def current() -> Watch | None:
    """The watch of the call running in this thread, if any."""
    return getattr(_local, "watch", None)


def _shut(sock: socket.socket) -> None:
    # socket.socket.shutdown, not SSLSocket's: no TLS close_notify, the
    # reading thread simply sees the end of the stream.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class Watchdog:
    """Fires each :class:`Watch` whose deadline passes before it is finished.

    One daemon thread, started on first use and ended by :meth:`close`
    (the process's shared one is never closed: it sleeps when idle).
    *clock* is injectable for tests.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Watch]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None
        self._closed = False

    def watch(self, seconds: float) -> _Watching:
        """Run the body of a ``with`` under a deadline *seconds* from now
        (this thread only); ``as`` gives the :class:`Watch`."""
        return _Watching(self, seconds)

    def _start(self, seconds: float) -> Watch:
        watch = Watch(self._clock() + seconds)
        with self._cond:
            if not self._closed:
                heapq.heappush(self._heap, (watch.deadline, next(self._order), watch))
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="envsecrets-vault-watchdog", daemon=True
                    )
                    self._thread.start()
                elif self._heap[0][2] is watch:
                    self._cond.notify()
        return watch

    def _run(self) -> None:
        while True:
            due: list[Watch] = []
            with self._cond:
                if self._closed:
                    return
                now = self._clock()
                while self._heap and (self._heap[0][2].done or self._heap[0][0] <= now):
                    _, _, watch = heapq.heappop(self._heap)
                    if not watch.done:
                        due.append(watch)
                if not due:
                    wait = self._heap[0][0] - now if self._heap else None
                    self._cond.wait(wait)
            for watch in due:
                watch.fire()

    def close(self) -> None:
        """Stop the thread; watches still running are left to their socket timeouts."""
        with self._cond:
            self._closed = True
            self._heap.clear()
            self._cond.notify()


class _Watching:
    """The context of :meth:`Watchdog.watch`: a class, not a generator, as it
    runs around every request."""

    __slots__ = ("_dog", "_outer", "_seconds", "_watch")

    def __init__(self, dog: Watchdog, seconds: float) -> None:
        self._dog = dog
        self._seconds = seconds

    def __enter__(self) -> Watch:
        self._watch = self._dog._start(self._seconds)
        self._outer = getattr(_local, "watch", None)
        _local.watch = self._watch
        return self._watch

    def __exit__(self, *exc_info: object) -> None:
        _local.watch = self._outer
        self._watch.finish()


_shared: Watchdog | None = None
_shared_lock = threading.Lock()


def watchdog() -> Watchdog:
    """The process's watchdog (its thread starts with the first watch)."""
    global _shared  # noqa: PLW0603 (one per process, made on first use)
    with _shared_lock:
        if _shared is None:
            _shared = Watchdog()
        return _shared
