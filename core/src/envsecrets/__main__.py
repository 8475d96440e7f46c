"""``python -m envsecrets``: the command line."""

from envsecrets.cli import main

raise SystemExit(main())
