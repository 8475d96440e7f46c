"""The thin client: send one request to the agent, return its answer.

All a ``run`` through the agent imports besides the command line itself:
the standard library, :mod:`.protocol` and :mod:`.paths`; no pluggy, no
provider, no SDK (a test lists the modules).
"""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Mapping

from envsecrets.agent import paths, protocol
from envsecrets.cli.exits import EXIT_FAILURE, error

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without typing
if TYPE_CHECKING:
    from envsecrets.agent.protocol import Message

#: Seconds a client waits beyond the request's own deadline for the answer.
GRACE = 5.0


class AgentUnavailable(Exception):
    """No agent answered at the socket (the text says why)."""


def ask(environ: Mapping[str, str], request: Message, timeout: float) -> Message | int | None:
    """The agent's answer to *request*, or ``None`` to resolve in this
    process (no agent, or one that did not answer: one notice on stderr);
    with ``ENVSECRETS_AGENT=required``, an exit code once that is reported."""
    required = environ.get(paths.MODE_VARIABLE) == "required"
    path = paths.client_socket(environ)
    if path is None:
        if required:
            error(
                f"no agent: {paths.MODE_VARIABLE}=required and {paths.SOCKET_VARIABLE} is "
                f"not set (no agent socket at {paths.default_socket(environ)})"
            )
            return EXIT_FAILURE
        return None
    try:
        return exchange(path, request, timeout + GRACE)
    except AgentUnavailable as problem:
        if required:
            error(f"the agent at {path} did not answer ({problem}); {paths.MODE_VARIABLE}=required")
            return EXIT_FAILURE
        from envsecrets.errors import escaped_lines

        note = f"the agent at {path} did not answer ({problem}); resolving in this process"
        print(f"envsecrets: note: {escaped_lines(note)}", file=sys.stderr)
        return None


def exchange(path: str, request: Message, timeout: float) -> Message:
    """Send *request* to the agent at *path* and return its answer.

    :raise AgentUnavailable: no agent there, a refusal, or a bad answer.
    """
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            _connect(sock, path, time.monotonic() + timeout)
            protocol.send(sock, request)
            answer = protocol.receive(sock)
    except FileNotFoundError:
        raise AgentUnavailable("no such socket") from None
    except ConnectionRefusedError:
        raise AgentUnavailable("nothing is listening") from None
    except TimeoutError:
        raise AgentUnavailable(f"no answer within {timeout:g} s") from None
    except OSError as problem:
        raise AgentUnavailable(problem.strerror or type(problem).__name__) from None
    except protocol.ProtocolError as problem:
        raise AgentUnavailable(str(problem)) from None
    refused = answer.get("refused", answer.get("error"))  # another user; a bad request
    if refused is not None:
        raise AgentUnavailable(str(refused))
    if not isinstance(answer.get("exit"), int):
        raise AgentUnavailable("the answer holds no exit code")
    if answer["exit"] == 0 and not _well_formed(answer, str(request.get("op"))):
        raise AgentUnavailable("the answer is not what was asked for")
    return answer


def _connect(sock: socket.socket, path: str, deadline: float) -> None:
    """Connect, waiting while the agent's backlog is full (a unix socket
    with a timeout says EAGAIN at once instead of waiting)."""
    pause = 0.001
    while True:
        try:
            sock.connect(path)
            return
        except BlockingIOError:
            if time.monotonic() + pause > deadline:
                raise TimeoutError from None
            time.sleep(pause)
            pause = min(pause * 2, 0.05)


def _well_formed(answer: Message, op: str) -> bool:
    """Whether a successful answer to *op* holds what its caller reads."""
    if op in ("run", "resolve"):
        values = answer.get("values")
        return isinstance(values, dict) and all(
            isinstance(name, str) and isinstance(value, str) for name, value in values.items()
        )
    if op == "check":
        results = answer.get("results")
        return isinstance(results, list) and all(
            isinstance(row, list)
            and len(row) == 3
            and isinstance(row[0], str)
            and isinstance(row[1], str)
            and (row[2] is None or isinstance(row[2], str))
            for row in results
        )
    return op == "get" and isinstance(answer.get("value"), str)
