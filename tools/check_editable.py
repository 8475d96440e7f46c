"""Fail when an envsecrets distribution came from anywhere but this checkout:
every tox env must test the code in front of it.

- ``python tools/check_editable.py``: every envsecrets distribution installed
  is an editable install of the checkout (none came from an index).
- ``python tools/check_editable.py --wheels DIR``: every distribution of the
  checkout (``core``, ``plugins/*``) is installed from a wheel file in *DIR*
  (built by ``tools/install_wheels.py``), at that wheel's version, and no
  envsecrets distribution is editable or from an index.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import urllib.parse
import urllib.request
from importlib import metadata
from pathlib import Path

# Run as a script: its own folder is on sys.path.
from distributions import canonical, project_dirs, project_name


def check_editable() -> list[str]:
    listing = subprocess.run(
        [sys.executable, "-m", "pip", "list", "--exclude-editable", "--format=json"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    strays = [p["name"] for p in json.loads(listing) if p["name"].lower().startswith("envsecrets")]
    if strays:
        return [f"not editable installs of the checkout: {', '.join(strays)}"]
    return []


def _origin(dist: metadata.Distribution) -> tuple[Path | None, str]:
    """The local archive *dist* was installed from (PEP 610), or why there is none."""
    text = dist.read_text("direct_url.json")
    if text is None:
        return None, "from an index (no direct_url.json)"
    record = json.loads(text)
    if record.get("dir_info", {}).get("editable"):
        return None, "editable"
    url = urllib.parse.urlsplit(record.get("url", ""))
    if "archive_info" not in record or url.scheme != "file":
        return None, f"not from a local archive ({record.get('url', '?')})"
    return Path(urllib.request.url2pathname(url.path)).resolve(), ""


def check_wheels(wheel_dir: Path) -> list[str]:
    wheel_dir = wheel_dir.resolve()
    # name-version-...whl: names in wheel files have "_" for "-".
    built = {
        canonical(path.name.split("-")[0]): (path.name.split("-")[1], path)
        for path in wheel_dir.glob("*.whl")
    }
    expected = {project_name(project): project for project in project_dirs()}
    installed = {canonical(dist.metadata["Name"] or ""): dist for dist in metadata.distributions()}
    problems = []
    for name, project in sorted(expected.items()):
        if name not in built:
            problems.append(f"{name}: no wheel in {wheel_dir} (built from {project})")
        if name not in installed:
            problems.append(f"{name}: not installed")
    for name, dist in sorted(installed.items()):
        if not name.startswith("envsecrets"):
            continue
        source, why = _origin(dist)
        if source is None:
            problems.append(f"{name} {dist.version}: {why}, not a wheel from {wheel_dir}")
        elif source.parent != wheel_dir or not source.is_file():
            problems.append(f"{name} {dist.version}: installed from {source}, not from {wheel_dir}")
        elif name in built and built[name] != (dist.version, source):
            problems.append(f"{name} {dist.version}: not the wheel built ({built[name][1].name})")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--wheels",
        type=Path,
        metavar="DIR",
        help="require installs from the wheels in DIR instead of editable ones",
    )
    args = parser.parse_args(argv)
    problems = check_wheels(args.wheels) if args.wheels else check_editable()
    for problem in problems:
        print(problem, file=sys.stderr)
    if args.wheels and not problems:
        print(f"every envsecrets distribution comes from a wheel in {args.wheels}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
