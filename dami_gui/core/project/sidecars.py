"""The files a project keeps beside itself, made and read without ever reaching outside its folder.

Beside ``p.dami`` live its lock (``p.dami.lock``), SQLite's write-ahead log and index
(``p.dami-wal``, ``p.dami-shm``, ``p.dami-journal``), the backup made before a migration
(``p.dami.v1.bak``) and hidden temporary files. Anyone who can write to the folder can put a
link there under one of these names, so:

* every file dami makes itself is created new (``O_CREAT | O_EXCL | O_NOFOLLOW``) under a name
  nobody can guess, and given its final name with :func:`publish` (a hard link that never
  replaces anything, so never a file elsewhere);
* :func:`check_sidecars` refuses a project whose SQLite files are links or second names of
  another file, before SQLite opens (and would follow) them;
* :func:`reader_plan` says how a read-only opener reads without leaving behind files that the
  owner cannot use: through the log when it is there, never around it (see docs/project-files.md).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import stat
import tempfile
from pathlib import Path

from dami_gui.core.project.errors import ProjectError, ProjectReadOnly

#: SQLite's own files beside a database: the write-ahead log, its index, the rollback journal.
SQLITE_SIDECARS = ("-wal", "-shm", "-journal")
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_BINARY = getattr(os, "O_BINARY", 0)


def sidecar(project: Path, suffix: str) -> Path:
    """The file ``suffix`` beside ``project`` (e.g. "-wal", ".lock")."""
    return project.with_name(project.name + suffix)


def refuse_link(path: Path, project: Path) -> None:
    """Raise :class:`ProjectError` when ``path`` is a link, a second name, or not a plain file.

    A missing ``path`` is fine. The message names the file and says that deleting it is safe.
    """
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as error:
        raise ProjectError(
            f"{path.name} beside {project.name} cannot be checked ({error.strerror or error}); "
            "check access to the folder."
        ) from None
    if stat.S_ISLNK(info.st_mode):
        what = "a link to another file"
    elif not stat.S_ISREG(info.st_mode):
        what = "not an ordinary file"
    elif info.st_nlink > 1:
        what = "a second name of another file (a hard link)"
    else:
        return
    raise ProjectError(
        f"{path.name} beside {project.name} is {what}, which dami does not follow; delete "
        f"{path.name} itself and try again (nothing was changed)."
    )


def check_sidecars(project: Path) -> None:
    """Refuse ``project`` if one of SQLite's files beside it is a link (see :func:`refuse_link`)."""
    for suffix in SQLITE_SIDECARS:
        refuse_link(sidecar(project, suffix), project)


def create_new(path: Path, mode: int = 0o644) -> int:
    """Create ``path``, which must not exist (not even as a link), and open it for writing."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC | _BINARY
    return os.open(path, flags, mode)


def temp_name(path: Path, suffix: str = ".tmp") -> Path:
    """A hidden name beside ``path`` that nobody can guess beforehand."""
    return path.with_name(f".{path.name}.{secrets.token_hex(8)}{suffix}")


def new_temp(path: Path, mode: int = 0o644) -> Path:
    """An empty new file under :func:`temp_name` (so a link put there is never written through)."""
    temp = temp_name(path)
    os.close(create_new(temp, mode))
    return temp


def publish(temp: Path, path: Path) -> None:
    """Give the finished ``temp`` the name ``path`` without replacing anything there.

    Raises ``FileExistsError`` when ``path`` exists, even as a (dangling) link.
    """
    try:
        os.link(temp, path)  # never replaces ``path``, even a dangling link there
    except FileExistsError:
        raise
    except OSError:  # a file system without hard links
        if os.path.lexists(path):
            raise FileExistsError(path) from None
        os.rename(temp, path)
        return
    temp.unlink()


def publish_free(temp: Path, names: list[Path]) -> Path:
    """:func:`publish` ``temp`` under the first of ``names`` that is free; returns that name."""
    for name in names:
        try:
            publish(temp, name)
            return name
        except FileExistsError:
            continue
    raise FileExistsError(names[-1])


# ------------------------------------------------------------------------------ reading


def wal_has_data(project: Path) -> bool:
    """Whether changes may be waiting in ``project``'s write-ahead log (a non-empty ``-wal``)."""
    try:
        return os.lstat(sidecar(project, "-wal")).st_size > 0
    except OSError:
        return False


