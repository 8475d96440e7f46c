"""Fail when an envsecrets distribution was installed from an index instead
of this checkout: every tox env must test the code in front of it."""

from __future__ import annotations

import json
import subprocess
import sys


def main() -> int:
    listing = subprocess.run(
        [sys.executable, "-m", "pip", "list", "--exclude-editable", "--format=json"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    strays = [p["name"] for p in json.loads(listing) if p["name"].lower().startswith("envsecrets")]
    if strays:
        print(f"installed from an index, not the checkout: {', '.join(strays)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
