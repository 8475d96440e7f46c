"""The roles folder on disk: safe names, safe opens, atomic changes.

Role files are written by other people, so the folder is read as hostile:

- a file is opened with ``O_NOFOLLOW`` relative to the folder's own
  descriptor, and the *opened descriptor* is checked (``fstat``): a regular
  file with one link. A symbolic link (a loop too), a FIFO or a hard link to
  a file elsewhere is refused with a message, never followed, so a race
  between a check and an open cannot show another file's content;
- saving, renaming and deleting are atomic and refuse when the file changed
  since the page was built (its keyed version differs).
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from envsecrets.errors import EnvsecretsError
from envsecrets.formats import write_private
from envsecrets_editor.rolefile import RoleError, RoleFile

#: A role name: a safe file name, without path separators or leading dot.
ROLE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
#: Most bytes a role file may hold (a role is a few hundred bytes).
MAX_FILE = 1 << 20
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


class ChangedOnDisk(RoleError):
    """The file is not the one the page was built from."""


def check_name(name: str) -> None:
    """:raise RoleError: unless *name* is a safe role name."""
    if not ROLE_NAME.fullmatch(name) or ".." in name:
        raise RoleError(
            f"role name {name[:80]!r} refused: use letters, digits, '.', '_' and '-' "
            "(no '/', no '..', not starting with '.'), at most 64 characters"
        )


class RoleDirectory:
    """The roles of one folder; no name, link or hard link leads out of it."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve(strict=True)

    def path(self, name: str) -> Path:
        """The file of role *name* (the name checked, the file not read).

        :raise RoleError: for an unsafe name.
        """
        check_name(name)
        return self.root / f"{name}.env"

    @contextmanager
    def _folder(self) -> Iterator[int]:
        descriptor = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
        try:
            yield descriptor
        finally:
            os.close(descriptor)

    def _read_at(self, folder: int, filename: str) -> tuple[str | None, int | None]:
        """(text, inode) of *filename* in *folder*; (None, None) when absent.

        :raise RoleError: for a link, a special file, a hard link or bad text.
        """
        try:
            descriptor = os.open(filename, _OPEN_FLAGS, dir_fd=folder)
        except FileNotFoundError:
            return None, None
        except OSError as error:
            if error.errno in (errno.ELOOP, errno.EMLINK):
                raise RoleError(f"{filename} refused: it is a symbolic link") from None
            raise RoleError(f"cannot read {filename}: {error.strerror}") from None
        try:
            info = os.fstat(descriptor)
            if not stat.S_ISREG(info.st_mode):
                raise RoleError(f"{filename} refused: it is not a regular file")
            if info.st_nlink != 1:
                raise RoleError(
                    f"{filename} refused: it has {info.st_nlink} hard links (another name "
                    "could be a file outside this folder)"
                )
            if info.st_size > MAX_FILE:
                raise RoleError(f"{filename} refused: larger than {MAX_FILE} bytes")
            data = os.read(descriptor, MAX_FILE + 1)
        finally:
            os.close(descriptor)
        try:
            return data.decode("utf-8"), info.st_ino
        except UnicodeDecodeError:
            raise RoleError(f"{filename} is not valid UTF-8") from None

    def read(self, name: str) -> RoleFile:
        """Read role *name* (an absent file reads as ``text=None``)."""
        path = self.path(name)
        with self._folder() as folder:
            text, _ = self._read_at(folder, path.name)
        return RoleFile(name, path, text)

    def names(self) -> tuple[list[RoleFile], list[str]]:
        """(the roles, notes on the ``*.env`` files that are not shown)."""
        entries: list[RoleFile] = []
        notes: list[str] = []
        for filename in sorted(os.listdir(self.root)):
            if not filename.endswith(".env"):
                continue
            name = filename[: -len(".env")]
            try:
                role = self.read(name)
            except RoleError as error:
                notes.append(str(error))
                continue
            if role.exists:  # not removed since the listing
                entries.append(role)
        return entries, notes

    def write(self, role: RoleFile, text: str, expected: Callable[[str | None], bool]) -> None:
        """Replace the file of *role* with *text* (atomically, mode 0600)
        when ``expected(current text)`` holds.

        :raise ChangedOnDisk: when it does not.
        """
        current = self.read(role.name)
        if not expected(current.text):
            raise ChangedOnDisk(role.path.name)
        try:
            write_private(role.path, text)
        except EnvsecretsError as error:
            raise RoleError(str(error)) from None

    def rename(self, name: str, new_name: str, expected: Callable[[str | None], bool]) -> None:
        """Give role *name* the name *new_name*; never replaces a file.

        :raise ChangedOnDisk: when the file is not the expected one.
        :raise RoleError: when *new_name* exists or is unsafe.
        """
        self.path(new_name)
        self._move_checked(name, expected, f"{new_name}.env")

    def delete(self, name: str, expected: Callable[[str | None], bool]) -> None:
        """Delete role *name* when it is the expected file.

        :raise ChangedOnDisk: when it is not.
        """
        self._move_checked(name, expected, None)

    def _move_checked(
        self, name: str, expected: Callable[[str | None], bool], target: str | None
    ) -> None:
        # Take the file away under a private name first (one atomic rename),
        # then check what was taken: a writer that replaced it after the
        # page was built is caught, and its file is put back.
        filename = self.path(name).name
        aside = f".{filename}.{secrets.token_hex(6)}.moving"
        with self._folder() as folder:
            try:
                os.rename(filename, aside, src_dir_fd=folder, dst_dir_fd=folder)
            except FileNotFoundError:
                raise ChangedOnDisk(filename) from None
            except OSError as error:
                raise RoleError(f"cannot change {filename}: {error.strerror}") from None
            try:
                text, _ = self._read_at(folder, aside)
                if text is None or not expected(text):
                    raise ChangedOnDisk(filename)
                if target is not None:
                    try:
                        # link(2) never replaces: an existing target fails.
                        os.link(aside, target, src_dir_fd=folder, dst_dir_fd=folder)
                    except FileExistsError:
                        raise RoleError(f"{target} exists already: choose another name") from None
                os.unlink(aside, dir_fd=folder)
            except BaseException:
                self._put_back(folder, aside, filename)
                raise

    @staticmethod
    def _put_back(folder: int, aside: str, filename: str) -> None:
        try:
            os.link(aside, filename, src_dir_fd=folder, dst_dir_fd=folder)
        except FileExistsError:
            # A new file took the name meanwhile: keep both, the old one
            # under its private name, rather than lose either.
            return
        except FileNotFoundError:
            return
        os.unlink(aside, dir_fd=folder)
