"""Logging of the command line: the handler envsecrets creates on stderr."""

from __future__ import annotations

import logging


def configure(verbosity: int) -> None:
    """Log warnings to stderr; with -v also progress, with -vv debugging."""
    if not verbosity:
        logging.basicConfig(level=logging.WARNING, format="envsecrets: %(message)s")
        return
    level = logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="envsecrets: %(levelname)s %(name)s: %(message)s")
