"""envsecrets provider for ``_file:NAME[:KEY]``: secrets kept as files.

``_file:NAME`` is the text of file NAME inside the directory named by
``ENVSECRETS_FILE_DIR`` (a literal secret); ``_file:NAME:KEY`` reads the file
as a JSON object and returns KEY. Docker and Kubernetes mount secrets this
way (``/run/secrets``).

An example of a third-party provider: it needs no server and no SDK.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path, PurePosixPath, PureWindowsPath

import envsecrets

__all__ = ["DIRECTORY_VARIABLE", "FileProvider", "envsecrets_providers"]

log = logging.getLogger(__name__)

#: The environment variable naming the secrets directory.
DIRECTORY_VARIABLE = "ENVSECRETS_FILE_DIR"

#: Largest secret file read; anything bigger is a mistake, not a secret.
MAX_BYTES = 1024 * 1024


class FileProvider(envsecrets.Provider):
    """Reads secrets from files in one directory; never outside it."""

    prefix = "file"
    description = f"Files in the directory ${DIRECTORY_VARIABLE} (_file:NAME[:KEY])."

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

    def _path_of(self, name: str) -> Path:
        """The file that NAME names, refusing any way out of the directory."""
        directory = self.environ.get(DIRECTORY_VARIABLE, "")
        if not directory:
            raise envsecrets.ProviderError(f"{DIRECTORY_VARIABLE} is not set")
        root = Path(directory).resolve()
        if not root.is_dir():
            raise envsecrets.ProviderError(f"{DIRECTORY_VARIABLE} is not a directory")
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
