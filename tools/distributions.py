"""The envsecrets distributions of this checkout: the core and every plugin
folder with a ``pyproject.toml`` (a plugin added later is picked up as it
appears). Shared by the build and check tools; standard library only, and
Python 3.10 (no tomllib).
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_NAME = re.compile(r'^name\s*=\s*"([^"]+)"', re.MULTILINE)


def canonical(name: str) -> str:
    """A distribution name as PEP 503 compares them (``envsecrets_aws`` = ``envsecrets-aws``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def project_dirs(root: Path = ROOT) -> list[Path]:
    """The folders that build a distribution: ``core`` first, then ``plugins/*``."""
    plugins = sorted(path.parent for path in (root / "plugins").glob("*/pyproject.toml"))
    return [root / "core", *plugins]


def project_name(project: Path) -> str:
    """The canonical ``[project] name`` of the distribution built from *project*."""
    text = (project / "pyproject.toml").read_text(encoding="utf-8")
    section = text.split("[project]", 1)[1] if "[project]" in text else text
    match = _NAME.search(section)
    if match is None:
        raise SystemExit(f"{project}/pyproject.toml has no [project] name")
    return canonical(match.group(1))
