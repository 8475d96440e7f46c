"""The servers every contender talks to, in processes of their own.

moto and the latency proxies run in child processes, not in the benchmark's
own interpreter: a server thread would otherwise share the GIL with the
client under test and bill its CPU to whichever contender runs concurrent
requests. OpenBao is a Go process anyway.

    with Servers(delay=0.02) as servers:
        servers.aws_url      # proxy in front of moto
        servers.vault_url    # proxy in front of OpenBao
        servers.reset("aws"); ...; servers.operations("aws")
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from multiprocessing.connection import Connection
from pathlib import Path
from types import TracebackType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from testservers.openbao import OpenBao  # noqa: E402

_CONTEXT = multiprocessing.get_context("spawn")


def _moto_main(conn: Connection) -> None:
    """moto's Secrets Manager app alone (see :func:`testservers.moto.secretsmanager_server`)."""
    from testservers.moto import secretsmanager_server

    with secretsmanager_server() as url:
        conn.send(url)
        conn.recv()  # any message: stop
    conn.send(None)


def _proxy_main(conn: Connection, upstreams: dict[str, str], delay: float) -> None:
    # One event loop (uvloop when installed) and pooled upstream connections:
    # a proxy's CPU per request is CPU a small machine takes from the client
    # under test.
    from testservers.proxy import Proxy

    proxies = {name: Proxy(url, delay=delay, fast=True).start() for name, url in upstreams.items()}
    conn.send({name: proxy.url for name, proxy in proxies.items()})
    while True:
        command, name = conn.recv()
        if command == "reset":
            proxies[name].reset()
            conn.send(None)
        elif command == "operations":
            conn.send(proxies[name].operations())
        else:
            for proxy in proxies.values():
                proxy.stop()
            conn.send(None)
            return


def _cpu_of(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return 0.0
    # utime and stime, fields 14 and 15 of proc(5), in clock ticks.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Servers:
    """moto, OpenBao, and a latency proxy with *delay* in front of each."""

    def __init__(self, delay: float = 0.02) -> None:
        self.delay = delay
        self.bao = OpenBao()
        self.moto_url = ""
        self.aws_url = ""
        self.vault_url = ""
        self._children: list[tuple[Any, Connection]] = []
        self._proxy: Connection | None = None

    def __enter__(self) -> Servers:
        try:
            self.bao.start()
            self.moto_url = self._spawn(_moto_main)
            urls = self._spawn(
                _proxy_main, {"aws": self.moto_url, "vault": self.bao.address}, self.delay
            )
            self._proxy = self._children[-1][1]
            self.aws_url, self.vault_url = urls["aws"], urls["vault"]
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _spawn(self, target: Any, *args: Any) -> Any:
        parent, child = _CONTEXT.Pipe()
        process = _CONTEXT.Process(target=target, args=(child, *args), daemon=True)
        process.start()
        self._children.append((process, parent))
        if not parent.poll(60):
            raise RuntimeError(f"{target.__name__} did not start within 60 s")
        return parent.recv()

    def _ask(self, command: str, name: str) -> Any:
        assert self._proxy is not None
        self._proxy.send((command, name))
        return self._proxy.recv()

    def reset(self, name: str) -> None:
        """Forget the requests the proxy *name* ("aws" or "vault") has seen."""
        self._ask("reset", name)

    def operations(self, name: str) -> dict[str, int]:
        """Requests the proxy *name* has seen since its last reset, by operation."""
        result: dict[str, int] = self._ask("operations", name)
        return result

    def cpu(self) -> float:
        """CPU seconds used so far by moto, OpenBao and the proxies together
        (from /proc; 0.0 where it is unavailable)."""
        pids = [process.pid for process, _ in self._children]
        if self.bao._process is not None:
            pids.append(self.bao._process.pid)
        return sum(_cpu_of(pid) for pid in pids if pid)

    def stop(self) -> None:
        for process, conn in reversed(self._children):
            try:
                conn.send(("stop", ""))
                if conn.poll(15):
                    conn.recv()
            except (OSError, EOFError):
                pass
            process.join(15)
            if process.is_alive():
                process.terminate()
                process.join(5)
        self._children.clear()
        self.bao.stop()
