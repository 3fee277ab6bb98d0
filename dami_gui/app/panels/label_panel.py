"""The labeling column of the window: the rows to label (counter, keys, the query table) and the
whole pool (:mod:`.pool_table`) as two tabs, and under them the selected row's card.

The selected row can be any row of the pool (clicked on the map, found by id, or picked in the
table); its card (:mod:`.row_card`) shows its own values first, then why it was picked, the
model's guess on request, and one button per class plus "Not sure"; each click reaches the
session at once.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from dami_gui.app.binding import SessionLink
from dami_gui.app.palette import ClassColors
from dami_gui.app.panels.pool_table import PoolPanel
from dami_gui.app.panels.query_table import QueryTableModel, QueryTableView
from dami_gui.app.panels.row_card import RowPanel
from dami_gui.core.session import Session


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
        self.counter.setWordWrap(True)
        font = self.counter.font()
        font.setBold(True)
        self.counter.setFont(font)
        self.keys = QLabel("")
        self.keys.setWordWrap(True)
        self.keys.setTextFormat(Qt.TextFormat.RichText)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Find a row by id…")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(90)
        self.search.setMaximumWidth(200)
        self.search.returnPressed.connect(self._find)
        self.search_message = QLabel("")
        self.search_message.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.model = QueryTableModel(colors, self)
        self.table = QueryTableView(self.model)
        self.table.rowSelected.connect(self.rowSelected)
        self.show_guesses = QCheckBox("Show guesses before I answer")
        self.show_guesses.setToolTip(
            "Off: a row's guess appears once you answered it, or when you ask (A). Seeing the "
            "model's guess first tends to sway the answer towards it."
        )
        self.show_guesses.toggled.connect(self.model.set_show_guesses)
        self.key_message = QLabel("")
        self.key_message.setObjectName("keyMessage")
        self.key_message.setWordWrap(True)
        self.key_message.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.key_message.setStyleSheet("color: #7a4b00;")
        self.table.keyMessage.connect(self.key_message.setText)
        self.row_panel = RowPanel(colors, self.model)
        self.row_panel.answered.connect(self._answered)
        self.table.rowSelected.connect(self.row_panel.show_row)  # the card shows the current row
        self.model.dataChanged.connect(lambda *_: self.row_panel.refresh())

        top = QHBoxLayout()
        top.addWidget(self.counter, 1)
        top.addWidget(self.search_message)
        top.addWidget(self.search)
        table_box = QWidget()
        table_layout = QVBoxLayout(table_box)
        table_layout.setContentsMargins(0, 0, 0, 0)
        table_layout.setSpacing(3)
        table_layout.addLayout(top)
        table_layout.addWidget(self.keys)
        table_layout.addWidget(self.table, 1)
        guesses = QHBoxLayout()
        guesses.addWidget(self.show_guesses)
        guesses.addWidget(self.key_message, 1)
        table_layout.addLayout(guesses)
        self.pool = PoolPanel()  # every row: filter, sort, label a group
        self.pool.rowSelected.connect(self.rowSelected)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.queue_index = self.tabs.addTab(table_box, "To label")
        self.pool_index = self.tabs.addTab(self.pool, "Pool")
        self.tabs.setTabToolTip(self.queue_index, "The rows the model asks you to label")
        self.tabs.setTabToolTip(
            self.pool_index,
            "Every row: filter and sort by a column or the prediction, label a group at once",
        )
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.tabs)
        splitter.addWidget(self.row_panel)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

    def set_session(self, session: Session | None) -> None:
        self.session = session
        self.row_panel.set_session(session)  # first: the table then shows its current row in it
        self.model.set_session(session)
        self.pool.set_session(session)
        self._session_link.switch(session)
        if session is not None:
            self.keys.setText(self._key_legend(session))
        self.update_counter()

    def _key_legend(self, session: Session) -> str:
        """One line: the keys (the class numbers are on the card's buttons)."""
        n = len(session.classes)
        digits = f"<b>1</b>…<b>{n}</b>" if n <= 9 else f"<b>01</b>…<b>{n:02d}</b> (two digits)"
        return (
            f"Keys: {digits} the class · <b>Space</b>/<b>S</b> not sure · <b>A</b> the model's "
            "guess (show, then accept) · <b>Ctrl+Z</b> undo · <b>↑ ↓</b> move"
        )

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