def _creates_usable_files(project: Path) -> bool:
    """Whether files SQLite creates beside ``project`` here will be of use to its owner.

    SQLite gives a new ``-wal``/``-shm`` the database's permissions; it makes the owner's the
    owner only when running as root. So only the owner (or root) in a writable folder may let
    SQLite create them.
    """
    if not os.access(project.parent, os.W_OK):
        return False
    geteuid = getattr(os, "geteuid", None)
    if geteuid is None:  # Windows: no owners to mismatch
        return True
    try:
        return geteuid() in (0, project.stat().st_uid)
    except OSError:
        return False


def reader_plan(project: Path) -> str:
    """How a read-only opener reads ``project``: all saved changes, and nothing left behind.

    * "immutable": no log, so the file alone is complete: read without locks and without
      creating anything; a writer starting meanwhile is noticed by :func:`stamp` and the read
      refused, never mixed up.
    * "shared": SQLite's read-only mode, through the log (with its index there, nothing is
      created; else the index it creates belongs to the project's owner). Safe beside a writer.
    * "copy": a log with no index and no way to make one that the owner could use (a read-only
      folder, another user's project): the file and its log are copied to a private folder and
      read there (:func:`private_copy`).
    """
    wal = os.path.lexists(sidecar(project, "-wal"))
    if not wal and not os.path.lexists(sidecar(project, "-journal")):
        return "immutable"
    if os.path.lexists(sidecar(project, "-shm")) or _creates_usable_files(project):
        return "shared"
    return "copy"


def stamp(project: Path) -> tuple[object, ...]:
    """What changes when anyone writes to ``project``: its identity, size, times, and a log."""
    try:
        info = os.stat(project)
    except OSError:
        return ()
    wal = os.path.lexists(sidecar(project, "-wal"))
    return info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns, wal


def private_copy(project: Path) -> tuple[Path, Path]:
    """Copy ``project`` and its ``-wal`` into a new private folder: (folder, the copy).

    SQLite, opening the copy for writing, recovers the log there; nothing is written beside
    ``project``. The caller removes the folder (:func:`remove_copy`).
    """
    folder = Path(tempfile.mkdtemp(prefix="dami-read-"))
    copy = folder / "project.dami"
    try:
        shutil.copyfile(project, copy)
        wal = sidecar(project, "-wal")
        if wal.exists():
            shutil.copyfile(wal, sidecar(copy, "-wal"))
    except OSError as error:
        remove_copy(folder)
        raise ProjectReadOnly(
            f"{project.name} has changes in {project.name}-wal that cannot be read where they are "
            f"(the folder or the files are not yours to write), and copying them to read them "
            f"failed ({error.strerror or error}); open the project once where it can be written."
        ) from None
    return folder, copy


def remove_copy(folder: Path) -> None:
    """Remove a folder made by :func:`private_copy`."""
    shutil.rmtree(folder, ignore_errors=True)


# ------------------------------------------------------------------------------ writing


def clear_unusable_logs(project: Path) -> None:
    """Before writing: remove a ``-wal``/``-shm`` left by another user's reader that we cannot use.

    A reader never writes into the log, so an empty ``-wal`` holds nothing and the ``-shm`` index
    is rebuilt from the log; both go. A log with changes in it is never removed: then the owner
    of that log must open the project once. Called with the project's lock held.
    """
    wal, shm = sidecar(project, "-wal"), sidecar(project, "-shm")
    usable = {p: not p.exists() or os.access(p, os.R_OK | os.W_OK) for p in (wal, shm)}
    if all(usable.values()):
        return
    if not usable[wal] and wal_has_data(project):
        raise ProjectReadOnly(
            f"{wal.name} holds changes to {project.name} that are not in it yet and belongs to "
            "another user, so you cannot write to the project; ask them to open and close it "
            "once, or open it read-only."
        )
    for path in (wal, shm) if not usable[wal] else (shm,):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
