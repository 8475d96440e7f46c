"""``python -m envsecrets``: the command line."""

from envsecrets.entry import main

raise SystemExit(main())
