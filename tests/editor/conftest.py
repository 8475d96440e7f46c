"""The role editor suite runs where envsecrets-editor and playwright are
installed (``tox -e editor``); elsewhere (``tox -e integration``) it is left
out rather than failing on imports."""

from __future__ import annotations

from importlib.util import find_spec

if find_spec("envsecrets_editor") is None or find_spec("playwright") is None:
    collect_ignore_glob = ["test_*.py"]
else:
    from tests.editor.support import (  # noqa: F401 - fixtures
        backends,
        browser,
        editor,
        page,
        recorder,
        roles_dir,
    )
