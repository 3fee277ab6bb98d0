"""The card of the selected row: its own values first, then why it was picked, the answer buttons.

The selected row can be any row of the pool (clicked on the map, found by id, picked in the
table). The card shows every column of the file first, in a readable two-column list (the
columns the model does not use in grey), then why the row was picked, then the model's guess,
then one button per class plus "Not sure"; each click reaches the session at once.

When the session knows the answers (the demo, or a file's label column taken as known answers)
the card shows the row's known answer once the user has answered it, never before.

The model's guess is not shown before the row is answered unless the user asks for it (the
*A* key or the card's button; or *Show the model's guesses* above the table), so that it does not
anchor the answer; once shown, *A* (or the button) accepts it. The rule lives in the query table's
model (:meth:`~dami_gui.app.panels.query_table.QueryTableModel.guess_shown`), shared with the
table's *Guess* column.
"""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QFont, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from dami_gui.app.cell_text import cell_text
from dami_gui.app.controllers.answers import answer
from dami_gui.app.label_keys import key_of_class
from dami_gui.app.palette import ClassColors, swatch
from dami_gui.app.panels.query_table import SKIP_TEXT, QueryTableModel
from dami_gui.app.panels.round_view import round_view
from dami_gui.core.session import Session
from dami_gui.core.strategies import why_this_row

Index = QModelIndex | QPersistentModelIndex

#: The narrowest a class button gets before the buttons wrap onto another line (pixels).
BUTTON_MIN_WIDTH = 96
#: Characters of "Why this row?" the card shows (the rest in its tooltip).
WHY_SHOWN = 170


