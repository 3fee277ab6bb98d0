"""The main window: map and learning curve on the left, round settings and labeling on the right.

The window assembles the panels and the controllers and wires the menus; it owns no labeling
state and runs no long work itself. It shows the :class:`~dami_gui.core.session.Session` that a
controller opens (:meth:`MainWindow.set_session`) in every view, which subscribe to it.

* :mod:`.controllers.loading` opens the demo or a CSV file (import dialog), and
  :mod:`.controllers.projects` project files (:mod:`.controllers.project_menu` is their part of
  the menus, :mod:`.controllers.exports` the File → Export entries);
* :mod:`.controllers.rounds` runs rounds, :mod:`.controllers.map` lays out the map;
* :class:`~dami_gui.app.status.StatusLine` is the status bar: the foreground task (opening data or
  a project, or the round) with progress and Cancel, and errors as a short dialog whose details
  go to the log panel and log file.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDockWidget,
    QGroupBox,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from dami_gui.app.controllers.answers import answer
from dami_gui.app.controllers.exports import ExportController
from dami_gui.app.controllers.loading import LoadingController
from dami_gui.app.controllers.map import LayoutController
from dami_gui.app.controllers.predictions import PredictionController
from dami_gui.app.controllers.project_menu import ProjectMenu
from dami_gui.app.controllers.projects import ProjectController
from dami_gui.app.controllers.rounds import RoundController
from dami_gui.app.dialogs.about import AboutDialog, show_about
from dami_gui.app.dialogs.label_group import LabelGroupDialog
from dami_gui.app.map.view import MapView
from dami_gui.app.palette import ClassColors
from dami_gui.app.panels.curve_view import CurveView
from dami_gui.app.panels.explanations import Explanations
from dami_gui.app.panels.label_panel import LabelPanel
from dami_gui.app.panels.log_panel import LogPanel
from dami_gui.app.panels.settings_panel import SettingsPanel
from dami_gui.app.status import StatusLine
from dami_gui.app.tasks import TaskSlot, Worker
from dami_gui.app.warmup import warm_up_torch
from dami_gui.core.device import device_name
from dami_gui.core.errors import DamiError
from dami_gui.core.learner.fidelity import POOR_FIDELITY, fidelity_share, round_fidelity
from dami_gui.core.records import RoundResult
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


#: The window's three columns: the map (the biggest), the rounds and the rows to label, the
#: explanations and the learning curve. Their share of the width, kept as the window is resized
#: (splitter stretch factors), and their width in a window of 1280 pixels.
PANE_STRETCH = (47, 29, 24)
PANE_SIZES = [600, 370, 310]
#: Room a window manager's frame, title bar and a task bar take from the screen (pixels): the
#: window's smallest size fits 1280 x 800 and 1366 x 768 screens with them.
FRAME_ALLOWANCE = (16, 96)


def boxed(box: QWidget, content: QWidget) -> QWidget:
    """``box`` (a group box, a plain widget) holding ``content`` with narrow margins."""
    layout = QVBoxLayout(box)
    layout.setContentsMargins(4, 4, 4, 4)
    layout.addWidget(content, 1)
    return box


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
        self.session: Session | None = None
        self.colors = ClassColors()
        self.selected_row: int | None = None

        # -- views ---------------------------------------------------------------------------
        self.settings = SettingsPanel()
        self.map = MapView(self.colors)
        self.curve = CurveView()
        self.labels = LabelPanel(self.colors)
        self.log_panel = LogPanel()
        self.explanations = Explanations(self, self.colors)  # why this row, regions, conflicts…
        self._lay_out()
        self.status = StatusLine(self, log_path)
        self.about_dialog: AboutDialog | None = None  # Help → About, while it is open
        self.group_dialog: LabelGroupDialog | None = None  # the last "label rows together"
        self._round_after_save: Session | None = None  # round 1 waits for the autosave

        # -- controllers ---------------------------------------------------------------------
        self.rounds = RoundController(self)
        self.rounds.auto_next = lambda: self.settings.auto_next
        self.layouts = LayoutController(use_umap, self)
        #: The foreground task: data or a project being opened (Esc and Cancel stop it).
        self.opening = TaskSlot(self)
        self.loading = LoadingController(
            self, self.status, self.opening, self.set_session, self.session_options
        )
        self.projects = ProjectController(
            self,
            self.status,
            self.opening,
            self.loading,
            self.rounds,
            self.layouts,
            self.set_session,
            autosave_folder,
        )
        self.exports = ExportController(self, self.status, self.projects)
        self.project_menu = ProjectMenu(self, self.status, self.projects, self.exports)
        self._build_menus()
        self._wire()
        self.layouts.warm_up()
        self.warm_worker = Worker(lambda _p, _c: warm_up_torch(), name="preparing the model")
        self.warm_worker.start()

    def _lay_out(self) -> None:
        """Three columns side by side: the map (the biggest, top to bottom), the rounds over the
        rows to label, and the explanations with the learning curve as tabs (View →
        Explanations hides that column); the log below (hidden)."""
        map_box = boxed(QGroupBox("Map of the pool"), self.map)
        self.explanations.add_curve(boxed(QWidget(), self.curve))
        rounds_box = boxed(QGroupBox("Rounds"), self.settings)
        label_box = boxed(QGroupBox("Rows to label"), self.labels)
        middle = QWidget()
        middle_layout = QVBoxLayout(middle)
        middle_layout.setContentsMargins(0, 0, 0, 0)
        middle_layout.addWidget(rounds_box)
        middle_layout.addWidget(label_box, 1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("columns")
        for pane, stretch in zip(
            (map_box, middle, self.explanations.pane), PANE_STRETCH, strict=True
        ):
            self.splitter.addWidget(pane)
            self.splitter.setStretchFactor(self.splitter.count() - 1, stretch)
        self.splitter.setSizes(PANE_SIZES)
        self.splitter.setChildrenCollapsible(False)
        self.setCentralWidget(self.splitter)

        self.log_dock = QDockWidget("Log", self)
        self.log_dock.setObjectName("logDock")
        self.log_dock.setWidget(self.log_panel)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.log_dock)
        self.log_dock.hide()

    def _wire(self) -> None:
        self.status.cancelRequested.connect(self.cancel_task)
        self.settings.nextRoundRequested.connect(self.next_round)
        self.map.rowClicked.connect(self.select_row)
        self.labels.rowSelected.connect(self.select_row)
        self.labels.table.rowHovered.connect(self.map.show_hover)
        self.labels.pool.outlineRequested.connect(self.map.set_highlight)
        self.labels.pool.labelRequested.connect(self.label_group)
        self.map.highlightChanged.connect(self.labels.pool.set_outlined)
        self.explanations.rowRequested.connect(self.select_row)
        self.explanations.highlightRequested.connect(self.map.set_highlight)
        self.map.families.groupsChosen.connect(self.explanations.regions.select_groups)
        self.rounds.started.connect(self._round_started)
        self.rounds.progress.connect(self._round_progress)
        self.rounds.committed.connect(self._round_committed)
        self.rounds.failed.connect(self._round_failed)
        self.rounds.cancelled.connect(self._round_cancelled)
        self.layouts.ready.connect(self.map.set_layout)
        self.layouts.progress.connect(self.map.show_layout_progress)
        self.layouts.failed.connect(self._layout_failed)
        self.projects.coloursChanged.connect(self._colours_changed)
        self.projects.autosaveEnded.connect(self._autosave_ended)

    # -- menus -------------------------------------------------------------------------------
    def _action(
        self,
        text: str,
        slot: Callable[[], object],
        shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.open_action = self._action(
            "&Open CSV…", lambda: self.loading.open_csv(), QKeySequence.StandardKey.Open
        )
        self.project_menu.fill_file_menu(file_menu, self.open_action)
        self.predictions = PredictionController(self, self.status, lambda: self.session)
        self.predictions.add_to(file_menu)
        file_menu.addSeparator()
        file_menu.addAction(self._action("&Quit", self.close, QKeySequence.StandardKey.Quit))
        edit_menu = bar.addMenu("&Edit")
        self.undo_action = self._action("&Undo last label", self.undo, "Ctrl+Z")
        edit_menu.addAction(self.undo_action)
        rounds_menu = bar.addMenu("&Rounds")
        self.next_action = self._action("&Next round", self.next_round, "Ctrl+R")
        self.cancel_action = self._action("&Cancel", self.cancel_task, "Esc")
        self.status.add_cancel_action(self.cancel_action)
        rounds_menu.addAction(self.next_action)
        rounds_menu.addAction(self.cancel_action)
        view_menu = bar.addMenu("&View")
        view_menu.addAction(self.log_dock.toggleViewAction())
        view_menu.addAction(self.explanations.toggle_action)
        self.curve_action = self._action("Learning &curve", self.explanations.show_curve)
        view_menu.addAction(self.curve_action)
        help_menu = bar.addMenu("&Help")
        self.demo_action = self._action("Open &demo", self.loading.open_demo)
        help_menu.addAction(self.demo_action)
        help_menu.addAction(self._action("&Keyboard shortcuts", self.show_shortcuts, "F1"))
        help_menu.addAction(self._action("&About dami-gui", self.show_about))

    # -- the session ---------------------------------------------------------------------------
    def set_session(
        self, session: Session | None, start: bool = True, colors: ClassColors | None = None
    ) -> None:
        """Show ``session`` in every view (in the class ``colors``, if given); with ``start``,
        run round 1 right away."""
        self.rounds.set_session(None)
        self.session = session
        if colors is not None:
            self.colors = colors
        self.selected_row = None
        for view in (self.map, self.labels):
            view.colors = self.colors
        self.labels.model.colors = self.colors
        self.labels.row_panel.colors = self.colors
        self.map.set_session(session)
        self.labels.set_session(session)
        self.curve.set_session(session)
        self.settings.set_session(session)
        self.explanations.set_session(session, self.colors)
        self.rounds.set_session(session)
        self.layouts.set_data(session.dataset.X if session is not None else None)
        self.settings.set_running(False)
        self.status.set_device("" if session is None else f"Runs on {device_name(session.device)}")
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
        self.projects.session_changed(session, self.colors)
        if session is not None and start:
            if self.projects.autosaving:  # saved first: one task, one progress bar at a time
                self._round_after_save = session
            else:
                self.next_round()
        self.focus_queue()

    def _autosave_ended(self) -> None:
        """Data opened without a project is saved: its round 1 starts now."""
        session, self._round_after_save = self._round_after_save, None
        if session is not None and session is self.session and not session.rounds:
            self.next_round()

    def _colours_changed(self) -> None:
        """A class colour changed (the views share ``self.colors``): repaint them."""
        self.map.colours_changed()
        self.explanations.regions.table.viewport().update()
        self.labels.table.viewport().update()
        self.labels.row_panel.refresh()

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
            self.status.say("Nothing to undo.")
            return
        row = event.row
        if event.group is not None:
            n = sum(1 for e in self.session.events if e.group == event.group)
            self.status.say(f"Undid the labels of {n} rows given together.")
        else:
            self.status.say(f"Undid the last answer for row {self.session.dataset.ids[row]}.")
        self.selected_row = None
        self.select_row(row)

    def label_group(self, rows: np.ndarray) -> LabelGroupDialog | None:
        """Show the rows chosen in the Pool tab and, once the user picks a class and accepts,
        label them all at once (one step for Ctrl+Z)."""
        session = self.session
        if session is None or len(rows) == 0:
            return None
        dialog = LabelGroupDialog(session, rows, self.colors, self)
        self.group_dialog = dialog

        def accepted() -> None:
            code, chosen = dialog.code, dialog.rows
            if session is self.session and answer(self, lambda: session.label_rows(chosen, code)):
                self.status.say(
                    f"Labeled {len(chosen):,} rows '{session.classes[code]}' at once; Ctrl+Z "
                    "takes them back together."
                )

        dialog.accepted.connect(accepted)
        dialog.open()
        return dialog

    # -- rounds ----------------------------------------------------------------------------------
    def next_round(self) -> None:
        if self.session is None:
            return
        if not self.rounds.start():
            self.status.say("A round is already running.")

    def cancel_task(self) -> None:
        """Cancel the foreground task: data or a project being opened, else the running round."""
        if not self.opening.cancel() and self.rounds.running:
            self.rounds.cancel()

    def _round_number(self) -> int:
        return len(self.session.rounds) + 1 if self.session is not None else 1

    def _round_started(self) -> None:
        self.status.busy(f"Round {self._round_number()}: starting…")
        self.settings.set_running(True)

    def _round_progress(self, stage: str, fraction: float) -> None:
        self.status.progress(f"Round {self._round_number()}: {stage}", fraction)

    def focus_queue(self) -> None:
        """Give the keys to the query table (after a round, or a session or project shown), so
        that the labeling keys work without a click first; not while the user types."""
        focus = QApplication.focusWidget()
        typing = isinstance(focus, QLineEdit | QAbstractSpinBox | QTextEdit) or (
            isinstance(focus, QComboBox) and focus.isEditable()
        )
        if not typing and self.session is not None:
            self.labels.table.setFocus(Qt.FocusReason.OtherFocusReason)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """A labeling key that reached the window (focus on a widget that does not use it)
        answers the current query, as in the table."""
        if not self.labels.table.label_key(event):
            super().keyPressEvent(event)

    def _round_committed(self, result: RoundResult) -> None:
        self.settings.set_running(False)
        self.focus_queue()
        _done, total = self.session.query_status() if self.session else (0, 0)
        estimate = (
            ""
            if result.accuracy_estimate is None
            else f"; estimated accuracy {result.accuracy_estimate:.0%}"
        )
        fidelity = round_fidelity(result.info)
        if fidelity is not None:  # how far the explanations describe the ensemble's answers
            estimate += (
                f"; the explained network agrees with the ensemble on {fidelity_share(fidelity)} "
                "of rows"
                if fidelity >= POOR_FIDELITY
                else "; the explained network agrees with the ensemble on only "
                f"{fidelity_share(fidelity)} of rows (see Per class)"
            )
        if result.cold_start:
            estimate = (
                " that cover the pool (no model yet: it is trained once rows of two classes are "
                "labeled)"
            )
        self.status.idle(f"Round {result.index} done: {total} rows to label{estimate}.")

    def _round_failed(self, message: str) -> None:
        self.settings.set_running(False)
        self.status.idle("The round failed; nothing was changed.")
        self.show_error(message)

    def _round_cancelled(self) -> None:
        self.settings.set_running(False)
        self.status.idle("Round cancelled; nothing was changed.")

    def _layout_failed(self, message: str) -> None:
        self.map.show_layout_failed()
        log.warning("UMAP layout failed: %s", message)

    # -- messages ------------------------------------------------------------------------------
    def show_error(self, message: str, details: str | None = None) -> QMessageBox:
        """Tell the user what went wrong in a sentence; the details go to the log. Non-blocking."""
        return self.status.error(message, details)

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

    def show_about(self) -> AboutDialog:
        """Help → About: versions, device, data folder and log file."""
        self.about_dialog = show_about(self, self.about_dialog, self.session, self.status.log_path)
        return self.about_dialog

    def closeEvent(self, event: QCloseEvent) -> None:
        self.rounds.set_session(None)
        self.layouts.cancel()
        self.opening.cancel(quiet=True)
        self.projects.close()  # releases the project's lock; every label is already saved
        Worker.cancel_all()
        self.log_panel.detach()
        super().closeEvent(event)

    def after_start(self, fn: Callable[[], object]) -> None:
        """Run ``fn`` once the event loop is running (for command-line actions)."""
        QTimer.singleShot(0, fn)
