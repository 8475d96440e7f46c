"""What the agent does with one request: every rule of an in-process
``run``, ``resolve``, ``check --fetch`` or ``get``, applied with the
agent's own long-lived resolver.

Settings and credentials are the agent's (its resolver was built from its
own environment); the client's variables are data only, seen by providers
through :func:`envsecrets.provider.serving` for this request alone. The
refusals, the aggregated errors and their texts are those of
:mod:`envsecrets.cli.session`, computed by the same functions.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

from envsecrets import isolation
from envsecrets.agent.protocol import Message, ProtocolError
from envsecrets.cli import session
from envsecrets.cli.exits import EXIT_FAILURE, EXIT_OK, EXIT_USAGE
from envsecrets.errors import EnvsecretsError, ResolutionError, quote_reference
from envsecrets.provider import serving
from envsecrets.resolver import Resolver

log = logging.getLogger("envsecrets")


class Service:
    """Answers requests with one long-lived :class:`Resolver`; thread-safe."""

    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver
        self._operations: dict[str, Callable[[_Request], Message]] = {
            "run": self._run,
            "resolve": self._resolve,
            "check": self._check,
            "get": self._get,
        }

    def answer(self, message: Message) -> Message:
        """The answer to the request *message*.

        :raise ProtocolError: the request is malformed (the server answers
            with the reason, and goes on serving).
        """
        request = _Request(message)
        operation = self._operations.get(request.op)
        if operation is None:
            raise ProtocolError(f"unknown operation {request.op!r}")
        problems = session.refusals(self.resolver.registry, request.files)
        if problems:
            return failed(EXIT_USAGE, *problems)
        with serving(request.env):
            return operation(request)

    def _run(self, request: _Request) -> Message:
        problem = request.field("command_problem", list, None)
        if problem is not None:
            code, text = _command_problem(problem)
            return failed(code, text)
        pristine = request.field("pristine", bool)
        keep = request.field("keep_credentials", bool)
        if not (pristine or keep):
            unknown = self._unknown(request)
            if unknown is not None:
                return failed(EXIT_USAGE, unknown)
        try:
            resolved = self.resolver.resolve(request.env, timeout=request.timeout)
        except ResolutionError as failure:
            return failed(EXIT_FAILURE, str(failure))
        environment = session.handed_on(
            resolved,
            request.process,
            request.from_files,
            self.resolver.registry.credentials(),
            pristine=pristine,
            keep_credentials=keep,
        )
        return {"exit": EXIT_OK, "values": environment}

    def _resolve(self, request: _Request) -> Message:
        files_only = request.field("files_only", bool)
        keep = request.field("keep_credentials", bool)
        # With -e only the files' variables are printed: the user's own.
        if not (files_only or keep):
            unknown = self._unknown(request)
            if unknown is not None:
                return failed(EXIT_USAGE, unknown)
        wanted = request.from_files if files_only else request.env
        try:
            resolved = self.resolver.resolve(wanted, timeout=request.timeout)
        except ResolutionError as failure:
            return failed(EXIT_FAILURE, str(failure))
        if not keep:
            credentials = self.resolver.registry.credentials()
            resolved = isolation.without_credentials(resolved, credentials, keep=request.from_files)
        return {"exit": EXIT_OK, "values": resolved}

    def _check(self, request: _Request) -> Message:
        wanted = request.from_files if request.field("files_only", bool) else request.env
        results = self.resolver.check(wanted, fetch=True, timeout=request.timeout)
        listed = [
            [result.variable, result.reference, None if result.ok else str(result.error)]
            for result in results
        ]
        return {"exit": EXIT_OK, "results": listed}

    def _get(self, request: _Request) -> Message:
        reference = request.field("reference", str)
        try:
            value = self.resolver.get(reference, timeout=request.timeout)
        except ResolutionError as failure:
            only = failure.failures[0].error if len(failure.failures) == 1 else failure
            return failed(EXIT_FAILURE, str(only))
        except EnvsecretsError as problem:
            return failed(EXIT_USAGE, f"{quote_reference(reference)}: {problem}")
        return {"exit": EXIT_OK, "value": value}

    def _unknown(self, request: _Request) -> str | None:
        return session.unknown_credentials(
            self.resolver.registry, request.process, request.from_files
        )


def failed(code: int, *errors: str) -> Message:
    """An answer reporting *errors* (each printed as the CLI's error) and *code*."""
    return {"exit": code, "errors": list(errors)}


class _Request:
    """A request's fields, each checked for its type."""

    def __init__(self, message: Message) -> None:
        self._message = message
        self.op = self.field("op", str)
        self.process = _texts(self.field("process", dict), "process")
        self.files = [_env_file(entry) for entry in self.field("files", list, [])]
        self.from_files = session.merged(self.files)
        self.env = {**self.process, **self.from_files}
        timeout = self.field("timeout", (int, float))
        if isinstance(timeout, bool) or not 0 < timeout < math.inf:
            raise ProtocolError("the timeout must be a positive number of seconds")
        self.timeout = float(timeout)

    def field(self, name: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
        value = self._message.get(name, default)
        if value is ...:
            raise ProtocolError(f"the request has no {name!r}")
        if value is not default and not isinstance(value, kind):
            raise ProtocolError(f"the request's {name!r} has the wrong type")
        return value


def _texts(value: dict[Any, Any], what: str) -> dict[str, str]:
    if not all(isinstance(name, str) and isinstance(text, str) for name, text in value.items()):
        raise ProtocolError(f"the request's {what} holds something other than text")
    return value


def _env_file(entry: object) -> isolation.EnvFile:
    if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str)):
        raise ProtocolError("an env file of the request is not [path, variables]")
    if not isinstance(entry[1], dict):
        raise ProtocolError("an env file of the request is not [path, variables]")
    return isolation.EnvFile(entry[0], _texts(entry[1], "env file"))


def _command_problem(problem: list[Any]) -> tuple[int, str]:
    if len(problem) != 2 or not isinstance(problem[0], int) or not isinstance(problem[1], str):
        raise ProtocolError("the request's 'command_problem' is not [code, message]")
    if problem[0] not in (126, 127):
        raise ProtocolError("the request's 'command_problem' has an unknown code")
    return problem[0], problem[1]
