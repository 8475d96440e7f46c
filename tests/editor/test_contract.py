"""envsecrets-editor against the core's contract for command plugins."""

from __future__ import annotations

from typing import ClassVar

import envsecrets_editor
from envsecrets.testing import CommandsContract


class TestEditorCommands(CommandsContract):
    commands_plugin: ClassVar[object] = envsecrets_editor
    command_arguments: ClassVar[dict[str, list[list[str]]]] = {
        "edit": [
            [],
            ["roles", "--no-browser", "--port", "0"],
            ["--host", "127.0.0.1", "--port", "8765"],
        ]
    }
