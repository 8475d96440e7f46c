"""The README's test command: prepare what the suite needs, then run tox.

``python3 tools/test.py [TOX ARGS...]`` (``.ci/run`` runs exactly this):

1. installs tox (``pip install 'tox>=4.11'``) into ``.tox/.runner``, a
   virtualenv of its own (no system Python is touched);
2. asks tox which environments the arguments select (``tox config``) and what
   they need: each ``base_python`` (``py310`` ... ``py313``) and the label
   ``browser`` (the editor's Playwright tests);
3. finds each interpreter on PATH or among pyenv's builds (``$PYENV_ROOT`` or
   ``~/.pyenv``, ``versions/X.Y.*``, which need not be on PATH) and links it
   into ``.tox/.pythons``, put first on tox's PATH;
4. finds Chromium (``ENVSECRETS_CHROMIUM``, ``/usr/bin/chromium``, PATH) and,
   as root with apt-get and none found, installs Debian's ``chromium``;
5. if anything is still missing, prints one message saying what and how to
   get it, and exits 2 having run nothing; else runs tox with the arguments
   (no subcommand given: ``tox run-parallel``, see tox.ini).

Standard library only: it runs before anything is installed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNNER = ROOT / ".tox" / ".runner"
PYTHONS = ROOT / ".tox" / ".pythons"
TOX_REQUIREMENT = "tox>=4.11"
BIN = "Scripts" if os.name == "nt" else "bin"

#: tox options that select environments, and whether they take several values.
SELECTION_OPTIONS = {"-e": False, "--env": False, "-m": True, "-f": True, "--skip-env": False}
#: the subcommand used when the arguments name none.
DEFAULT_COMMAND = ["run-parallel"]
TOX_COMMANDS = {
    "run", "r", "run-parallel", "p", "depends", "de", "list", "l", "devenv", "d",
    "config", "c", "quickstart", "q", "exec", "e", "legacy", "le", "schema",
}  # fmt: skip
#: subcommands that run no environment: nothing to prepare but tox itself.
INSPECTING = {"list", "l", "config", "c", "depends", "de", "quickstart", "q", "schema"}
#: apt-get's package and the names a Chromium goes by.
CHROMIUM_PACKAGE = "chromium"
CHROMIUM_NAMES = ("chromium", "chromium-browser")


def say(text: str) -> None:
    print(f"tools/test.py: {text}", file=sys.stderr, flush=True)


def runner_python() -> Path:
    return RUNNER / BIN / ("python.exe" if os.name == "nt" else "python")


def tox_ready() -> bool:
    """Whether the runner's tox exists and satisfies TOX_REQUIREMENT."""
    if not runner_python().exists():
        return False
    # Compare numerically: 4.9 < 4.11.
    check = (
        "import sys, tox; v = tuple(int(p) for p in tox.__version__.split('.')[:2]);"
        " sys.exit(0 if v >= (4, 11) else 1)"
    )
    return (
        subprocess.run([runner_python(), "-c", check], check=False, capture_output=True).returncode
        == 0
    )


def install_tox() -> str | None:
    """Make the runner virtualenv hold tox; an explanation when that fails."""
    if tox_ready():
        return None
    say(f"installing {TOX_REQUIREMENT} into {RUNNER.relative_to(ROOT)}")
    made = subprocess.run(
        [sys.executable, "-m", "venv", "--clear", str(RUNNER)],
        check=False,
        capture_output=True,
        text=True,
    )
    if made.returncode != 0:
        return (
            f"tox: `{sys.executable} -m venv` failed ({last_line(made.stderr)}); on Debian"
            f" `apt-get install python3-venv`, or run this script with another Python"
        )
    pip = [str(runner_python()), "-m", "pip", "install", "--quiet", TOX_REQUIREMENT]
    installed = subprocess.run(pip, check=False, capture_output=True, text=True)
    if installed.returncode != 0:
        return (
            f"tox: `pip install '{TOX_REQUIREMENT}'` failed ({last_line(installed.stderr)});"
            " check the network or pip's index settings"
        )
    return None


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def split_args(args: list[str]) -> tuple[list[str], list[str]]:
    """The tox command line for *args*, and its environment-selection options."""
    command = args if args and args[0] in TOX_COMMANDS else [*DEFAULT_COMMAND, *args]
    selection: list[str] = []
    tokens = command[1:]
    index = 0
    while index < len(tokens) and tokens[index] != "--":
        token = tokens[index]
        index += 1
        if token in SELECTION_OPTIONS:
            selection.append(token)
            # -m and -f take several values, -e one (comma-separated).
            takes = len(tokens) if SELECTION_OPTIONS[token] else index + 1
            while index < min(takes, len(tokens)) and not tokens[index].startswith("-"):
                selection.append(tokens[index])
                index += 1
        elif token.split("=", 1)[0] in SELECTION_OPTIONS or re.match(r"-[emf]\w", token):
            selection.append(token)  # --env=NAME, -eNAME
    return command, selection


