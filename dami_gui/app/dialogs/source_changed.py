"""The dialog for a project whose CSV file moved or changed: what happened, and what to do.

A project keeps its labels but not the table: opening it re-reads its CSV file. When that file is
not where it was (:class:`~dami_gui.core.project.source.SourceMissing`) or its rows changed
(:class:`~dami_gui.core.project.source.SourceChanged`), :class:`SourceDialog` says so, shows what
changed (rows added, removed and edited, labels on rows that are gone, how rows were matched) and
offers *Locate the file…*, *Accept the changes* (only for a changed file) or *Cancel*. A file
that is not the recorded one and was not compared (``status.compared`` is False: it lies outside
the project's folder, or cannot be read as the project's table) is not read until the user says
so: the dialog offers *Read this file* instead of accepting changes it has not shown. The dialog
only asks; the project controller (:mod:`.projects`) acts on the answer, and nothing is altered
until it does.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from dami_gui.core.project.source import SourceChanged, SourceMissing, SourceStatus

LOST_STYLE = "color: #b00020; font-weight: bold;"


class SourceDialog(QDialog):
    """Ask what to do about a project's CSV file that moved or changed.

    ``finished(code)`` gives :attr:`LOCATE`, :attr:`ACCEPT` or ``QDialog.Rejected`` (Cancel).
    """

    LOCATE = 2
    ACCEPT = 3

    def __init__(
        self,
        problem: SourceMissing | SourceChanged,
        project: str | Path,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.problem = problem
        self.status: SourceStatus = problem.status
        self.project = Path(project)
        self.missing = isinstance(problem, SourceMissing) or not self.status.found
        status = self.status
        csv = status.stored_path.name
        self.setWindowTitle(f"Where is {csv}?" if self.missing else f"{csv} has changed")
        self.setMinimumWidth(560)

        icon = QLabel()
        kind = (
            QStyle.StandardPixmap.SP_MessageBoxQuestion
            if self.missing
            else QStyle.StandardPixmap.SP_MessageBoxWarning
        )
        icon.setPixmap(self.style().standardIcon(kind).pixmap(40, 40))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)

        self.heading = QLabel()
        self.heading.setWordWrap(True)
        self.heading.setTextFormat(Qt.TextFormat.RichText)
        self.body = QLabel()
        self.body.setWordWrap(True)
        self.body.setTextFormat(Qt.TextFormat.RichText)
        self.body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.advice = QLabel()
        self.advice.setWordWrap(True)
        self.advice.setTextFormat(Qt.TextFormat.RichText)
        self.figures = QGridLayout()
        self.figures.setHorizontalSpacing(16)
        self.figures.setVerticalSpacing(4)
        self.values: dict[str, QLabel] = {}

        if self.missing:
            self._fill_missing()
        else:
            self._fill_changed()

        self.buttons = QDialogButtonBox()
        self.locate_button = QPushButton("Locate the file…")
        self.locate_button.setToolTip("Choose where the CSV file is now")
        self.buttons.addButton(self.locate_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.accept_button: QPushButton | None = None
        if not self.missing:
            self.accept_button = QPushButton("Accept the changes")
            self.accept_button.setToolTip(
                "Go on with this file: every label follows its row (by "
                f"{status.matched_by or 'id or content'})"
            )
            if not status.compared:
                self.accept_button.setText("Read this file")
                self.accept_button.setToolTip("Read it and compare its rows with the project's")
            self.buttons.addButton(self.accept_button, QDialogButtonBox.ButtonRole.AcceptRole)
            self.accept_button.clicked.connect(lambda: self.done(self.ACCEPT))
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setToolTip("Do not open the project; nothing is changed")
        self.locate_button.clicked.connect(lambda: self.done(self.LOCATE))
        self.cancel_button.clicked.connect(self.reject)
        (self.accept_button or self.locate_button).setDefault(True)

        text = QVBoxLayout()
        text.setSpacing(10)
        text.addWidget(self.heading)
        text.addWidget(self.body)
        if self.figures.count():
            text.addLayout(self.figures)
        text.addWidget(self.advice)
        top = QHBoxLayout()
        top.setSpacing(14)
        top.addWidget(icon)
        top.addLayout(text, 1)
        self.main_layout = QVBoxLayout(self)
        self.main_layout.addLayout(top)
        self.main_layout.addStretch(1)  # any height to spare goes here, not between the paragraphs
        self.main_layout.addSpacing(6)
        self.main_layout.addWidget(self.buttons)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        # wrapped labels: as tall as the text needs at the width the dialog really has
        height = self.main_layout.totalHeightForWidth(self.width())
        if height > 0:
            self.resize(self.width(), height)

    # -- contents ----------------------------------------------------------------------------
    def _fill_missing(self) -> None:
        status = self.status
        csv = escape(status.stored_path.name)
        self.heading.setText(f"<b>The CSV file of this project, {csv}, was not found.</b>")
        self.body.setText(
            f"{escape(self.project.name)} keeps your labels, but the table itself stays in its "
            f"CSV file, which was here:<br><code>{escape(str(status.stored_path))}</code>"
        )
        self.advice.setText(
            f"If you moved or renamed {csv}, <b>locate it</b>: its rows are checked and your "
            "labels follow them. <b>Cancel</b> leaves the project as it is."
        )

    def _fill_changed(self) -> None:
        status = self.status
        csv = escape(status.path.name)
        if not status.compared:
            self.heading.setText(f"<b>{csv} is not the file this project was saved with.</b>")
            self.body.setText(
                f"The project's CSV file is <code>{escape(str(status.path))}</code>, but its size "
                "or content differ from the file the project recorded, so it was not read."
            )
            self.advice.setText(
                "<b>Read this file</b> if it is the right one: its rows are then compared with "
                "the project's before anything changes. <b>Locate the file…</b> to choose the "
                "original. <b>Cancel</b> leaves the project as it is."
            )
            return
        self.heading.setText(f"<b>{csv} has changed since this project last used it.</b>")
        if status.moved:
            where = (
                f"The file is now <code>{escape(str(status.path))}</code> (the project had "
                f"<code>{escape(str(status.stored_path))}</code>)."
            )
        else:
            where = f"The file is <code>{escape(str(status.path))}</code>."
        self.body.setText(f"{where} Compared with the rows the project knows:")
        content = "content" in (status.matched_by or "")
        rows = [
            ("rows", "Rows", f"{status.rows_before:,} before, {status.rows_after:,} now"),
            ("added", "Added", _rows(status.added, "new row", "new rows")),
            ("removed", "Removed", _rows(status.removed, "row is gone", "rows are gone")),
            (
                "edited",
                "Edited",
                _rows(status.edited, "row has other values", "rows have other values"),
            ),
            (
                "labels_lost",
                "Your labels",
                "all on rows still in the file"
                if not status.labels_lost
                else _rows(
                    status.labels_lost,
                    "labeled row is no longer in the file",
                    "labeled rows are no longer in the file",
                ),
            ),
            (
                "matched_by",
                "Rows matched by",
                (status.matched_by or "id or content")
                + (" (a row whose values changed counts as removed and added)" if content else ""),
            ),
        ]
        for i, (key, name, value) in enumerate(rows):
            title = QLabel(name)
            title.setStyleSheet("color: #555555;")
            shown = QLabel(value)
            shown.setWordWrap(True)
            if key == "labels_lost" and status.labels_lost:
                shown.setStyleSheet(LOST_STYLE)
            self.figures.addWidget(title, i, 0, Qt.AlignmentFlag.AlignTop)
            self.figures.addWidget(shown, i, 1)
            self.values[key] = shown
        self.figures.setColumnStretch(1, 1)
        lost = (
            " Labels on rows that are gone are set aside, not deleted: they stay in the "
            "project's history and come back if the rows do."
            if status.labels_lost
            else ""
        )
        self.advice.setText(
            "<b>Accept the changes</b> to go on with this file: every label follows its row."
            f"{lost} <b>Locate the file…</b> if this is not the right file. <b>Cancel</b> leaves "
            "the project as it is."
        )


def _rows(n: int, one: str, many: str) -> str:
    if n == 0:
        return "none"
    return f"1 {one}" if n == 1 else f"{n:,} {many}"
