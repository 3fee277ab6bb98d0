"""What the app tells the user about its work: the status line and the error box.

:class:`StatusLine` owns the window's status bar: a sentence saying what happens, a progress bar
and a Cancel button shown while a foreground task runs, and the device note. Controllers receive
it instead of the window: ``busy(text)`` when a task starts, ``progress(stage, fraction)`` while
it runs, ``idle(text)`` when it ends, ``say(text)`` for a message, ``error(message)`` for a
failure (a short, non-blocking dialog; the details go to the log).
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QProgressBar, QPushButton

log = logging.getLogger("dami_gui.app")

WELCOME = "Open a CSV file (File → Open) or the demo (Help → Open demo)."


class StatusLine(QObject):
    """The status bar of ``window``; ``cancelRequested`` when its Cancel button is clicked."""

    cancelRequested = Signal()

    def __init__(self, window: QMainWindow, log_path: Path | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.log_path = log_path
        self.error_box: QMessageBox | None = None  # the last error shown
        self._cancel_actions: list[QAction] = []
        self._busy = False

        self.stage = QLabel(WELCOME)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setMaximumWidth(220)
        self.progress_bar.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the running task (Esc); nothing is changed")
        self.cancel_button.clicked.connect(self.cancelRequested)
        self.device_label = QLabel("")
        self.device_label.setToolTip(
            "Where interpretation and selection run: a CUDA or Apple GPU when torch finds one, "
            "else the CPU (set DAMI_DEVICE=cpu to keep the GPU free)"
        )
        bar = window.statusBar()
        bar.addWidget(self.stage, 1)
        bar.addPermanentWidget(self.device_label)
        bar.addPermanentWidget(self.progress_bar)
        bar.addPermanentWidget(self.cancel_button)
        self._show_busy(False)

    # -- the sentence and the progress ---------------------------------------------------------
    def text(self) -> str:
        """The sentence shown now."""
        return self.stage.text()

    @property
    def is_busy(self) -> bool:
        return self._busy

    def say(self, text: str) -> None:
        """Show ``text``; busy or not stays as it is."""
        self.stage.setText(text)

    def busy(self, text: str) -> None:
        """A foreground task runs: show ``text``, the progress bar and Cancel."""
        self.stage.setText(text)
        self._show_busy(True)

    def idle(self, text: str | None = None) -> None:
        """No foreground task any more: hide the progress bar and Cancel; show ``text``."""
        if text is not None:
            self.stage.setText(text)
        self._show_busy(False)

    def progress(self, stage: str, fraction: float) -> None:
        """Show the running task's ``stage`` ("Reading file") and how far it is (0 to 1)."""
        self.stage.setText(f"{stage}…" if not stage.endswith("…") else stage)
        self.progress_bar.setValue(int(max(0.0, min(1.0, fraction)) * 1000))

    def set_device(self, text: str) -> None:
        self.device_label.setText(text)

    def add_cancel_action(self, action: QAction) -> None:
        """``action`` (Esc) is enabled exactly while a foreground task runs."""
        self._cancel_actions.append(action)
        action.setEnabled(self._busy)

    def _show_busy(self, busy: bool) -> None:
        self._busy = busy
        self.progress_bar.setVisible(busy)
        self.cancel_button.setVisible(busy)
        for action in self._cancel_actions:
            action.setEnabled(busy)
        if not busy:
            self.progress_bar.setValue(0)

    # -- errors ----------------------------------------------------------------------------
    def error(self, message: str, details: str | None = None) -> QMessageBox:
        """Tell the user what went wrong in a sentence; the details go to the log. Non-blocking."""
        log.warning("Shown to the user: %s", message)
        if details:
            log.warning("Details:\n%s", details)
        where = "View → Log"
        if self.log_path is not None:
            where += f" and {self.log_path}"
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "dami-gui",
            message,
            QMessageBox.StandardButton.Ok,
            self.window,
        )
        box.setInformativeText(f"The app is still usable. Details are in the log ({where}).")
        box.setWindowModality(Qt.WindowModality.WindowModal)
        if self.error_box is not None:
            self.error_box.close()
        self.error_box = box
        box.open()
        return box
