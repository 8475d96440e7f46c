"""envsecrets provider for ``_file:NAME[:KEY]``: secrets kept as files.

``_file:NAME`` is the text of file NAME inside the directory named by
``ENVSECRETS_FILE_DIR`` (a literal secret); ``_file:NAME:KEY`` reads the file
as a JSON object and returns KEY. Docker and Kubernetes mount secrets this
way (``/run/secrets``). ``envsecrets ls _file:PREFIX`` lists the files whose
names start with PREFIX, and ``envsecrets file-audit [PREFIX]`` those that
group or others may read.

An example of a third-party provider: it needs no server and no SDK.
"""

from __future__ import annotations

import argparse
import logging
import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath, PureWindowsPath

import envsecrets
from envsecrets.errors import escaped

__all__ = ["DIRECTORY_VARIABLE", "FileProvider", "envsecrets_commands", "envsecrets_providers"]

log = logging.getLogger(__name__)

#: The environment variable naming the secrets directory.
DIRECTORY_VARIABLE = "ENVSECRETS_FILE_DIR"

#: Largest secret file read; anything bigger is a mistake, not a secret.
MAX_BYTES = 1024 * 1024


class FileProvider(envsecrets.Provider):
    """Reads secrets from files in one directory; never outside it."""

    prefix = "file"
    description = f"Files in the directory ${DIRECTORY_VARIABLE} (_file:NAME[:KEY])."
    # Read from the process environment only: an env file cannot move the
    # directory. Naming a directory grants nothing, so it is no credential.
    settings = frozenset({DIRECTORY_VARIABLE})
    # Placeholders for the role editor: _file:app/db.json:password.
    name_hint = "app/db.json"
    key_hint = "password"

    def fetch(self, name: str) -> envsecrets.Document:
        path = self._path_of(name)
        log.debug("reading secret file %r", name)
        try:
            with path.open("rb") as stream:
                data = stream.read(MAX_BYTES + 1)
        except FileNotFoundError:
            raise envsecrets.SecretNotFound(f"no secret file {name!r}") from None
        except IsADirectoryError:
            raise envsecrets.ProviderError(f"secret {name!r} is a directory, not a file") from None
        except OSError as error:
            # strerror only: the OSError text repeats the path, nothing more useful.
            raise envsecrets.ProviderError(
                f"cannot read secret file {name!r}: {error.strerror or type(error).__name__}"
            ) from None
        if len(data) > MAX_BYTES:
            raise envsecrets.DocumentError(f"secret file {name!r} is larger than {MAX_BYTES} bytes")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise envsecrets.DocumentError(f"secret file {name!r} is not UTF-8 text") from None
        # Editors and `echo` end files with a newline that is not part of the secret.
        if text.endswith("\n"):
            text = text[:-1].removesuffix("\r")
        return text

    def list_names(self, prefix: str) -> Iterator[str]:
        """The files under the directory whose names start with *prefix*.

        Only names leave: no file is opened. The folder part of *prefix*
        obeys the rules of a NAME, so a listing never leaves the directory.
        """
        root = self._root()
        folder, _, _ = prefix.rpartition("/")
        start = self._inside(root, folder) if folder else root
        log.debug("listing secret files under %r", folder)
        # Checked above, walked lazily: the core stops reading at its limit.
        return self._walk(root, start, prefix)

    def _walk(self, root: Path, start: Path, prefix: str) -> Iterator[str]:
        for directory, subdirectories, files in os.walk(start):
            # Kubernetes keeps versions in "..data"-style folders that the
            # visible names link to: list each secret once.
            subdirectories[:] = sorted(d for d in subdirectories if not d.startswith(".."))
            for file in sorted(files):
                path = Path(directory, file)
                name = path.relative_to(root).as_posix()
                if name.startswith(prefix) and self._lists(root, path):
                    yield name

    def readable_by_others(self, name: str) -> bool:
        """Whether group or others may read the file NAME (links followed)."""
        mode = self._path_of(name).stat().st_mode
        return bool(stat.S_IMODE(mode) & (stat.S_IRGRP | stat.S_IROTH))

    @staticmethod
    def _lists(root: Path, path: Path) -> bool:
        """Whether a listed entry is a readable secret: a file inside root."""
        # Links are followed, as fetch follows them, and dropped when they
        # lead out of the directory or to no file.
        target = path.resolve()
        return target.is_relative_to(root) and target.is_file()

    def _root(self) -> Path:
        """The secrets directory, resolved."""
        directory = self.environ.get(DIRECTORY_VARIABLE, "")
        if not directory:
            raise envsecrets.ProviderError(f"{DIRECTORY_VARIABLE} is not set")
        root = Path(directory).resolve()
        if not root.is_dir():
            raise envsecrets.ProviderError(f"{DIRECTORY_VARIABLE} is not a directory")
        return root

    def _path_of(self, name: str) -> Path:
        """The file that NAME names, refusing any way out of the directory."""
        return self._inside(self._root(), name)

    @staticmethod
    def _inside(root: Path, name: str) -> Path:
        """The path NAME names under *root*, refusing any way out of it."""
        if PurePosixPath(name).is_absolute() or PureWindowsPath(name).anchor:
            raise envsecrets.ReferenceSyntaxError(f"secret name {name!r} is an absolute path")
        parts = name.replace("\\", "/").split("/")
        if any(part in ("", "..") for part in parts) or "\0" in name:
            raise envsecrets.ReferenceSyntaxError(
                f"secret name {name!r} must be a relative path without '..' or empty parts"
            )
        path = root.joinpath(*parts)
        # A symbolic link may point anywhere: follow it, then check where it landed.
        if not path.resolve().is_relative_to(root):
            raise envsecrets.ProviderError(
                f"secret file {name!r} leads out of {DIRECTORY_VARIABLE}"
            )
        return path


@envsecrets.hookimpl
def envsecrets_providers() -> Sequence[type[envsecrets.Provider]]:
    """Register the ``_file`` provider."""
    return [FileProvider]


# -- a command: envsecrets file-audit ---------------------------------------------


def configure_audit(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``envsecrets file-audit``."""
    parser.description = (
        f"List the secret files under ${DIRECTORY_VARIABLE} (whose names start with "
        "NAME_PREFIX) that group or others may read; exit 1 if there is any."
    )
    parser.add_argument("prefix", nargs="?", default="", metavar="NAME_PREFIX")


def audit(args: argparse.Namespace, context: envsecrets.CommandContext) -> int:
    """Print each secret file readable beyond its owner, never its content."""
    # The resolver `envsecrets ls` uses: settings from the process
    # environment, ENVSECRETS_PLUGINS honoured. Its errors (the directory
    # unset, a name leaving it) are printed by envsecrets with their exit codes.
    with context.resolver() as resolver:
        provider = resolver.provider(FileProvider.prefix)
        assert isinstance(provider, FileProvider)
        names = resolver.list_names(FileProvider.prefix, args.prefix).names
        exposed = [name for name in names if provider.readable_by_others(name)]
    for name in exposed:
        print(escaped(name))  # a file name may hold a terminal escape
    if exposed:
        context.error(f"{len(exposed)} secret file(s) readable by group or others: chmod 600")
        return context.EXIT_FAILURE
    return context.EXIT_OK


@envsecrets.hookimpl
def envsecrets_commands() -> Sequence[envsecrets.Command]:
    """Add ``envsecrets file-audit``."""
    return [
        envsecrets.Command(
            "file-audit",
            "list secret files that group or others may read",
            configure_audit,
            audit,
            context=True,
        )
    ]
