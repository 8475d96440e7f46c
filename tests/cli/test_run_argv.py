"""``run``'s command line read without argparse (envsecrets.cli.run_argv)
agrees with argparse's reading of every form it accepts, and leaves every
other form to argparse."""

from __future__ import annotations

import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envsecrets.cli import run_argv
from envsecrets.entry import _Defer, thin_parser

#: Words a command line is made of: every option of run (and forms of them
#: argparse reads differently: abbreviations, attached values), values,
#: numbers good and bad, separators and commands.
WORDS = (
    "-e",
    "-ef",
    "-e=f",
    "--env-file",
    "--env-file=f",
    "--env-file=",
    "--env",
    "--timeout",
    "--timeout=5",
    "--timeout=0",
    "--timeout=-1",
    "--timeout=inf",
    "--timeout=nan",
    "--time=3",
    "--no-agent",
    "--pristine",
    "--keep-credentials",
    "--allow-provider-settings",
    "-v",
    "-vv",
    "--verbose",
    "-h",
    "--",
    "-",
    "-5",
    "5",
    "0.5",
    "1e3",
    "x",
    "",
    "roles/pg.env",
    "psql",
    "-c",
    "=",
)


def argparse_reading(argv: list[str]) -> dict[str, object] | None:
    try:
        return vars(thin_parser("run").parse_args(argv))
    except _Defer:
        return None


@given(st.lists(st.sampled_from(WORDS), max_size=8))
def test_both_readings_agree(words: list[str]) -> None:
    argv = ["run", *words]
    quick = run_argv.parse(argv)
    if quick is not None:
        assert vars(quick) == argparse_reading(argv)


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--", "env"],
        ["run", "psql", "-c", "select 1"],
        ["run", "-e", "roles/pg.env", "--", "psql"],
        ["run", "--env-file=a.env", "-e", "b.env", "--timeout", "2.5", "--pristine", "--", "x"],
        ["run", "--keep-credentials", "--timeout=10", "--no-agent", "--", "x", "--", "-e"],
        ["run"],
    ],
)
def test_the_plain_forms_are_read_without_argparse(argv: list[str]) -> None:
    quick = run_argv.parse(argv)
    assert quick is not None
    assert vars(quick) == argparse_reading(argv)


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "-v", "--", "x"],
        ["run", "--pris", "--", "x"],  # argparse expands abbreviations
        ["run", "-eroles.env", "--", "x"],
        ["run", "--timeout", "0", "--", "x"],  # argparse reports it
        ["run", "--pristine", "--keep-credentials", "--", "x"],
        ["run", "--allow-provider-settings", "--", "x"],
        ["-v", "run", "--", "x"],
        ["resolve"],
    ],
)
def test_other_forms_are_left_to_argparse(argv: list[str]) -> None:
    assert run_argv.parse(argv) is None


def test_reading_a_plain_run_loads_no_argparse() -> None:
    import subprocess

    code = (
        "import sys; from envsecrets.cli import run_argv; "
        "assert run_argv.parse(['run', '-e', 'f', '--', 'x']) is not None; "
        "print(sorted(m for m in ('argparse', 'gettext', 'shutil', 'typing') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
