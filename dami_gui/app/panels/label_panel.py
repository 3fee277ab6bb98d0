"""The labeling side of the window: counter and key legend, the query table, and the selected row.

The selected row can be any row of the pool (clicked on the map, found by id, or picked in the
table). Its panel shows every column of the file, including those the model does not use, with
the model's view of it, and one button per class plus "Not sure"; each click reaches the session
at once.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from dami_gui.app.binding import SessionLink
from dami_gui.app.cell_text import cell_text
from dami_gui.app.controllers.answers import answer
from dami_gui.app.palette import ClassColors, swatch
from dami_gui.app.panels.query_table import SKIP_TEXT, QueryTableModel, QueryTableView
from dami_gui.app.panels.round_view import round_view
from dami_gui.core.session import Session
from dami_gui.core.strategies import why_this_row

Index = QModelIndex | QPersistentModelIndex


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
        if role == Qt.ItemDataRole.DisplayRole:
            if index.column() == 0:
                return column
            return cell_text(frame.iat[self.row, index.row()])
        if role == Qt.ItemDataRole.ForegroundRole:
            used = self.session.dataset.report.roles().get(column) == "feature"
            return None if used else QColor("#777777")
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == 0:
            decision = next(
                (d for d in self.session.dataset.report.decisions if d.column == column), None
            )
            return f"{decision.role}: {decision.reason}" if decision else None
        return None


class RowPanel(QWidget):
    """Details and label buttons for the selected pool row; ``answered(row)`` after a click."""

    answered = Signal(int)

    def __init__(self, colors: ClassColors, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.colors = colors
        self.session: Session | None = None
        self.row: int | None = None
        self.title = QLabel("Click a point on the map or a row in the table.")
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.model = RowModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(20)
        self.table.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.ResizeToContents
        )
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.buttons_box = QWidget()
        self.buttons = QGridLayout(self.buttons_box)
        self.buttons.setContentsMargins(0, 0, 0, 0)
        self.buttons.setSpacing(4)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.buttons_box)
        layout.addWidget(self.table, 1)
        self.class_buttons: list[QPushButton] = []
        self.skip_button: QPushButton | None = None

    def set_session(self, session: Session | None) -> None:
        self.session = session
        self.row = None
        while self.buttons.count():
            item = self.buttons.takeAt(0)  # None only for an index past the end
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.class_buttons = []
        if session is not None:
            n = len(session.classes)
            per_row = 4 if n > 4 else n + 1
            for code, name in enumerate(session.classes):
                key = f"{code + 1} " if code < 9 else ""
                button = QPushButton(swatch(self.colors[code]), f"{key}{name}")
                button.setToolTip(f"Label the selected row '{name}'")
                button.clicked.connect(lambda _c=False, k=code: self._label(k))
                self.buttons.addWidget(button, code // per_row, code % per_row)
                self.class_buttons.append(button)
            self.skip_button = QPushButton("Not sure")
            self.skip_button.setToolTip("Keep this row out of training; it will not be asked again")
            self.skip_button.clicked.connect(self._skip)
            self.buttons.addWidget(self.skip_button, n // per_row, n % per_row)
        self.show_row(None)

    def show_row(self, row: int | None) -> None:
        self.row = row
        self.model.show(self.session, row)
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
            return
        assert session is not None and row is not None
        parts = [f"<b>Row {session.dataset.ids[row]}</b>"]
        code = int(session.labels[row])
        if session.skipped[row]:
            parts.append(f"your label: <i>{SKIP_TEXT}</i>")
        elif code >= 0:
            parts.append(
                f"your label: <b><span style='color:{self.colors[code]}'>■</span> "
                f"{session.classes[code]}</b>"
            )
        else:
            parts.append("not labeled")
        view = round_view(session)
        if view is not None and view.prediction[row] >= 0:
            parts.append(
                f"model says {session.classes[int(view.prediction[row])]} "
                f"({float(view.confidence[row]):.0%})"
            )
            group = view.group(row)
            if group is not None:
                parts.append(f"group {group}")
            number = view.query_number.get(row)
            if number is not None:
                parts.append(f"query #{number}")
        text = " · ".join(parts)
        if view is not None and row in view.query_number:
            position = view.query_number[row] - 1
            why = why_this_row(view.result.strategy, view.result.info, position)
            text += f"<br><span style='color:#555555'>Why this row? {why}</span>"
        self.title.setText(text)

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


class LabelPanel(QWidget):
    """Counter, key legend, search box, query table and the selected row's panel.

    ``rowSelected(row)`` is emitted when the user selects a row here (table or search).
    """

    rowSelected = Signal(int)

    def __init__(self, colors: ClassColors, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session: Session | None = None
        self._session_link = SessionLink(self, self._on_session)
        self.colors = colors
        self.counter = QLabel("No data yet: open a CSV file or the demo.")
        self.counter.setObjectName("counter")
        font = self.counter.font()
        font.setBold(True)
        self.counter.setFont(font)
        self.keys = QLabel("")
        self.keys.setWordWrap(True)
        self.keys.setTextFormat(Qt.TextFormat.RichText)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Find a row by id…")
        self.search.setClearButtonEnabled(True)
        self.search.setMaximumWidth(220)
        self.search.returnPressed.connect(self._find)
        self.search_message = QLabel("")
        self.model = QueryTableModel(colors, self)
        self.table = QueryTableView(self.model)
        self.table.rowSelected.connect(self.rowSelected)
        self.row_panel = RowPanel(colors)
        self.row_panel.answered.connect(self._answered)

        top = QHBoxLayout()
        top.addWidget(self.counter, 1)
        top.addWidget(self.search_message)
        top.addWidget(self.search)
        table_box = QWidget()
        table_layout = QVBoxLayout(table_box)
        table_layout.setContentsMargins(0, 0, 0, 0)
        table_layout.addLayout(top)
        table_layout.addWidget(self.keys)
        table_layout.addWidget(self.table, 1)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(table_box)
        splitter.addWidget(self.row_panel)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

    def set_session(self, session: Session | None) -> None:
        self.session = session
        self.model.set_session(session)
        self.row_panel.set_session(session)
        self._session_link.switch(session)
        if session is not None:
            self.keys.setText(self._key_legend(session))
        self.update_counter()

    def _key_legend(self, session: Session) -> str:
        items = [
            f"<span style='color:{self.colors[i]}'>■</span>&nbsp;<b>{i + 1}</b>&nbsp;{name}"
            for i, name in enumerate(session.classes[:9])
        ]
        others = (
            "<b>Space</b> or <b>S</b>: not sure &nbsp;·&nbsp; <b>Ctrl+Z</b>: undo &nbsp;·&nbsp; "
            "<b>↑ ↓</b>: move &nbsp;·&nbsp; double-click a label to pick from a list"
        )
        return "Keys: " + " &nbsp; ".join(items) + "<br>" + others

    def _on_session(self, kind: str, payload: object) -> None:
        if kind in ("labels", "round"):
            self.update_counter()
            self.row_panel.refresh()

    def update_counter(self) -> None:
        session = self.session
        if session is None:
            self.counter.setText("No data yet: open a CSV file or the demo.")
            return
        if not session.rounds:
            self.counter.setText(f"{session.n_labeled} rows labeled · picking rows to label…")
            return
        done, total = session.query_status()
        if total == 0:
            self.counter.setText(
                f"No rows to label this round · {session.n_labeled} labeled in all"
            )
        else:
            self.counter.setText(
                f"{done} of {total} labeled · round {len(session.rounds)} · "
                f"{session.n_labeled} labeled in all"
            )

    def select_row(self, row: int | None) -> None:
        """Show ``row`` in the row panel and select it in the table if it is a query."""
        if row is None:
            self.table.clearSelection()
        else:
            self.table.select_row(row)
        self.row_panel.show_row(row)

    def _answered(self, row: int) -> None:
        """After a button answer for a query, move on to the next open query, as keys do."""
        position = self.model.position_of(row)
        if position is not None:
            self.table.advance(position)

    def _find(self) -> None:
        session = self.session
        text = self.search.text().strip()
        if session is None or not text:
            return
        ids = session.dataset.ids
        hits = np.flatnonzero(ids == text)
        if hits.size == 0:
            lowered = np.char.lower(ids.astype(str))
            hits = np.flatnonzero(np.char.startswith(lowered, text.lower()))
        if hits.size == 0:
            self.search_message.setText(f"No row '{text}'")
            return
        self.search_message.setText(
            "" if hits.size == 1 else f"{hits.size} rows match; first shown"
        )
        row = int(hits[0])
        self.select_row(row)
        self.rowSelected.emit(row)
