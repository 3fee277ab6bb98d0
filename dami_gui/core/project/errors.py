"""What can go wrong with a project file, as exceptions that each carry one plain sentence.

:func:`translate_error` turns a failed SQLite or file operation into the matching
:class:`ProjectError`, naming the operation that failed (the label not saved, the project not
opened, not read, not created) and what to do; every access to the project goes through it (see
:meth:`dami_gui.core.project.storage.Store.transaction`). :func:`checkpoint_error` says what a
failure to fold the write-ahead log into the file at close means: nothing is lost.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from dami_gui.core.errors import DamiError


class ProjectError(DamiError):
    """The project file cannot be used as asked; the message says why and what to do."""


class ProjectLocked(ProjectError):
    """Another process has the project open for writing."""


class ProjectReadOnly(ProjectError):
    """The project (or its folder) cannot be written."""


class ProjectCorrupt(ProjectError):
    """The file is damaged, truncated, or not a dami project."""


class ProjectTooNew(ProjectError):
    """The file was written by a newer dami-gui; it is left untouched."""


class DiskFull(ProjectError):
    """A write failed for lack of space (or a file-size limit); what was saved before is intact."""


class NotCheckpointed(ProjectError):
    """Closing could not fold the write-ahead log (``-wal``) into the file; nothing is lost."""


_READONLY_ERRNOS = (errno.EACCES, errno.EPERM, errno.EROFS)
_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
#: Less free space than this on the project's disk and a failed write is put down to a full disk.
LOW_SPACE = 1 << 20


def no_room(path: Path) -> str | None:
    """Why a write beside ``path`` may have failed for want of room, in words; None if not that.

    SQLite reports a file grown past the size limit of the process (``ulimit -f``) as a mere
    "disk I/O error"; this says which limit it was.
    """
    try:
        stats = os.statvfs(path.parent)
        if stats.f_bavail * stats.f_frsize < LOW_SPACE:
            return "the disk is full"
    except (OSError, AttributeError):  # no statvfs on Windows
        pass
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    except (ImportError, OSError, ValueError):
        return None
    if soft != resource.RLIM_INFINITY:
        return f"files may not grow beyond {soft} bytes here (the limit set by `ulimit -f`)"
    return None


def translate_error(
    error: BaseException, path: Path, doing: str, action: str = "saved"
) -> ProjectError:
    """One sentence for a failed SQLite or file operation on ``path``.

    ``doing`` names the thing and ``action`` what was being done to it: "the label" was not
    "saved" (a write: everything saved before is safe), "the project" could not be "opened" or
    "read" (nothing in it was changed), "the new project" could not be "created". Codes are used
    when SQLite gives them, else the message text.
    """
    if isinstance(error, ProjectError):
        return error
    name = path.name
    text = str(error).lower()
    code = getattr(error, "sqlite_errorname", None) or ""
    err = getattr(error, "errno", None)
    if action == "saved":
        failed, safe = f"{doing} was not saved", "everything saved before is safe"
    else:
        failed, safe = f"{doing} could not be {action}", "nothing in it was changed"
    room = None
    if code == "SQLITE_FULL" or "disk is full" in text or err in _FULL_ERRNOS:
        room = no_room(path) or "the disk is full"
    elif code.startswith("SQLITE_IOERR") or "disk i/o error" in text:
        room = no_room(path)
    if room is not None:
        if room == "the disk is full":
            where, fix = f"The disk holding {name} is full", "free some space"
        else:
            where, fix = f"{name} cannot grow: {room}", "raise the limit"
        return DiskFull(f"{where}, so {failed}; {fix} and try again ({safe}).")
    if code.startswith("SQLITE_READONLY") or "readonly" in text or err in _READONLY_ERRNOS:
        return ProjectReadOnly(
            f"{name} cannot be written (its folder or the file is read-only), so {failed}; copy "
            "the project to a folder you can write to and open the copy."
        )
    if code.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "database is locked" in text:
        return ProjectLocked(
            f"{name} is in use by another program, so {failed}; close the other dami window or "
            "command and try again."
        )
    if (
        code in ("SQLITE_NOTADB", "SQLITE_CORRUPT")
        or "malformed" in text
        or "not a database" in text
        or isinstance(error, UnicodeDecodeError)  # a name in the file that is not text
    ):
        return ProjectCorrupt(
            f"{name} is damaged or is not a dami project ({error}); open a backup copy, or start "
            "a new project from the CSV file with `dami project new`."
        )
    return ProjectError(
        f"{name}: {failed} ({error}); check the disk and the folder, then try again ({safe})."
    )


def checkpoint_error(error: BaseException, path: Path) -> NotCheckpointed:
    """The sentence for a write-ahead log that closing could not fold into the file."""
    wal = f"{path.name}-wal"
    room = no_room(path)
    why = room or f"it could not be written ({error})"
    fixes = {None: "check the disk", "the disk is full": "free some space"}
    fix = fixes.get(room, "raise the limit")
    return NotCheckpointed(
        f"Everything is saved, but in {wal} beside {path.name}: closing could not copy it into "
        f"{path.name} because {why}; {fix}, then open and close the project once, and until then "
        f"keep {wal} with {path.name} (copy or move them together)."
    )
