"""Output safety: ``resolve -o`` files are private and atomic, and ``run``
hands secrets to its child only through the environment."""

from __future__ import annotations

import json
import os
import resource
import signal
import stat
import threading
from pathlib import Path

from envsecrets.formats import write_private
from tests.conftest import SENTINEL, assert_no_sentinel
from tests.faults.conftest import marker_command, run_cli

CONFIG = json.dumps({"password": SENTINEL + "-out", "big": SENTINEL + "z" * 100_000})
ENV = {"CONFIG": CONFIG, "PASS": "_envjson:CONFIG:password", "BIG": "_envjson:CONFIG:big"}


def test_a_concurrent_reader_never_sees_a_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "secrets.env"
    versions = [f'A="{n}{"x" * 200_000}"\n' for n in range(4)]
    write_private(target, versions[0])
    stop = threading.Event()
    seen: list[str] = []

    def read() -> None:
        while not stop.is_set():
            seen.append(target.read_text())

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for round_ in range(200):
            write_private(target, versions[round_ % len(versions)])
    finally:
        stop.set()
        reader.join()
    assert len(seen) > 10
    assert all(text in versions for text in seen), "a reader saw a partial file"
    assert [p.name for p in tmp_path.iterdir()] == ["secrets.env"]


def test_umask_000_still_gives_0600(tmp_path: Path) -> None:
    target = tmp_path / "out.env"
    result = run_cli("resolve", "-o", str(target), env=ENV, cwd=tmp_path, umask=0)
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    # Replacing an existing world-readable file gives 0600 too.
    target.chmod(0o666)
    result = run_cli("resolve", "-o", str(target), env=ENV, cwd=tmp_path, umask=0)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def _small_file_limit() -> None:
    # The write fails with EFBIG once the file passes 4 KiB (SIGXFSZ ignored,
    # so the process gets the error instead of dying).
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))


def test_a_failed_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    target = out / "secrets.env"
    target.write_text("old\n")
    result = run_cli(
        "resolve", "-o", str(target), env=ENV, cwd=tmp_path, preexec_fn=_small_file_limit
    )
    assert result.returncode == 1
    assert "cannot write" in result.stderr
    assert "Traceback" not in result.stderr
    assert_no_sentinel(result.stdout, result.stderr)
    assert sorted(p.name for p in out.iterdir()) == ["secrets.env"], "temporary file left behind"
    assert target.read_text() == "old\n", "the old file was damaged"
    # Renaming over a directory fails after the data was written: same guarantee.
    directory = out / "a-directory"
    directory.mkdir()
    result = run_cli("resolve", "-o", str(directory), env=ENV, cwd=tmp_path)
    assert result.returncode == 1
    assert sorted(p.name for p in out.iterdir()) == ["a-directory", "secrets.env"]


def test_run_passes_secrets_only_through_the_environment(tmp_path: Path) -> None:
    marker = tmp_path / "started"
    command = marker_command(marker)
    result = run_cli("run", "--", *command, "--flag", "$PASS", env=ENV, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    child = json.loads(result.stdout)
    assert child["env"]["PASS"] == SENTINEL + "-out"
    assert child["env"]["BIG"] == SENTINEL + "z" * 100_000
    # The child's arguments are exactly the user's, with no value expanded.
    assert child["argv"] == ["-c", str(marker), "--flag", "$PASS"]
    assert child["cmdline"].split("\0")[:1] == [command[0]]
    assert_no_sentinel(json.dumps(child["argv"]), child["cmdline"], result.stderr)
    # envsecrets replaced itself with the child (exec, no shell, no wrapper
    # process holding the values).
    assert os.path.basename(child["cmdline"].split("\0")[0]).startswith("python")
