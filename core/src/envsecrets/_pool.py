"""A bounded pool of named daemon worker threads: the core's one concurrency
primitive, owned by the resolver's fetcher (:mod:`envsecrets.fetching`;
providers start no threads).

:class:`concurrent.futures.ThreadPoolExecutor` joins its workers when the
interpreter exits, so one fetch hung on a dead server would hold the process
past its deadline. These workers are daemons: a caller that gave up on them
can exit at once. They are named (``envsecrets-NAME-N``, visible in
``threading.enumerate()`` and py-spy), started on demand, and exit after
:data:`IDLE_SECONDS` without work or when the pool shuts down, so a
long-lived agent that builds many resolvers does not accumulate threads.
"""

from __future__ import annotations

import contextvars
import itertools
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")

#: Seconds an idle worker waits for a task before it exits.
IDLE_SECONDS = 30.0

_Task = tuple["Future[Any]", contextvars.Context, Callable[..., Any], tuple[Any, ...]]
_serial = itertools.count(1)


class DaemonPool:
    """Run callables on at most *max_workers* named daemon threads."""

    def __init__(self, max_workers: int, name: str = "pool") -> None:
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        self._max_workers = max_workers
        self._name = f"envsecrets-{name}-{next(_serial)}"
        self._tasks: queue.SimpleQueue[_Task | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._workers = 0
        self._idle = 0
        self._started = 0
        self._shut = False

    def __repr__(self) -> str:
        return f"<DaemonPool {self._name} workers={self._workers}/{self._max_workers}>"

    def submit(self, function: Callable[..., T], *args: Any) -> Future[T]:
        """Queue ``function(*args)``, to run in a copy of the caller's
        context (a resident agent's request variables follow the fetch);
        its future holds the result or error."""
        future: Future[T] = Future()
        context = contextvars.copy_context()
        with self._lock:
            if self._shut:
                raise RuntimeError("the pool is shut down")
            self._tasks.put((future, context, function, args))
            if self._idle > 0:
                self._idle -= 1  # that worker takes this task
                return future
            if self._workers >= self._max_workers:
                return future  # a busy worker takes it when it is free
            self._workers += 1
            self._started += 1
            name = f"{self._name}-{self._started}"
        threading.Thread(target=self._work, name=name, daemon=True).start()
        return future

    def _work(self) -> None:
        tasks = self._tasks
        while True:
            try:
                task = tasks.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                with self._lock:
                    if self._idle > 0:  # nobody counts on this worker: leave
                        self._idle -= 1
                        self._workers -= 1
                        return
                continue  # a submit counted on it just now: stay for that task
            if task is None:
                return
            future, context, function, args = task
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(context.run(function, *args))
                except BaseException as error:  # handed to the caller through the future
                    future.set_exception(error)
            del task, future, context, function, args
            with self._lock:
                if self._shut:
                    return
                self._idle += 1

    def shutdown(self) -> None:
        """Stop the workers: idle ones at once, busy ones after their task.

        Queued tasks that have not started are cancelled.
        """
        with self._lock:
            if self._shut:
                return
            self._shut = True
            workers, self._workers, self._idle = self._workers, 0, 0
        while True:
            try:
                task = self._tasks.get_nowait()
            except queue.Empty:
                break
            if task is not None:
                task[0].cancel()
        for _ in range(workers):
            self._tasks.put(None)
