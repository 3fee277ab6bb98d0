"""Opening data: the bundled demo, or a CSV file through the import dialog.

Each step runs as the window's foreground task (the ``opening`` :class:`TaskSlot`, shared with
opening a project, so Esc and the status bar's Cancel stop whichever is running): reading the
file, then, after the user's choices in the :class:`~dami_gui.app.dialogs.import_csv.ImportDialog`,
building the data set. The result becomes a new :class:`~dami_gui.core.session.Session`, handed to
the window with ``show_session``. A failure is a sentence in a dialog; nothing shown changes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from PySide6.QtCore import QObject, QSettings
from PySide6.QtWidgets import QFileDialog, QWidget

from dami_gui.app.controllers.project_files import CSV_FILTER, CSV_FOLDER_KEY, last_folder
from dami_gui.app.dialogs.import_csv import (
    ImportChoices,
    ImportDialog,
    build_from_choices,
    hide_known_answers,
)
from dami_gui.app.palette import ClassColors
from dami_gui.app.status import StatusLine
from dami_gui.app.tasks import Failure, Task, TaskSlot
from dami_gui.core.data.dataset import Dataset
from dami_gui.core.data.demo import Demo, load_demo
from dami_gui.core.data.reader import read_csv
from dami_gui.core.progress import CancelToken, ProgressCallback
from dami_gui.core.session import Session

#: ``show_session(session, start, colors)``: the window shows ``session`` in every view (with
#: ``start``, round 1 runs at once) in the class colours ``colors``.
ShowSession = Callable[[Session, bool, ClassColors], None]


class LoadingController(QObject):
    """File → Open CSV… and Help → Open demo, up to the session on screen."""

    def __init__(
        self,
        window: QWidget,
        status: StatusLine,
        opening: TaskSlot,
        show_session: ShowSession,
        session_options: dict[str, Any],
    ) -> None:
        super().__init__(window)
        self.window = window  # the parent of the dialogs
        self.status = status
        self.opening = opening
        self.show_session = show_session
        self.session_options = session_options  # for every new Session (shared with the window)
        self.import_dialog: ImportDialog | None = None  # shown, waiting for the user
        self._pending_frame: pd.DataFrame | None = None  # the table the dialog shows

    def _start(self, fn: Task[Any], name: str, on_finished: Callable[[Any], None]) -> None:
        """Run a loading step as the foreground task, with the status bar and Cancel."""
        self.opening.start(
            fn,
            name,
            on_finished=on_finished,
            on_errored=self._failed,
            on_cancelled=self._cancelled,
            on_progress=self.status.progress,
        )
        self.status.busy(name[0].upper() + name[1:] + "…")

    # -- the demo ----------------------------------------------------------------------------
    def open_demo(self) -> None:
        """Open the bundled demo (every row unlabeled; the true classes are known to the curve)."""

        def task(progress: ProgressCallback, cancel: CancelToken) -> Demo:
            return load_demo(progress, cancel)

        self._start(task, "opening the demo", self._demo_loaded)

    def _demo_loaded(self, demo: Demo) -> None:
        self.status.idle("Demo opened.")
        session = Session(demo.dataset, truth=demo.truth, **self.session_options)
        self.show_session(session, True, ClassColors())

    # -- a CSV file --------------------------------------------------------------------------
    def open_csv(self, path: str | Path | None = None) -> None:
        """Read a CSV file in the background, then show the import dialog."""
        if path is None:
            path, _ = QFileDialog.getOpenFileName(
                self.window, "Open a CSV file", last_folder(CSV_FOLDER_KEY), CSV_FILTER
            )
            if not path:
                return
            QSettings().setValue(CSV_FOLDER_KEY, str(Path(path).parent))
        csv = Path(path)

        def task(progress: ProgressCallback, cancel: CancelToken) -> pd.DataFrame:
            return read_csv(csv, progress, cancel)

        self._start(task, f"reading {csv.name}", lambda frame: self._csv_read(csv, frame))

    def _csv_read(self, path: Path, frame: pd.DataFrame) -> None:
        self.status.idle(f"Read {path.name}: {len(frame):,} rows.")
        dialog = ImportDialog(frame, path, self.window)
        dialog.accepted.connect(self._import_accepted)
        self.import_dialog = dialog
        self._pending_frame = frame
        dialog.open()

    def _import_accepted(self) -> None:
        dialog, frame = self.import_dialog, self._pending_frame
        if dialog is None or frame is None:
            return
        choices = dialog.choices()
        self.import_dialog = None
        self._pending_frame = None
        dialog.deleteLater()

        def task(progress: ProgressCallback, cancel: CancelToken) -> Dataset:
            progress("Preparing features", 0.0)
            return build_from_choices(frame, choices)

        self._start(task, "preparing the data", lambda data: self._dataset_built(data, choices))

    def _dataset_built(self, dataset: Dataset, choices: ImportChoices) -> None:
        self.status.idle("Data opened.")
        truth = hide_known_answers(dataset) if choices.known_answers else None
        if truth is not None:
            self.status.idle(
                f"Data opened: the {int((truth >= 0).sum()):,} labels of the file are known "
                "answers, hidden while you label."
            )
        session = Session(dataset, truth=truth, **self.session_options)
        self.show_session(session, True, ClassColors(choices.colors))

    # -- failures ----------------------------------------------------------------------------
    def _failed(self, failure: Failure) -> None:
        self.status.idle("Could not open the data.")
        self.status.error(failure.message)

    def _cancelled(self) -> None:
        self.status.idle("Opening cancelled.")