def selected_needs(selection: list[str]) -> dict[str, dict[str, str]]:
    """``{env: {"base_python": ..., "labels": ...}}`` for the envs tox would run."""
    shown = subprocess.run(
        [runner_python(), "-m", "tox", "config", *selection, "-k", "base_python", "labels"],
        check=False,
        cwd=ROOT,
        env={**os.environ, "NO_COLOR": "1"},
        capture_output=True,
        text=True,
    )
    if shown.returncode != 0:
        sys.stderr.write(shown.stdout + shown.stderr)
        raise SystemExit(shown.returncode)
    envs: dict[str, dict[str, str]] = {}
    current: dict[str, str] = {}
    key = ""
    for line in shown.stdout.splitlines():
        header = re.fullmatch(r"\[testenv:(.+)\]", line.strip())
        if header:
            current = envs.setdefault(header.group(1), {})
        elif line[:1].isspace() and key:
            current[key] = f"{current[key]} {line.strip()}".strip()  # a list, one per line
        elif "=" in line:
            key, _, value = line.partition("=")
            key = key.strip()
            current[key] = value.strip()
    return envs


def python_version(spec: str) -> str | None:
    """``3.10`` for ``py310``, ``python3.10`` or ``3.10``; None for anything else."""
    match = re.fullmatch(r"(?:py|python)?3\.?(\d+)", spec.strip())
    return f"3.{match.group(1)}" if match else None


def runs(executable: str | Path, version: str) -> bool:
    """Whether *executable* starts and is Python *version* (pyenv's shims may not)."""
    probe = "import sys; print('%d.%d' % sys.version_info[:2])"
    try:
        done = subprocess.run(
            [executable, "-c", probe], check=False, capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and done.stdout.strip() == version


def pyenv_builds(version: str) -> list[Path]:
    """pyenv's builds of *version*, newest patch release first."""
    roots = [Path(os.environ["PYENV_ROOT"])] if os.environ.get("PYENV_ROOT") else []
    roots.append(Path.home() / ".pyenv")
    found: list[tuple[tuple[int, ...], Path]] = []
    for root in dict.fromkeys(roots):
        try:
            folders = list((root / "versions").glob(f"{version}.*"))
        except OSError:  # another user's pyenv (PYENV_ROOT inherited), unreadable
            continue
        for folder in folders:
            patch = folder.name[len(version) + 1 :]
            executable = folder / BIN / f"python{version}"
            if patch.isdigit() and executable.exists():
                found.append(((int(patch),), executable))
    return [path for _, path in sorted(found, reverse=True)]


def find_python(version: str) -> Path | None:
    """An interpreter of *version*: PATH's ``pythonX.Y`` first, then pyenv's."""
    on_path = shutil.which(f"python{version}")
    candidates = [Path(on_path)] if on_path else []
    for candidate in [*candidates, *pyenv_builds(version)]:
        if runs(candidate, version):
            return candidate
    return None


def link_pythons(found: dict[str, Path]) -> None:
    """``.tox/.pythons/pythonX.Y`` for each interpreter found, for tox's discovery."""
    shutil.rmtree(PYTHONS, ignore_errors=True)
    PYTHONS.mkdir(parents=True)
    for version, executable in found.items():
        (PYTHONS / f"python{version}").symlink_to(executable)


def find_chromium() -> str | None:
    named = os.environ.get("ENVSECRETS_CHROMIUM")
    if named:
        return named if os.access(named, os.X_OK) else None
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def install_chromium() -> str | None:
    """Install Debian's chromium when root with apt-get; what went wrong otherwise."""
    if not can_install_chromium() or os.environ.get("ENVSECRETS_CHROMIUM"):
        return None
    say(f"installing Debian's {CHROMIUM_PACKAGE} for the editor's browser tests (apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update", "-q"],
        ["apt-get", "install", "-q", "-y", "--no-install-recommends", CHROMIUM_PACKAGE],
    ):
        done = subprocess.run(command, env=env, check=False, capture_output=True, text=True)
        if done.returncode != 0:
            return f"`{' '.join(command)}` failed: {last_line(done.stderr or done.stdout)}"
    return None


