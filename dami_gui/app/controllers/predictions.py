"""File → Apply model to a file…: the last round's model on a new CSV, off the GUI thread.

:class:`PredictionController` asks for the file to predict and where to save the predictions
(``NAME-predictions.csv`` beside it by default), then runs
:func:`~dami_gui.core.prediction.new_rows.predict_file` in a :class:`~dami_gui.app.tasks.TaskSlot`:
the project's preprocessing replayed on the new rows, the predicted class, every class's
probability, and the row's exact region, DAMI group and the three columns that push its prediction
most. A small dialog shows the progress with Cancel (nothing is written when cancelled); at the end
a message says what was written and what differed from the labeling file (unseen categories, filled
cells, ignored columns). Labeling goes on meanwhile: the model and the pool are read, not changed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from dami_gui.app.status import StatusLine
from dami_gui.app.tasks import Failure, TaskSlot
from dami_gui.core.prediction.new_rows import DEFAULT_TOP, PredictionReport, Predictor, predict_file
from dami_gui.core.progress import CancelToken, ProgressCallback, as_reporter
from dami_gui.core.session import Session

log = logging.getLogger("dami_gui.app")

CSV_FILTER = "CSV and text files (*.csv *.tsv *.txt);;All files (*)"
FOLDER_KEY = "predictions/last_folder"
NO_MODEL = (
    "There is no model yet: a model is trained once rows of two classes are labeled; label "
    "them, run a round, then apply the model to a file."
)


class PredictionProgress(QDialog):
    """Progress of a prediction: the stage, a bar and Cancel. Not modal: labeling goes on."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Applying the model")
        self.stage = QLabel(title)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop; no file is written")
        self.cancel_button.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.stage)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self.setMinimumWidth(380)

    def set_progress(self, stage: str, fraction: float) -> None:
        self.stage.setText(f"{stage}…")
        self.bar.setValue(int(max(0.0, min(1.0, fraction)) * 1000))


class PredictionController(QObject):
    """The *Apply model to a file…* action and its background work (one task slot)."""

    finished = Signal(object)  # the PredictionReport of a written file
    failed = Signal(str)  # a sentence shown to the user
    cancelled = Signal()

    def __init__(
        self,
        window: QMainWindow,
        status: StatusLine,
        session_shown: Callable[[], Session | None],
    ) -> None:
        super().__init__(window)
        self.window = window  # the parent of the dialogs
        self.status = status
        self.session_shown = session_shown
        self.slot = TaskSlot(self)
        self.dialog: PredictionProgress | None = None
        self.result_box: QMessageBox | None = None
        self.out: Path | None = None
        self.action = QAction("&Apply model to a file…", window)
        tip = (
            "Predict the class of every row of another CSV file with the last round's model "
            "(the columns are prepared as in this project) and save the predictions as CSV"
        )
        self.action.setStatusTip(tip)
        self.action.setToolTip(tip)
        self.action.triggered.connect(lambda: self.apply())
        window.addAction(self.action)

    def add_to(self, menu: QMenu) -> None:
        """Put the action in ``menu``, enabled whenever there is a model to apply."""
        menu.addAction(self.action)
        menu.aboutToShow.connect(self.update)
        self.update()

    def update(self) -> None:
        session = self.session_shown()
        last = session.last_round if session is not None else None
        self.action.setEnabled(last is not None and last.has_model)

    @property
    def running(self) -> bool:
        return self.slot.running

    def apply(
        self,
        csv: str | Path | None = None,
        out: str | Path | None = None,
        explain: int = DEFAULT_TOP,
    ) -> None:
        """Predict ``csv`` into ``out`` (each asked for when None) in the background."""
        session = self.session_shown()
        if session is None or session.last_round is None or not session.last_round.has_model:
            self._fail(NO_MODEL)
            return
        if self.slot.running:
            self.status.say("The model is still being applied to a file; wait or cancel it.")
            return
        if csv is None:
            start = str(QSettings().value(FOLDER_KEY, "", str) or "")
            csv, _ = QFileDialog.getOpenFileName(
                self.window, "Apply the model to a file", start, CSV_FILTER
            )
            if not csv:
                return
        csv = Path(csv)
        QSettings().setValue(FOLDER_KEY, str(csv.parent))
        if out is None:
            suggested = str(csv.with_name(f"{csv.stem}-predictions.csv"))
            out, _ = QFileDialog.getSaveFileName(
                self.window, "Save the predictions as", suggested, "CSV (*.csv)"
            )
            if not out:
                return
        target = Path(out)
        result = session.last_round
        name = f"round {result.index}'s model"

        def task(progress: ProgressCallback, cancel: CancelToken) -> PredictionReport:
            reporter = as_reporter(progress, cancel)
            predictor = Predictor.from_session(
                session, result, with_pool=explain > 0, name=name,
                progress=reporter.sub(0.0, 0.15, "Preparing the model"), cancel=cancel,
            )  # fmt: skip
            return predict_file(
                predictor, csv, target, explain=explain, progress=reporter.sub(0.15, 1.0)
            )

        dialog = PredictionProgress(f"Applying {name} to {csv.name}", self.window)
        dialog.rejected.connect(self.cancel)
        self.dialog, self.out = dialog, target
        self.status.say(f"Applying {name} to {csv.name}…")
        dialog.show()
        self.slot.start(
            task,
            f"applying the model to {csv.name}",
            on_finished=self._finished,
            on_errored=self._failed,
            on_cancelled=self._cancelled,
            on_progress=dialog.set_progress,
            on_discarded=self._written_after_cancel,
        )

    def cancel(self) -> None:
        self.slot.cancel()

    def _close_dialog(self) -> None:
        if self.dialog is not None:
            self.dialog.rejected.disconnect(self.cancel)
            self.dialog.close()
            self.dialog.deleteLater()
            self.dialog = None

    def _finished(self, report: PredictionReport) -> None:
        self._close_dialog()
        self._show_written(report)

    def _show_written(self, report: PredictionReport) -> None:
        message = f"Wrote {report.n_rows:,} predictions to {self.out}."
        self.status.say(message)
        log.info("%s %s", message, " ".join(report.lines()))
        box = QMessageBox(
            QMessageBox.Icon.Information, "Predictions written", message,
            QMessageBox.StandardButton.Ok, self.window,
        )  # fmt: skip
        box.setInformativeText("\n".join(report.lines()))
        if self.result_box is not None:
            self.result_box.close()
        self.result_box = box
        box.open()
        self.finished.emit(report)

    def _failed(self, failure: Failure) -> None:
        self._close_dialog()
        self.status.say("The predictions were not written.")
        self._fail(failure.message, failure.details)

    def _cancelled(self) -> None:
        self._close_dialog()
        self.status.say("Applying the model cancelled; no file was written.")
        self.cancelled.emit()

    def _written_after_cancel(self, report: PredictionReport) -> None:
        """Cancel came when the file was already complete: it is there, so say so."""
        self._show_written(report)

    def _fail(self, message: str, details: str | None = None) -> None:
        self.status.error(message, details)
        self.failed.emit(message)
