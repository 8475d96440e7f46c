"""The kit hears a provider's records alone: no other handler keeps or
prints them (they may quote the values the kit is looking for)."""

from __future__ import annotations

import io
import logging
import uuid

from envsecrets.testing._leaks import capture_logs


def test_the_kit_alone_hears_the_records_of_the_action() -> None:
    name = f"kitsdk{uuid.uuid4().hex[:8]}"
    wire = logging.getLogger(f"{name}.wire")  # a server's own stream handler
    wire_stream, root_stream = io.StringIO(), io.StringIO()
    wire_handler, root_handler = (
        logging.StreamHandler(wire_stream),
        logging.StreamHandler(root_stream),
    )
    wire.propagate = False
    wire.setLevel(logging.WARNING)
    wire.addHandler(wire_handler)
    logging.root.addHandler(root_handler)  # pytest's capture, a CLI handler
    try:

        def act() -> str:
            wire.debug("body %s", "sentinel-wire-6b1f")
            logging.getLogger(name).debug("body %s", "sentinel-root-2c7e")
            return "done"

        result, records = capture_logs(act)
    finally:
        logging.root.removeHandler(root_handler)
    assert result == "done"
    assert {record.getMessage() for record in records} >= {
        "body sentinel-wire-6b1f",
        "body sentinel-root-2c7e",
    }
    assert wire_stream.getvalue() == root_stream.getvalue() == ""
    # Restored after the action.
    assert wire.handlers == [wire_handler]
    assert root_handler not in logging.root.handlers
    assert wire.level == logging.WARNING
    wire.warning("after")
    assert wire_stream.getvalue() == "after\n"
