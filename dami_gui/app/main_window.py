"""The main window: map and learning curve on the left, round settings and labeling on the right.

The window owns no labeling state. It creates the :class:`~dami_gui.core.session.Session` when
data opens and hands it to the views, which subscribe to it. Long work (reading a file, building
the data set, rounds, the UMAP map) runs in :class:`~dami_gui.app.tasks.Worker` threads; the
status bar shows the foreground task with a Cancel button, and failures become a short dialog
with the details in the log panel and log file.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QGroupBox,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from dami_gui.app.controllers.map import LayoutController
from dami_gui.app.controllers.predictions import PredictionController
from dami_gui.app.controllers.projects import ProjectController
from dami_gui.app.controllers.rounds import RoundController
from dami_gui.app.dialogs.about import show_about
from dami_gui.app.dialogs.import_csv import ImportDialog, build_from_choices
from dami_gui.app.palette import ClassColors
from dami_gui.app.panels.curve_view import CurveView
from dami_gui.app.panels.explanations import Explanations
from dami_gui.app.panels.label_panel import LabelPanel
from dami_gui.app.panels.log_panel import LogPanel
from dami_gui.app.panels.map_view import MapView
from dami_gui.app.panels.settings_panel import SettingsPanel
from dami_gui.app.tasks import Worker
from dami_gui.app.warmup import warm_up_torch
from dami_gui.core.data.reader import read_csv
from dami_gui.core.device import device_name
from dami_gui.core.errors import DamiError
from dami_gui.core.progress import CancelToken, ProgressCallback
from dami_gui.core.session import Session

log = logging.getLogger("dami_gui.app")

SHORTCUTS = [
    ("1 … 9", "label the selected query with that class (order shown above the table)"),
    ("Space or S", "not sure: keep the row out of training; it is not asked again"),
    ("↑ ↓", "move between the queries"),
    ("Ctrl+Z", "undo the last label"),
    ("Ctrl+R", "next round now"),
    ("Esc", "cancel the running task"),
    ("Ctrl+O", "open a CSV file"),
    ("Ctrl+N", "new project from a CSV file"),
    ("Ctrl+Shift+O", "open a project (.dami)"),
    ("Ctrl+Shift+S", "save this session as a project (in a project every label is saved at once)"),
    ("Mouse on the map", "drag to pan (or box zoom), wheel to zoom, click a point to select it"),
]


class MainWindow(QMainWindow):
    """The labeling app. ``session_options`` are passed to every new :class:`Session`."""

    def __init__(
        self,
        use_umap: bool = True,
        session_options: dict[str, Any] | None = None,
        log_path: Path | None = None,
        autosave_folder: Path | None = None,
    ) -> None:
        super().__init__()
        self.setWindowTitle("dami-gui")
        self.session_options = dict(session_options or {})
        self.log_path = log_path
        #: Where data opened without a project is saved as one at once (None: wait for the
        #: user's File → Save as project…). The app sets it; tests choose.
        self.autosave_folder = autosave_folder
        self.session: Session | None = None
        self.colors = ClassColors()
        self.selected_row: int | None = None
        self.error_box: QMessageBox | None = None
        self.import_dialog: ImportDialog | None = None
        self.load_worker: Worker | None = None
        self._pending_frame: pd.DataFrame | None = None

        # -- controllers ---------------------------------------------------------------------
        self.rounds = RoundController(self)
        self.layouts = LayoutController(use_umap, self)

        # -- views ---------------------------------------------------------------------------
        self.settings = SettingsPanel()
        self.map = MapView(self.colors)
        self.curve = CurveView()
        self.labels = LabelPanel(self.colors)
        self.log_panel = LogPanel()
        self.explanations = Explanations(self)  # why this row, regions, conflicts, coverage
        self.rounds.auto_next = lambda: self.settings.auto_next

        map_box = QGroupBox("Map of the pool")
        QVBoxLayout(map_box).addWidget(self.map)
        curve_box = QGroupBox("Learning curve")
        curve_layout = QVBoxLayout(curve_box)
        curve_layout.addWidget(self.curve, 1)
        curve_layout.addWidget(self.explanations.coverage)
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(map_box)
        left.addWidget(curve_box)
        left.setStretchFactor(0, 3)
        left.setStretchFactor(1, 1)
        left.setSizes([450, 330])
        left.setChildrenCollapsible(False)
        rounds_box = QGroupBox("Rounds")
        QVBoxLayout(rounds_box).addWidget(self.settings)
        label_box = QGroupBox("Rows to label")
        QVBoxLayout(label_box).addWidget(self.labels)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(rounds_box)
        right_layout.addWidget(label_box, 1)
        main = QSplitter(Qt.Orientation.Horizontal)
        main.addWidget(left)
        main.addWidget(right)
        main.setStretchFactor(0, 1)
        main.setStretchFactor(1, 1)
        main.setSizes([600, 680])
        main.setChildrenCollapsible(False)
        self.setCentralWidget(main)

        self.log_dock = QDockWidget("Log", self)
        self.log_dock.setObjectName("logDock")
        self.log_dock.setWidget(self.log_panel)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.log_dock)
        self.log_dock.hide()

        # -- status bar ----------------------------------------------------------------------
        self.stage = QLabel("Open a CSV file (File → Open) or the demo (Help → Open demo).")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the running task (Esc); nothing is changed")
        self.cancel_button.clicked.connect(self.cancel_task)
        self.device_label = QLabel("")
        self.device_label.setToolTip(
            "Where interpretation and selection run: a CUDA or Apple GPU when torch finds one, "
            "else the CPU (set DAMI_DEVICE=cpu to keep the GPU free)"
        )
        status = self.statusBar()
        status.addWidget(self.stage, 1)
        status.addPermanentWidget(self.device_label)
        status.addPermanentWidget(self.progress)
        status.addPermanentWidget(self.cancel_button)
        self._set_busy(False)

        self.projects = ProjectController(self)  # project files: menus, banner, open, save
        self._build_menus()

        # -- wiring --------------------------------------------------------------------------
        self.settings.nextRoundRequested.connect(self.next_round)
        self.map.rowClicked.connect(self.select_row)
        self.labels.rowSelected.connect(self.select_row)
        self.rounds.started.connect(self._round_started)
        self.rounds.progress.connect(self._task_progress)
        self.rounds.committed.connect(self._round_committed)
        self.rounds.failed.connect(self._round_failed)
        self.rounds.cancelled.connect(self._round_cancelled)
        self.layouts.ready.connect(self.map.set_layout)
        self.layouts.progress.connect(self._layout_progress)
        self.layouts.failed.connect(self._layout_failed)
        self.layouts.warm_up()
        self.warm_worker = Worker(lambda _p, _c: warm_up_torch(), name="preparing the model")
        self.warm_worker.start()

    # -- menus -------------------------------------------------------------------------------
    def _action(
        self, text: str, slot: Any, shortcut: QKeySequence | str | None = None, tip: str = ""
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.open_action = self._action(
            "&Open CSV…", lambda: self.open_csv(), QKeySequence.StandardKey.Open
        )
        self.projects.fill_file_menu(file_menu, self.open_action)
        self.predictions = PredictionController(self)  # File → Apply model to a file…
        self.predictions.add_to(file_menu)
        self.export_action = self.projects.export_menu.menuAction()
        file_menu.addSeparator()
        file_menu.addAction(self._action("&Quit", self.close, QKeySequence.StandardKey.Quit))
        edit_menu = bar.addMenu("&Edit")
        self.undo_action = self._action("&Undo last label", self.undo, "Ctrl+Z")
        edit_menu.addAction(self.undo_action)
        rounds_menu = bar.addMenu("&Rounds")
        self.next_action = self._action("&Next round", self.next_round, "Ctrl+R")
        self.cancel_action = self._action("&Cancel", self.cancel_task, "Esc")
        rounds_menu.addAction(self.next_action)
        rounds_menu.addAction(self.cancel_action)
        view_menu = bar.addMenu("&View")
        view_menu.addAction(self.log_dock.toggleViewAction())
        for dock in self.explanations.docks:
            view_menu.addAction(dock.toggleViewAction())
        help_menu = bar.addMenu("&Help")
        self.demo_action = self._action("Open &demo", self.open_demo)
        help_menu.addAction(self.demo_action)
        help_menu.addAction(self._action("&Keyboard shortcuts", self.show_shortcuts, "F1"))
        help_menu.addAction(self._action("&About dami-gui", lambda: show_about(self)))

    # -- opening data --------------------------------------------------------------------------
    def _start_load(self, fn: Any, name: str, on_finished: Any) -> None:
        """Run a loading step in a worker, with the status bar and Cancel."""
        self._cancel_load()
        worker = Worker(fn, name=name)
        worker.progress.connect(self._task_progress)
        worker.finished.connect(on_finished)
        worker.errored.connect(self._load_failed)
        worker.cancelled.connect(self._load_cancelled)
        self.load_worker = worker
        self._set_busy(True, name[0].upper() + name[1:] + "…")
        worker.start()

    def _cancel_load(self) -> None:
        if self.load_worker is not None:
            self.load_worker.cancel()
            self.load_worker = None

    def _is_load(self) -> bool:
        return self.load_worker is not None and self.sender() is self.load_worker

    def open_demo(self) -> None:
        """Open the bundled demo (every row unlabeled; the true classes are known to the curve)."""

        def task(progress: ProgressCallback, cancel: CancelToken) -> Any:
            from dami_gui.core.data.demo import load_demo

            return load_demo(progress, cancel)

        self._start_load(task, "opening the demo", self._demo_loaded)

    def _demo_loaded(self, demo: Any) -> None:
        if not self._is_load():
            return
        self.load_worker = None
        self._set_busy(False, "Demo opened.")
        self.colors = ClassColors()
        self.set_session(Session(demo.dataset, truth=demo.truth, **self.session_options))

    def open_csv(self, path: str | Path | None = None) -> None:
        """Read a CSV file in the worker, then show the import dialog."""
        if path is None:
            start = QSettings().value("last_folder", "", str)
            path, _ = QFileDialog.getOpenFileName(
                self,
                "Open a CSV file",
                start,
                "CSV and text files (*.csv *.tsv *.txt);;All files (*)",
            )
            if not path:
                return
            QSettings().setValue("last_folder", str(Path(path).parent))
        path = Path(path)

        def task(progress: ProgressCallback, cancel: CancelToken) -> Any:
            return path, read_csv(path, progress, cancel)

        self._start_load(task, f"reading {path.name}", self._csv_read)

    def _csv_read(self, result: Any) -> None:
        if not self._is_load():
            return
        self.load_worker = None
        path, frame = result
        self._set_busy(False, f"Read {path.name}: {len(frame):,} rows.")
        dialog = ImportDialog(frame, path, self)
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

        def task(progress: ProgressCallback, cancel: CancelToken) -> Any:
            progress("Preparing features", 0.0)
            dataset = build_from_choices(frame, choices)
            return dataset, choices

        self._start_load(task, "preparing the data", self._dataset_built)

    def _dataset_built(self, result: Any) -> None:
        if not self._is_load():
            return
        self.load_worker = None
        dataset, choices = result
        self._set_busy(False, "Data opened.")
        self.colors = ClassColors(choices.colors)
        self.set_session(Session(dataset, **self.session_options))

    def _load_failed(self, message: str) -> None:
        if not self._is_load():
            return
        self.load_worker = None
        self._set_busy(False, "Could not open the data.")
        self.show_error(message)

    def _load_cancelled(self) -> None:
        if self._is_load():
            self.load_worker = None
            self._set_busy(False, "Opening cancelled.")

    # -- the session ---------------------------------------------------------------------------
    def set_session(self, session: Session | None, start: bool = True) -> None:
        """Show ``session`` in every view; with ``start``, run round 1 right away."""
        self.rounds.set_session(None)
        self.session = session
        self.selected_row = None
        for view in (self.map, self.labels):
            view.colors = self.colors
        self.labels.model.colors = self.colors
        self.labels.row_panel.colors = self.colors
        self.map.set_session(session)
        self.labels.set_session(session)
        self.curve.set_session(session)
        self.settings.set_session(session)
        self.explanations.set_session(session)
        self.rounds.set_session(session)
        self.layouts.set_data(session.dataset.X if session is not None else None)
        self.export_action.setEnabled(session is not None)
        self.settings.set_running(False)
        self.device_label.setText(
            "" if session is None else f"Runs on {device_name(session.device)}"
        )
        if session is not None:
            source = session.dataset.source
            name = source.name if source is not None else "data"
            self.setWindowTitle(f"dami-gui — {name}")
            log.info(
                "Opened %s: %d rows, %d features, classes %s",
                name,
                session.n_rows,
                session.dataset.X.shape[1],
                ", ".join(session.classes),
            )
            if start:
                self.next_round()
        self.projects.session_changed(session)

    def select_row(self, row: int | None) -> None:
        """Select pool row ``row`` everywhere (map ring, table, row panel)."""
        if row == self.selected_row:
            return
        self.selected_row = row
        self.map.set_selected(row)
        self.labels.select_row(row)
        self.explanations.show_row(row)

    def undo(self) -> None:
        if self.session is None:
            return
        try:
            event = self.session.undo()
        except DamiError as error:  # could not be saved: nothing was undone
            self.show_error(str(error))
            return
        if event is None:
            self.stage.setText("Nothing to undo.")
            return
        row = event.row
        self.stage.setText(f"Undid the last answer for row {self.session.dataset.ids[row]}.")
        self.selected_row = None
        self.select_row(row)

    def export_labels(self, path: str | Path | None = None) -> Path | None:
        """Write the labels as CSV: the id column and the label (empty when unlabeled)."""
        session = self.session
        if session is None:
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                self, "Export labels", "labels.csv", "CSV (*.csv)"
            )
            if not path:
                return None
        path = Path(path)
        names = np.array([*session.classes, ""], dtype=object)
        out = pd.DataFrame(
            {
                "id": session.dataset.ids,
                "label": names[np.where(session.labels >= 0, session.labels, len(session.classes))],
                "not_sure": session.skipped,
            }
        )
        try:
            out.to_csv(path, index=False)
        except OSError as error:
            self.show_error(f"The labels could not be written to {path}: {error.strerror}.")
            return None
        self.stage.setText(f"Labels written to {path}.")
        return path

    # -- rounds ----------------------------------------------------------------------------------
    def next_round(self) -> None:
        if self.session is None:
            return
        if not self.rounds.start():
            self.stage.setText("A round is already running.")

    def cancel_task(self) -> None:
        """Cancel the foreground task: a file being opened, else the running round."""
        if self.load_worker is not None:
            self._cancel_load()
            self._set_busy(False, "Opening cancelled.")
        elif self.rounds.running:
            self.rounds.cancel()

    def _round_started(self) -> None:
        n = len(self.session.rounds) + 1 if self.session else 1
        self._set_busy(True, f"Round {n}: starting…")
        self.settings.set_running(True)

    def _task_progress(self, stage: str, fraction: float) -> None:
        if self.rounds.running and self.sender() is self.rounds and self.session is not None:
            stage = f"Round {len(self.session.rounds) + 1}: {stage}"
        self.stage.setText(f"{stage}…" if not stage.endswith("…") else stage)
        self.progress.setValue(int(max(0.0, min(1.0, fraction)) * 1000))

    def _round_committed(self, result: Any) -> None:
        self.settings.set_running(False)
        _done, total = self.session.query_status() if self.session else (0, 0)
        estimate = (
            ""
            if result.accuracy_estimate is None
            else f"; estimated accuracy {result.accuracy_estimate:.0%}"
        )
        self._set_busy(False, f"Round {result.index} done: {total} rows to label{estimate}.")

    def _round_failed(self, message: str) -> None:
        self.settings.set_running(False)
        self._set_busy(False, "The round failed; nothing was changed.")
        self.show_error(message)

    def _round_cancelled(self) -> None:
        self.settings.set_running(False)
        self._set_busy(False, "Round cancelled; nothing was changed.")

    # -- map layout --------------------------------------------------------------------------------
    def _layout_progress(self, stage: str, fraction: float) -> None:
        self.map.set_status(f"Map: {self.map.layout_name or 'PCA'} · arranging UMAP {fraction:.0%}")

    def _layout_failed(self, message: str) -> None:
        self.map.set_status(f"Map: {self.map.layout_name} (UMAP failed; see the log)")
        log.warning("UMAP layout failed: %s", message)

    # -- status and errors ---------------------------------------------------------------------
    def _set_busy(self, busy: bool, text: str | None = None) -> None:
        if text is not None:
            self.stage.setText(text)
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        if hasattr(self, "cancel_action"):
            self.cancel_action.setEnabled(busy)
        if not busy:
            self.progress.setValue(0)

    def show_error(self, message: str, details: str | None = None) -> QMessageBox:
        """Tell the user what went wrong in a sentence; the details go to the log. Non-blocking."""
        log.warning("Shown to the user: %s", message)
        if details:
            log.warning("Details:\n%s", details)
        where = "View → Log"
        if self.log_path is not None:
            where += f" and {self.log_path}"
        box = QMessageBox(
            QMessageBox.Icon.Warning, "dami-gui", message, QMessageBox.StandardButton.Ok, self
        )
        box.setInformativeText(f"The app is still usable. Details are in the log ({where}).")
        box.setWindowModality(Qt.WindowModality.WindowModal)
        if self.error_box is not None:
            self.error_box.close()
        self.error_box = box
        box.open()
        return box

    def show_shortcuts(self) -> None:
        rows = "".join(f"<tr><td><b>{k}</b></td><td>&nbsp;{v}</td></tr>" for k, v in SHORTCUTS)
        box = QMessageBox(
            QMessageBox.Icon.Information,
            "Keyboard shortcuts",
            "",
            QMessageBox.StandardButton.Ok,
            self,
        )
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setText(f"<table>{rows}</table>")
        box.open()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.rounds.set_session(None)
        self.layouts.cancel()
        self._cancel_load()
        self.projects.close()  # releases the project's lock; every label is already saved
        Worker.cancel_all()
        self.log_panel.detach()
        super().closeEvent(event)

    def after_start(self, fn: Any) -> None:
        """Run ``fn`` once the event loop is running (for command-line actions)."""
        QTimer.singleShot(0, fn)
