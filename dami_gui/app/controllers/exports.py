"""File → Export: the labeled rows or the whole pool as CSV, and the trained model, in a task.

The files are written by :mod:`dami_gui.core.project.export` (atomically, formula-like text
escaped), the same writer as ``dami project export`` on the command line. An export runs in the
background while the user goes on labeling; one at a time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QWidget

from dami_gui.app.controllers.project_files import FOLDER_KEY, last_folder
from dami_gui.app.controllers.projects import ProjectController
from dami_gui.app.status import StatusLine
from dami_gui.app.tasks import Failure, Task, TaskSlot
from dami_gui.core.progress import CancelToken, ProgressCallback
from dami_gui.core.project.export import export_labels, export_model

log = logging.getLogger("dami_gui.app")


@dataclass(frozen=True)
class Written:
    """A finished export: the main file written, and the sentence that says so."""

    path: Path
    message: str


class ExportController(QObject):
    """Writes exports of the session the :class:`ProjectController` shows."""

    exported = Signal(object)  # Path of a finished export
    failed = Signal(str)  # a sentence shown to the user

    def __init__(self, window: QWidget, status: StatusLine, projects: ProjectController) -> None:
        super().__init__(window)
        self.window = window  # the parent of the file dialogs
        self.status = status
        self.projects = projects
        self.slot = TaskSlot(self)

    def _suggested_name(self, suffix: str) -> str:
        """Beside the project (named after it), else in the last folder, named after the CSV."""
        projects = self.projects
        if projects.saved and projects.project is not None:
            folder, stem = projects.project.path.parent, projects.project.path.stem
        else:
            session = projects.session
            source = session.dataset.source if session is not None else None
            folder = Path(last_folder(FOLDER_KEY) or Path.home())
            stem = Path(source).stem if source is not None else "labels"
        return str(folder / f"{stem}{suffix}")

    def export_rows(self, all_rows: bool = False, path: str | Path | None = None) -> None:
        """Write the labeled rows (the whole pool with ``all_rows``) as CSV, in a task."""
        session = self.projects.session
        if session is None:
            return
        if path is None:
            title = "Export the whole pool with labels" if all_rows else "Export labeled rows"
            suffix = "-all.csv" if all_rows else "-labels.csv"
            path, _ = QFileDialog.getSaveFileName(
                self.window, title, self._suggested_name(suffix), "CSV (*.csv)"
            )
            if not path:
                return
        target = Path(path)

        def task(progress: ProgressCallback, cancel: CancelToken) -> Written:
            progress(f"Writing {target.name}", 0.0)
            n = export_labels(session, target, all_rows=all_rows)
            what = "rows" if all_rows else "labeled rows"
            return Written(target, f"Wrote {n:,} {what} to {target}.")

        self._start(task, f"writing {target.name}")

    def export_model(self, path: str | Path | None = None) -> None:
        """Write the last round's model (weights) and its JSON description, in a task."""
        session = self.projects.session
        if session is None:
            return
        if session.last_round is None or not session.last_round.has_model:
            self._fail(
                "There is no model yet: a model is trained once rows of two classes are "
                "labeled; label them, run a round, then export the model."
            )
            return
        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                self.window, "Export the trained model", self._suggested_name("-model.safetensors"),
                "safetensors (*.safetensors);;PyTorch, as before (*.pt);;All files (*)",
            )  # fmt: skip
            if not path:
                return
        target = Path(path)

        def task(progress: ProgressCallback, cancel: CancelToken) -> Written:
            progress(f"Writing {target.name}", 0.0)
            weights, sidecar = export_model(session, target)
            message = f"Wrote the model to {weights} and its description to {sidecar.name}."
            return Written(weights, message)

        self._start(task, f"writing {target.name}")

    def _start(self, task: Task[Written], name: str) -> None:
        if self.slot.running:
            self.status.say("An export is still being written; try again in a moment.")
            return
        self.slot.start(task, name, on_finished=self._written, on_errored=self._export_failed)
        self.status.say(f"{name[0].upper()}{name[1:]}…")

    def _written(self, written: Written) -> None:
        self.status.say(written.message)
        log.info("%s", written.message)
        self.exported.emit(written.path)

    def _export_failed(self, failure: Failure) -> None:
        self.status.say("The export was not written.")
        self._fail(failure.message)

    def _fail(self, message: str) -> None:
        self.status.error(message)
        self.failed.emit(message)
