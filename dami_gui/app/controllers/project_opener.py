"""Opening a project file: in the background, and with the user when its CSV moved or changed.

:class:`ProjectOpener` runs :func:`~dami_gui.core.project.journal.open_project` as the window's
foreground task (the ``opening`` :class:`~dami_gui.app.tasks.TaskSlot`, shared with opening data,
so Esc and the status bar's Cancel stop it; status bar progress). When the project's CSV file is
not where it was or its rows changed, :class:`~dami_gui.app.dialogs.source_changed.SourceDialog`
asks what to do (locate the file, accept the changes, or cancel) and the opener acts on the
answer; nothing is altered until then. ``loaded(project)`` when a project is open; the
:class:`~dami_gui.app.controllers.projects.ProjectController` shows it. A project opened for
nothing (cancelled, or superseded by other data) is closed again at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Qt, Signal
from PySide6.QtWidgets import QFileDialog, QWidget

from dami_gui.app.controllers.project_files import (
    CSV_FILTER,
    FOLDER_KEY,
    PROJECT_FILTER,
    SAVED_NOTE,
    close_quietly,
    last_folder,
)
from dami_gui.app.dialogs.source_changed import SourceDialog
from dami_gui.app.status import StatusLine
from dami_gui.app.tasks import Failure, TaskSlot
from dami_gui.core.progress import CancelToken, ProgressCallback
from dami_gui.core.project.journal import Project
from dami_gui.core.project.opening import open_project
from dami_gui.core.project.source import SourceChanged, SourceMissing

log = logging.getLogger("dami_gui.app")

#: What opening a project gives: the project, or the CSV problem the user must decide on.
Opened = Project | SourceMissing | SourceChanged


class ProjectOpener(QObject):
    """File → Open project… and Open recent, up to an open :class:`Project`."""

    loaded = Signal(object)  # the Project just opened
    failed = Signal(str)  # a sentence shown to the user
    sourceProblem = Signal(object)  # the SourceDialog just shown

    def __init__(
        self,
        window: QWidget,
        status: StatusLine,
        opening: TaskSlot,
        is_open: Callable[[Path], bool],
    ) -> None:
        super().__init__(window)
        self.window = window  # the parent of the dialogs
        self.status = status
        self.opening = opening
        self.is_open = is_open  # is this project the one already shown?
        self.source_dialog: SourceDialog | None = None
        self._path: Path | None = None  # the project being opened

    def open(self, path: str | Path | None = None) -> None:
        """Open a project (file dialog without ``path``) in the background."""
        if path is None:
            path, _ = QFileDialog.getOpenFileName(
                self.window, "Open project", last_folder(FOLDER_KEY), PROJECT_FILTER
            )
            if not path:
                return
        target = Path(path).absolute()
        QSettings().setValue(FOLDER_KEY, str(target.parent))
        if self.is_open(target):
            self.status.say(f"{target.name} is already open. {SAVED_NOTE}")
            return
        self._start(target, None, False)

    def _start(self, path: Path, source: Path | None, accept: bool) -> None:
        def task(progress: ProgressCallback, cancel: CancelToken) -> Opened:
            try:
                return open_project(
                    path, source=source, accept_changes=accept, progress=progress, cancel=cancel
                )
            except (SourceMissing, SourceChanged) as problem:
                return problem  # not a failure: the user decides (SourceDialog)

        self._path = path
        self.opening.start(
            task,
            f"opening {path.name}",
            on_finished=self._opened,
            on_errored=self._open_failed,
            on_cancelled=lambda: self.status.idle("Opening cancelled."),
            on_progress=self.status.progress,
            on_discarded=_close_if_project,
        )
        self.status.busy(f"Opening {path.name}…")

    def _opened(self, result: Opened) -> None:
        if isinstance(result, SourceMissing | SourceChanged):
            self.status.idle("The project's CSV file moved or changed.")
            self._ask_about_source(result)
            return
        self.loaded.emit(result)

    def _open_failed(self, failure: Failure) -> None:
        self.status.idle("Could not open the project.")
        self._fail(failure.message)

    # -- a CSV file that moved or changed ----------------------------------------------------
    def _ask_about_source(self, problem: SourceMissing | SourceChanged) -> None:
        assert self._path is not None
        if self.source_dialog is not None:
            self.source_dialog.close()
        dialog = SourceDialog(problem, self._path, self.window)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.finished.connect(lambda code: self._source_answer(dialog, code))
        self.source_dialog = dialog
        log.info("Shown to the user: %s", problem)
        dialog.open()
        self.sourceProblem.emit(dialog)

    def _source_answer(self, dialog: SourceDialog, code: int) -> None:
        if dialog is not self.source_dialog or self._path is None:
            return  # an older dialog, closed when a newer one came
        self.source_dialog = None
        dialog.deleteLater()
        path = self._path
        if code == SourceDialog.LOCATE:
            self.locate_source(path, stored=dialog.status.stored_path)
        elif code == SourceDialog.ACCEPT and not dialog.status.compared:
            self._start(path, dialog.status.path, False)  # read it now: compare, then ask again
        elif code == SourceDialog.ACCEPT:
            status = dialog.status
            self._start(path, status.path if status.moved else None, True)
        else:
            self.status.say(f"{path.name} was not opened; nothing was changed.")

    def locate_source(
        self, project: str | Path, csv: str | Path | None = None, stored: Path | None = None
    ) -> None:
        """Open ``project`` with its CSV file at ``csv`` (asked for when None)."""
        project = Path(project)
        if csv is None:
            name = stored.name if stored is not None else "the CSV file"
            start = str(stored.parent) if stored is not None and stored.parent.is_dir() else ""
            csv, _ = QFileDialog.getOpenFileName(
                self.window, f"Locate {name}", start or str(project.parent), CSV_FILTER
            )
            if not csv:
                self.status.say(f"{project.name} was not opened; nothing was changed.")
                return
        self._start(project, Path(csv), False)

    def close(self) -> None:
        """Close a question still open (the window is closing)."""
        if self.source_dialog is not None:
            self.source_dialog.close()
            self.source_dialog = None

    def _fail(self, message: str) -> None:
        self.status.error(message)
        self.failed.emit(message)


def _close_if_project(result: Opened) -> None:
    """A project opened for nothing (cancelled or superseded) is closed again."""
    if isinstance(result, Project):
        close_quietly(result)
