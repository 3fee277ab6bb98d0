"""What can go wrong with a project file, as exceptions that each carry one plain sentence.

:func:`translate_error` turns a failed SQLite or file operation into the matching
:class:`ProjectError`, saying what was not saved and what to do; every write of the project
goes through it (see :meth:`dami_gui.core.project.storage.Store.transaction`).
"""

from __future__ import annotations

import errno
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
    """A write failed for lack of space; what was saved before is intact."""


_READONLY_ERRNOS = (errno.EACCES, errno.EPERM, errno.EROFS)


def translate_error(error: BaseException, path: Path, doing: str) -> ProjectError:
    """One sentence for a failed SQLite or file operation on ``path`` while ``doing`` something.

    ``doing`` names what was lost, e.g. "the label" or "the project"; the sentence says what is
    wrong and what to do. Codes are used when SQLite gives them, else the message text.
    """
    if isinstance(error, ProjectError):
        return error
    name = path.name
    text = str(error).lower()
    code = getattr(error, "sqlite_errorname", None) or ""
    err = getattr(error, "errno", None)
    if code == "SQLITE_FULL" or "disk is full" in text or err in (errno.ENOSPC, errno.EDQUOT):
        return DiskFull(
            f"The disk holding {name} is full, so {doing} was not saved; free some space and "
            "try again (everything saved before is safe)."
        )
    if code.startswith("SQLITE_READONLY") or "readonly" in text or err in _READONLY_ERRNOS:
        return ProjectReadOnly(
            f"{name} cannot be written (its folder or the file is read-only), so {doing} was not "
            "saved; copy the project to a folder you can write to and open the copy."
        )
    if code.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "database is locked" in text:
        return ProjectLocked(
            f"{name} is in use by another program, so {doing} was not saved; close the other "
            "dami window or command and try again."
        )
    if (
        code in ("SQLITE_NOTADB", "SQLITE_CORRUPT")
        or "malformed" in text
        or "not a database" in text
    ):
        return ProjectCorrupt(
            f"{name} is damaged or is not a dami project ({error}); open a backup copy, or start "
            "a new project from the CSV file with `dami project new`."
        )
    return ProjectError(
        f"{name}: {doing} could not be saved ({error}); check the disk and the folder, then try "
        "again."
    )