def chromium_advice(failure: str | None, tried: bool) -> str:
    """How to get a Chromium, after *failure* (None: no attempt failed)."""
    named = os.environ.get("ENVSECRETS_CHROMIUM")
    if named:
        return f"ENVSECRETS_CHROMIUM={named} is not an executable file; point it at a Chromium"
    if can_install_chromium() and not tried:
        return "this script installs Debian's chromium with apt-get once the above is there"
    how = (
        "as root `apt-get install chromium` (Debian; Ubuntu: chromium-browser), or set"
        " ENVSECRETS_CHROMIUM=/path/to/chromium (any Chromium or Chrome binary)"
    )
    return f"{failure}; {how}" if failure else how


def python_advice(version: str) -> str:
    return (
        f"put python{version} on PATH or install it with pyenv (`pyenv install {version}`;"
        " it need not be on PATH: ~/.pyenv/versions is searched)"
    )


def can_install_chromium() -> bool:
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    return is_root and shutil.which("apt-get") is not None


def find_pythons(envs: dict[str, dict[str, str]]) -> tuple[dict[str, Path], list[str]]:
    """The interpreter of each version *envs* need, and what is missing."""
    wanted: dict[str, list[str]] = {}
    for name, config in envs.items():
        version = python_version(config.get("base_python", ""))
        if version:
            wanted.setdefault(version, []).append(name)
    found: dict[str, Path] = {}
    missing: list[str] = []
    for version, names in sorted(wanted.items()):
        executable = find_python(version)
        if executable is None:
            missing.append(f"Python {version} (for {brief(names)}): {python_advice(version)}")
        else:
            found[version] = executable
    return found, missing


def main(argv: list[str]) -> int:
    command, selection = split_args(argv)
    problem = install_tox()
    if problem:
        report([problem], command, [])
        return 2
    options = command[: command.index("--")] if "--" in command else command
    if command[0] in INSPECTING or {"-h", "--help"} & set(options):
        return run_tox(command, {}, None)
    envs = selected_needs(selection)
    found, missing = find_pythons(envs)
    browser_envs = [
        name for name, config in envs.items() if "browser" in config.get("labels", "").split()
    ]
    chromium = find_chromium() if browser_envs else None
    if browser_envs and chromium is None:
        # Install nothing while something else keeps the suite from running.
        tried = not missing
        failure = install_chromium() if tried else None
        chromium = find_chromium()
        if chromium is None:
            advice = chromium_advice(failure, tried)
            missing.append(f"Chromium (for {brief(browser_envs)}): {advice}")
    if missing:
        runnable = [
            name
            for name, config in envs.items()
            if python_version(config.get("base_python", "")) in (*found, None)
            and (chromium or name not in browser_envs)
        ]
        report(missing, command, runnable)
        return 2
    return run_tox(command, found, chromium)


def run_tox(command: list[str], found: dict[str, Path], chromium: str | None) -> int:
    """Run tox with the interpreters found first on PATH and the Chromium found."""
    link_pythons(found)
    env = {**os.environ, "PATH": os.pathsep.join([str(PYTHONS), os.environ.get("PATH", "")])}
    for version, executable in sorted(found.items()):
        say(f"python{version}: {executable}")
    if chromium:
        env["ENVSECRETS_CHROMIUM"] = chromium
        say(f"chromium: {chromium}")
    say(f"tox {' '.join(command)}")
    tox = [str(runner_python()), "-m", "tox", *command]
    return subprocess.run(tox, check=False, cwd=ROOT, env=env).returncode


def brief(names: list[str]) -> str:
    shown = ", ".join(names[:4])
    return shown if len(names) <= 4 else f"{shown} and {len(names) - 4} more"


def report(missing: list[str], command: list[str], runnable: list[str]) -> None:
    """The one message: what is missing, how to get it, and what could run now."""
    lines = [f"cannot run `tox {' '.join(command)}`: this machine lacks"]
    lines += [f"  - {item}" for item in missing]
    lines.append("Nothing was run. Fix the above and run `python3 tools/test.py` again.")
    if runnable:
        lines.append(
            f"Meanwhile this machine can run: python3 tools/test.py -e {','.join(runnable)}"
        )
    say("\n".join(lines))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
