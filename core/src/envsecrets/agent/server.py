"""The agent's listener: a threaded unix socket server, one thread per
connection, every connection's peer uid checked before a byte is read."""

from __future__ import annotations

import logging
import os
import signal
import socket
import socketserver
import stat
import threading
import time
from collections.abc import Callable, Collection
from types import FrameType

from envsecrets.agent import paths, protocol
from envsecrets.agent.peer import peer_uid
from envsecrets.agent.protocol import Message, ProtocolError
from envsecrets.agent.service import Service, failed
from envsecrets.cli.exits import EXIT_FAILURE

log = logging.getLogger("envsecrets")

#: Seconds a client has to send its whole request once connected: one that
#: sends nothing cannot hold a thread for long.
REQUEST_SECONDS = 10.0


class AgentError(Exception):
    """The agent cannot listen (the text says why)."""


class AgentServer(socketserver.ThreadingUnixStreamServer):
    """Serves :class:`Service` answers to the uids in *allowed*."""

    daemon_threads = True
    block_on_close = False
    #: Connections waiting to be accepted: a fleet starting at once.
    request_queue_size = socket.SOMAXCONN

    def __init__(self, path: str, service: Service, allowed: Collection[int]) -> None:
        self.path = path
        self.service = service
        self.allowed = frozenset(allowed)
        previous = os.umask(0o177)  # the socket is born 0600: no window where it is not
        try:
            super().__init__(path, _Handler)
        finally:
            os.umask(previous)
        os.chmod(path, 0o600)
        self._inode = os.stat(path).st_ino

    def remove_socket(self) -> None:
        """Remove the socket file, if it is still this server's."""
        try:
            if os.stat(self.path).st_ino == self._inode:
                os.unlink(self.path)
        except FileNotFoundError:
            pass


class _Handler(socketserver.BaseRequestHandler):
    server: AgentServer
    request: socket.socket

    def handle(self) -> None:
        uid = peer_uid(self.request)
        if uid is None or uid not in self.server.allowed:
            log.warning(
                "refused a connection from uid %s: this agent serves uid %s only",
                "unknown" if uid is None else uid,
                ", ".join(map(str, sorted(self.server.allowed))),
            )
            self._send({"refused": f"this agent does not serve uid {uid}"})
            self._drain()  # unread, discarded: the client reads the refusal
            return
        self.request.settimeout(REQUEST_SECONDS)
        try:
            message = protocol.receive(self.request)
        except ProtocolError as problem:
            if str(problem) != protocol.EMPTY:  # not a mere probe of the socket
                log.warning("a bad request was refused: %s", problem)
            self._send({"error": f"bad request: {problem}"})
            self._drain()
            return
        except OSError as problem:
            log.warning("a request could not be read: %s", type(problem).__name__)
            return
        started = time.monotonic()
        answer = self._answer(message)
        log.info(
            "answered %r for uid %s in %.1f ms: exit %r",
            message.get("op"),
            uid,
            (time.monotonic() - started) * 1000,
            answer.get("exit"),
        )
        self._send(answer)

    def _answer(self, message: Message) -> Message:
        try:
            return self.server.service.answer(message)
        except ProtocolError as problem:
            log.warning("a bad request was refused: %s", problem)
            return {"error": f"bad request: {problem}"}
        except Exception as problem:  # a bug must not stop the agent nor show a value
            log.error("a request failed: %s", type(problem).__name__)
            return failed(EXIT_FAILURE, f"the agent failed to answer ({type(problem).__name__})")

    def _drain(self) -> None:
        """Read what is left of a refused request (at most a frame, for at
        most a second): closed with unread bytes, the connection would be
        reset and its client would lose the answer."""
        try:
            self.request.shutdown(socket.SHUT_WR)
            self.request.settimeout(1.0)
            left = protocol.MAX_FRAME
            while left > 0 and (chunk := self.request.recv(min(left, 1 << 20))):
                left -= len(chunk)
        except OSError:
            pass

    def _send(self, answer: Message) -> None:
        try:
            protocol.send(self.request, answer)
        except (OSError, ProtocolError) as problem:  # the client went away, or too large
            log.warning("an answer could not be sent: %s", type(problem).__name__)


def listen(path: str, service: Service, allowed: Collection[int], *, default: bool) -> AgentServer:
    """A server bound to *path*: its directory private (created 0700;
    the *default* one must be this user's and nobody else's), a stale
    socket replaced, a live one refused.

    :raise AgentError: the socket cannot be made.
    """
    directory = os.path.dirname(os.path.abspath(path))
    try:
        if default:
            os.makedirs(os.path.dirname(directory), exist_ok=True)
            paths.private_directory(directory)
        elif not os.path.isdir(directory):
            os.makedirs(directory, mode=0o700)
        _clear_stale(path)
        return AgentServer(path, service, allowed)
    except OSError as problem:
        raise AgentError(f"cannot listen on {path}: {problem.strerror or problem}") from None


def serve(server: AgentServer, ready: Callable[[], None] = lambda: None) -> None:
    """Serve until SIGTERM or SIGINT, then remove the socket; *ready* is
    called once the signals are handled (a supervisor may stop it then)."""

    def stop(signum: int, frame: FrameType | None) -> None:
        # shutdown() waits for serve_forever(), which runs in this thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        ready()
        server.serve_forever()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.server_close()
        server.remove_socket()


def _clear_stale(path: str) -> None:
    """Remove a socket at *path* that nobody listens on; refuse a live one
    and anything that is not a socket."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(info.st_mode):
        raise AgentError(f"{path} exists and is not a socket: not replacing it")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(2.0)
        try:
            probe.connect(path)
        except (ConnectionRefusedError, FileNotFoundError):
            log.info("replacing the stale socket %s", path)
            os.unlink(path)
            return
        except OSError:
            pass  # a socket we cannot probe: treat it as live
    raise AgentError(f"an agent is already listening on {path}")
