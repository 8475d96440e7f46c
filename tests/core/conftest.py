"""Fixtures of the core's tests."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator

import pytest

from envsecrets import logs

Configure = Callable[[int], io.StringIO]


@pytest.fixture
def configure() -> Iterator[Configure]:
    """``logs.configure(verbosity)`` printing to a buffer; the root logger
    and the warnings hook restored after."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)

    def install(verbosity: int) -> io.StringIO:
        stream = io.StringIO()
        logs.configure(verbosity, stream=stream)
        return stream

    yield install
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(False)
