"""The lock that keeps a second process from writing to an open project."""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import stat
import sys
import time
from pathlib import Path

from dami_gui.core.project.errors import ProjectLocked, translate_error
from dami_gui.core.project.sidecars import refuse_link

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # a FIFO put there must not hang the open


class FileLock:
    """An exclusive lock on ``<project>.lock``, held while a process has the project open.

    The operating system drops the lock when the process dies (``flock`` / ``msvcrt.locking``),
    so a crash never leaves the project locked. The file holds the owner's process id and host
    for the message shown to a second opener. After locking, the path is checked to still name
    the locked file, so removing the lock file on release is safe.

    The file is never opened through a link (``O_NOFOLLOW``) and must be a plain file with one
    name, so a link put there cannot make dami overwrite a file elsewhere. A lock file left by
    another user that we may not write is locked read-only (the owner's name is then not written).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self, project: Path) -> None:
        while True:
            fd = self._open(project)
            if not _try_lock(fd):
                owner = _read_owner(fd)
                os.close(fd)
                raise ProjectLocked(
                    f"{project.name} is open in another dami window or command{owner}; close it "
                    "there first, or open a copy of the file."
                )
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except OSError:
                same = False
            if same:
                break
            os.close(fd)  # released and removed by its owner meanwhile: lock the new one
        with contextlib.suppress(OSError):  # a read-only lock file keeps the old owner's name
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()} {socket.gethostname()} {time.time():.0f}\n".encode())
        self._fd = fd

    def _open(self, project: Path) -> int:
        refuse_link(self.path, project)
        fd = -1
        for flags in (os.O_RDWR | os.O_CREAT, os.O_RDONLY):
            try:
                fd = os.open(self.path, flags | _NOFOLLOW | _CLOEXEC | _NONBLOCK, 0o644)
                break
            except OSError as error:
                if error.errno == errno.ELOOP:  # a link put there after the check
                    refuse_link(self.path, project)
                if flags == os.O_RDONLY or error.errno not in (errno.EACCES, errno.EPERM):
                    raise translate_error(error, project, "the project", "opened") from None
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
            os.close(fd)
            refuse_link(self.path, project)  # says which
            raise ProjectLocked(f"{self.path.name} is not a lock file; delete it and try again.")
        return fd

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        with contextlib.suppress(OSError):
            os.close(self._fd)  # closing drops the lock
        self._fd = None


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


def _read_owner(fd: int) -> str:
    try:
        text = os.pread(fd, 200, 0).decode("utf-8", "replace").split()
    except (OSError, AttributeError):
        return ""
    return f" (process {text[0]} on {text[1]})" if len(text) >= 2 else ""