class RowModel(QAbstractTableModel):
    """Two columns, "Column" and "Value", for one pool row of ``dataset.frame`` (no copy)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session: Session | None = None
        self.row: int | None = None

    def show(self, session: Session | None, row: int | None) -> None:
        self.beginResetModel()
        self.session, self.row = session, row
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() or self.session is None or self.row is None:
            return 0
        return len(self.session.dataset.frame.columns)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 2

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return ("Column", "Value")[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if self.session is None or self.row is None or not index.isValid():
            return None
        frame = self.session.dataset.frame
        column = str(frame.columns[index.row()])
        used = self.session.dataset.report.roles().get(column) == "feature"
        if role == Qt.ItemDataRole.DisplayRole:
            if index.column() == 0:
                return column
            return cell_text(frame.iat[self.row, index.row()])
        if role == Qt.ItemDataRole.ForegroundRole:
            return None if used else QColor("#777777")
        if role == Qt.ItemDataRole.FontRole and index.column() == 1 and used:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == 0:
            decision = next(
                (d for d in self.session.dataset.report.decisions if d.column == column), None
            )
            return f"{decision.role}: {decision.reason}" if decision else None
        return None


class ButtonGrid(QWidget):
    """The class buttons and "Not sure", as many per line as the width allows."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(4)
        self.buttons: list[QPushButton] = []
        self._per_line = 0

    def set_buttons(self, buttons: list[QPushButton], keep: QPushButton | None = None) -> None:
        """Show ``buttons``; the old ones are deleted, except ``keep`` (reused)."""
        for button in self.buttons:
            self.grid.removeWidget(button)
            if button is not keep:
                button.deleteLater()
        self.buttons = list(buttons)
        for button in self.buttons:
            button.setMinimumWidth(40)
        self._per_line = 0
        self._place()

    def _place(self) -> None:
        per_line = max(1, (self.width() + 4) // (BUTTON_MIN_WIDTH + 4))
        per_line = min(per_line, max(len(self.buttons), 1))
        if per_line == self._per_line:
            return
        self._per_line = per_line
        for button in self.buttons:
            self.grid.removeWidget(button)
        for i, button in enumerate(self.buttons):
            self.grid.addWidget(button, i // per_line, i % per_line)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._place()


class RowPanel(QWidget):
    """The card of the selected pool row; ``answered(row)`` after a button answered it."""

    answered = Signal(int)

    def __init__(
        self, colors: ClassColors, queue: QueryTableModel, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.colors = colors
        self.queue = queue  # the query table's model: which guesses may be shown
        self.session: Session | None = None
        self.row: int | None = None
        self.title = QLabel("Click a point on the map or a row in the table.")
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.model = RowModel(self)
        self.table = QTableView()
        self.table.setObjectName("rowValues")
        self.table.setModel(self.model)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.horizontalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.ResizeToContents
        )
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setAlternatingRowColors(True)
        self.why = QLabel("")
        self.why.setWordWrap(True)
        self.why.setStyleSheet("color: #555555;")
        self.guess = QLabel("")
        self.guess.setObjectName("guess")
        self.guess.setWordWrap(True)
        self.guess.setTextFormat(Qt.TextFormat.RichText)
        self.guess_button = QPushButton("Guess? (A)")
        self.guess_button.setToolTip(
            "The model's guess is hidden until you answer, so that it does not sway you; "
            "show it now (A), then accept it with A again"
        )
        self.guess_button.clicked.connect(self._guess_clicked)
        self.buttons_box = ButtonGrid()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.title)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.why)
        layout.addWidget(self.guess)
        layout.addWidget(self.buttons_box)
        self.class_buttons: list[QPushButton] = []
        self.skip_button: QPushButton | None = None

    def set_session(self, session: Session | None) -> None:
        self.session = session
        self.row = None
        self.class_buttons = []
        self.skip_button = None
        buttons: list[QPushButton] = []
        if session is not None:
            n = len(session.classes)
            for code, name in enumerate(session.classes):
                button = QPushButton(swatch(self.colors[code]), f"{key_of_class(code, n)} {name}")
                button.setToolTip(f"Label the selected row '{name}'")
                button.clicked.connect(lambda _c=False, k=code: self._label(k))
                self.class_buttons.append(button)
            self.skip_button = QPushButton("Not sure")
            self.skip_button.setToolTip("Keep this row out of training; it will not be asked again")
            self.skip_button.clicked.connect(self._skip)
            buttons = [*self.class_buttons, self.skip_button, self.guess_button]
        self.buttons_box.set_buttons(buttons, keep=self.guess_button)
        self.show_row(None)

    def show_row(self, row: int | None) -> None:
        self.row = row
        self.model.show(self.session, row)
        self.table.resizeColumnToContents(0)
        self.refresh()

    def refresh(self) -> None:
        session, row = self.session, self.row
        enabled = session is not None and row is not None
        for button in self.class_buttons:
            button.setEnabled(enabled)
        if self.skip_button is not None:
            self.skip_button.setEnabled(enabled)
        if not enabled:
            self.title.setText("Click a point on the map or a row in the table to see it here.")
            self.why.setText("")
            self.guess.setText("")
            self.guess.setVisible(False)
            self.guess_button.setVisible(False)
            return
        assert session is not None and row is not None
        view = round_view(session)
        parts = [f"<b>Row {html.escape(str(session.dataset.ids[row]))}</b>"]
        number = view.query_number.get(row) if view is not None else None
        if number is not None and view is not None:
            parts.append(f"query {number} of {len(view.result.queries)}")
        code = int(session.labels[row])
        if session.skipped[row]:
            parts.append(f"your answer: <i>{SKIP_TEXT}</i>")
        elif code >= 0:
            parts.append(
                f"your label: <b><span style='color:{self.colors[code]}'>■</span> "
                f"{html.escape(session.classes[code])}</b>"
            )
        else:
            parts.append("not labeled yet")
        known = -1 if session.truth is None else int(session.truth[row])
        if known >= 0 and (code >= 0 or session.skipped[row]):  # revealed once answered
            mark = "" if code < 0 else (" ✓" if code == known else " ✗")
            parts.append(f"known answer: <b>{html.escape(session.classes[known])}</b>{mark}")
        self.title.setText(" · ".join(parts))
        why = ""
        if view is not None and number is not None:
            why = "Why this row? " + why_this_row(
                view.result.strategy, view.result.info, number - 1, session.classes
            )
        # the reason in two or three lines; the whole of it on hover
        self.why.setText(why if len(why) <= WHY_SHOWN else why[: WHY_SHOWN - 1].rstrip() + "…")
        self.why.setToolTip(why)
        self._show_guess(session, row)

    def _show_guess(self, session: Session, row: int) -> None:
        self._guess_text(session, row)
        self.guess.setVisible(bool(self.guess.text()))

    def _guess_text(self, session: Session, row: int) -> None:
        view = round_view(session)
        predicted = -1 if view is None else int(view.prediction[row])
        if predicted < 0:
            self.guess.setText(
                "<span style='color:#555555'>No model yet: its guesses start once rows of two "
                "classes are labeled.</span>"
                if view is not None
                else ""
            )
            self.guess_button.setVisible(False)
            return
        assert view is not None
        if not self.queue.guess_shown(row):
            self.guess.setText("")
            self.guess_button.setText("Guess? (A)")
            self.guess_button.setVisible(True)
            return
        name = html.escape(session.classes[predicted])
        sure = float(view.confidence[row])
        self.guess.setText(
            f"Model's guess: <b><span style='color:{self.colors[predicted]}'>■</span> {name}"
            f"</b> ({sure:.0%} sure)"
        )
        answered = bool(session.labels[row] >= 0 or session.skipped[row])
        self.guess_button.setText("Accept (A)")
        self.guess_button.setToolTip(f"Label the row '{session.classes[predicted]}', the guess")
        self.guess_button.setVisible(not answered)

    def _guess_clicked(self) -> None:
        if self.session is None or self.row is None:
            return
        row, session = self.row, self.session
        if not self.queue.guess_shown(row):
            self.queue.reveal(row)
            self.refresh()
            return
        view = round_view(session)
        if view is not None and view.prediction[row] >= 0:
            self._label(int(view.prediction[row]))

    def _label(self, code: int) -> None:
        if self.session is not None and self.row is not None:
            row, session = self.row, self.session
            if answer(self, lambda: session.label(row, code)):
                self.answered.emit(row)

    def _skip(self) -> None:
        if self.session is not None and self.row is not None:
            row, session = self.row, self.session
            if answer(self, lambda: session.skip(row)):
                self.answered.emit(row)
