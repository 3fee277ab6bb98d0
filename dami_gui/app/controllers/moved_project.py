"""A recent project that is no longer where it was: say so, and offer to find it.

Files move: a folder is renamed, a project is copied to a USB stick, a drive is not mounted. The
*Open recent* entry of such a project stays in the list, marked "(not found)"; choosing it asks,
in one sentence, whether to find it (a file dialog), remove it from the list, or leave it (it
may come back when the drive is mounted). A project found elsewhere takes the old entry's place
at the top of the list and opens.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtWidgets import QAbstractButton, QFileDialog, QMainWindow, QMessageBox

from dami_gui.app.controllers.project_files import (
    FOLDER_KEY,
    PROJECT_FILTER,
    forget_project,
    remember_project,
)
from dami_gui.app.status import StatusLine

__all__ = ["MovedProject"]


class MovedProject(QObject):
    """The question about a missing recent project, and what follows from the answer."""

    recentChanged = Signal()  # the entry was found elsewhere or removed from the recent list

    def __init__(
        self, window: QMainWindow, status: StatusLine, open_project: Callable[[Path], None]
    ) -> None:
        super().__init__(window)
        self.window = window  # the parent of the question and the file dialog
        self.status = status
        self.open_project = open_project
        self.box: QMessageBox | None = None
        self.path: Path | None = None
        self.find_button: QAbstractButton | None = None
        self.remove_button: QAbstractButton | None = None

    def ask(self, path: Path) -> QMessageBox:
        """Show the question for ``path`` (not blocking); the answer arrives in :meth:`_answer`."""
        window = self.window
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Project not found",
            f"{path.name} is no longer at {path.parent} (moved, renamed or deleted).",
            QMessageBox.StandardButton.NoButton,
            window,
        )
        box.setInformativeText(
            "Find it to open it from where it is now (the recent list will point there), or "
            "remove it from the recent projects. If it is on a drive that is not connected, "
            "connect the drive and choose it again."
        )
        self.find_button = box.addButton("Find it…", QMessageBox.ButtonRole.AcceptRole)
        self.remove_button = box.addButton(
            "Remove from the list", QMessageBox.ButtonRole.DestructiveRole
        )
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.buttonClicked.connect(self._answer)
        if self.box is not None:
            self.box.close()
        self.box, self.path = box, path
        box.open()
        return box

    def _answer(self, button: QAbstractButton) -> None:
        if self.path is None:
            return
        if button is self.find_button:
            self.find(self.path)
        elif button is self.remove_button:
            self.remove(self.path)

    def remove(self, path: Path) -> None:
        forget_project(path)
        self.recentChanged.emit()
        self.status.say(f"{path.name} was removed from the recent projects.")

    def find(self, old: Path, new: str | Path | None = None) -> None:
        """Open the project at ``new`` (asked for when None) in place of ``old`` in the list."""
        if new is None:
            start = old.parent if old.parent.is_dir() else QSettings().value(FOLDER_KEY, "", str)
            new, _ = QFileDialog.getOpenFileName(
                self.window, f"Find {old.name}", str(start), PROJECT_FILTER
            )
            if not new:
                return
        remember_project(new)  # opening it keeps it first; the old place is gone for good
        forget_project(old)
        self.recentChanged.emit()
        self.open_project(Path(new))
