"""Build every envsecrets distribution of this checkout as users get it, and
install the results (not editable) into the running interpreter's
environment: ``python tools/install_wheels.py OUTDIR``.

Each folder goes through ``python -m build --no-isolation`` (the backend,
hatchling, must be installed): an sdist first, then the wheel built *from
that sdist*, so a file missing from either fails here or in the
tests that follow. Any envsecrets distribution already installed (an
editable one, or a wheel of an earlier run with the same version) is removed
first: what the tests import is what was just built. The distributions'
dependencies come from the index as usual; the envsecrets ones never do
(``tools/check_editable.py --wheels OUTDIR`` checks it afterwards).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

# Run as a script: its own folder is on sys.path.
from distributions import canonical, project_dirs


def build(project: Path, outdir: Path) -> None:
    """Build the sdist of *project*, then its wheel from the sdist, into *outdir*."""
    print(f"building {project.name}", flush=True)
    # --no-isolation: the backend (hatchling) is installed in this
    # environment once, not downloaded into a fresh one for every build.
    command = [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(outdir)]
    subprocess.run([*command, str(project)], check=True)


def installed() -> list[str]:
    """Names of the envsecrets distributions in this environment."""
    names = {canonical(dist.metadata["Name"] or "") for dist in metadata.distributions()}
    return sorted(name for name in names if name.startswith("envsecrets"))


def pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", *args], check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path, help="where the sdists and wheels go (emptied first)")
    args = parser.parse_args(argv)
    outdir: Path = args.outdir.resolve()
    shutil.rmtree(outdir, ignore_errors=True)
    outdir.mkdir(parents=True)
    for project in project_dirs():
        build(project, outdir)
    wheels = sorted(str(path) for path in outdir.glob("*.whl"))
    stale = installed()
    if stale:
        pip("uninstall", "--yes", *stale)
    # Every wheel in one command: the plugins' requirement on envsecrets is
    # met by the core wheel given here, never looked up on the index.
    pip("install", *wheels)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
