"""Project files as the app sees them: names and filters, the recent list, and safe cleanup.

* The recent list lives in ``QSettings`` (key ``projects/recent``), most recent first.
* :func:`renamed_file_classes` says why a session cannot become a project as it is.
* :func:`close_quietly` and :func:`discard` close a project without ever stopping the app;
  :func:`discard` also removes the files of a project written for nothing (a cancelled save).
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from PySide6.QtCore import QSettings

from dami_gui.core.data.roles import label_values
from dami_gui.core.errors import DamiError
from dami_gui.core.project.journal import Project
from dami_gui.core.session import Session

log = logging.getLogger("dami_gui.app")

SUFFIX = ".dami"
PROJECT_FILTER = "dami projects (*.dami);;All files (*)"
CSV_FILTER = "CSV and text files (*.csv *.tsv *.txt);;All files (*)"
RECENT_KEY = "projects/recent"
FOLDER_KEY = "projects/last_folder"  # where projects were last opened or saved
CSV_FOLDER_KEY = "last_folder"  # where a CSV file was last opened
MAX_RECENT = 10
SAVED_NOTE = "Every label is saved as you give it."


# ------------------------------------------------------------------------------ recent list


def recent_projects() -> list[str]:
    """The projects opened or saved last, most recent first (paths as text)."""
    value = QSettings().value(RECENT_KEY, [])
    if isinstance(value, str):  # an INI file gives a one-element list back as a string
        value = [value] if value else []
    if not isinstance(value, list):
        return []
    return [str(v) for v in value if v]


def store_recent(paths: list[str]) -> None:
    """Make ``paths`` the recent list (the first :data:`MAX_RECENT` of them)."""
    QSettings().setValue(RECENT_KEY, paths[:MAX_RECENT])


def remember_project(path: str | Path) -> None:
    """Put ``path`` first in the recent list."""
    text = str(Path(path).absolute())
    store_recent([text, *[p for p in recent_projects() if p != text]])


def forget_project(path: str | Path) -> None:
    """Take ``path`` off the recent list."""
    text = str(Path(path).absolute())
    store_recent([p for p in recent_projects() if p != text])


def last_folder(key: str) -> str:
    """The folder remembered under ``key`` ("" when none)."""
    value = QSettings().value(key, "", str)
    return value if isinstance(value, str) else ""


# ------------------------------------------------------------------------------ checks and cleanup


def renamed_file_classes(session: Session) -> str | None:
    """Why ``session`` cannot become a project as it is, when a class in the file was renamed.

    A project replays the label column with the class names it stores, so those must be the
    names written in the file (see docs/app.md, Known limits).
    """
    dataset = session.dataset
    column = dataset.report.column("label")
    if column is None:
        return None
    unknown = [v for v in label_values(dataset.frame, column) if v not in dataset.classes]
    if not unknown:
        return None
    return (
        f"A class written '{unknown[0]}' in column '{column}' was renamed when the file was "
        "opened, and a project keeps the names written in the file. Open the CSV again and keep "
        "the names of the classes found in it (or rename them in the file), then save as a "
        "project."
    )


def close_quietly(project: Project) -> None:
    """Close ``project``; a failure is logged, never raised (the file is safe either way).

    A log that could not be folded into the file (a full disk) is logged as what it is: every
    change is safe in the ``-wal`` beside the project, and the next open completes it.
    """
    try:
        project.close()
    except DamiError as error:
        log.warning("Closing %s: %s", project.path, error)
    except Exception:  # closing must never stop the app
        log.exception("Could not close %s cleanly", project.path)


def discard(project: Project, path: Path) -> None:
    """Close a project written for nothing (cancelled) and remove its files."""
    with contextlib.suppress(Exception):
        project.close()
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        with contextlib.suppress(OSError):
            leftover.unlink()


def same_file(a: Path, b: Path) -> bool:
    """``a`` and ``b`` name the same file (or the same path, when one does not exist)."""
    try:
        return a.samefile(b)
    except OSError:
        return a.absolute() == b.absolute()
