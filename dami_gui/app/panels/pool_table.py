"""*Pool*, beside the rows to label: every row of the table, to filter, sort, look at and label.

The queries are the rows the model asks for; an expert also wants to look at the pool their own
way (Orange's data table, Label Studio's data manager): sort it by any column or by the class the
model predicts, keep the rows whose column matches (``> 3``, ``2..5``, a text, a class name),
only the rows not labeled, or those outlined on the map (a DAMI group chosen in the legend or the
Regions tab), and outline what is shown on the map. Select rows, look at them, and label them
at once (``labelRequested(rows)``: the window asks in :mod:`..dialogs.label_group`); undo takes
the group back in one step.

:class:`PoolModel` reads the session and the last round each time Qt asks (no copy of the
table); it only holds the order of the rows shown. :func:`filter_rows` is the filter, plain numpy
and pandas.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from dami_gui.app.binding import SessionLink
from dami_gui.app.cell_text import cell_text, counted
from dami_gui.app.panels.query_table import SKIP_TEXT
from dami_gui.app.panels.round_view import round_view
from dami_gui.core.session import Session

Index = QModelIndex | QPersistentModelIndex

#: The columns before the file's own: the row's id, your label, the model's prediction.
COL_ID, COL_LABEL, COL_PREDICTED, COL_SURE = range(4)
FIXED = ["Row", "Label", "Predicted", "Sure"]
#: What the filter's column box offers before the file's columns.
BY_PREDICTED, BY_LABEL = "predicted class", "your label"
SHOW = [
    ("all", "All rows"),
    ("open", "Not labeled"),
    ("labeled", "Labeled"),
    ("outlined", "Outlined on the map"),
]
_RANGE = re.compile(r"^\s*(-?[\d.eE+]+)\s*\.\.\s*(-?[\d.eE+]+)\s*$")
_COMPARE = re.compile(r"^\s*(<=|>=|<|>|=)?\s*(-?[\d.eE+]+)\s*$")


def filter_rows(
    session: Session,
    column: str,
    text: str,
    show: str = "all",
    outlined: np.ndarray | None = None,
) -> np.ndarray:
    """The pool rows (ascending) that ``show`` keeps and whose ``column`` matches ``text``.

    ``column``: :data:`BY_PREDICTED`, :data:`BY_LABEL` or a column of the file. ``text``: for
    a class, the start of its name (``none``: no label, or no prediction); for numbers ``> 3``,
    ``<= 2.5``, ``= 1``, ``2..5`` or a number; otherwise the text the cell contains (any case).
    Empty text keeps every row. ``show``: "all", "open" (not labeled nor not sure), "labeled",
    or "outlined" (the rows of ``outlined``, a mask).
    """
    n = session.n_rows
    keep = np.ones(n, dtype=bool)
    answered = (session.labels >= 0) | session.skipped
    if show == "open":
        keep &= ~answered
    elif show == "labeled":
        keep &= answered
    elif show == "outlined":
        keep &= outlined if outlined is not None else False
    text = text.strip()
    if text:
        keep &= _matches(session, column, text)
    return np.flatnonzero(keep)


def _matches(session: Session, column: str, text: str) -> np.ndarray:
    if column in (BY_PREDICTED, BY_LABEL):
        if column == BY_LABEL:
            codes = session.labels
        else:
            view = round_view(session)
            codes = view.prediction if view is not None else np.full(session.n_rows, -1)
        if text.lower() == "none":
            return np.asarray(codes < 0)
        wanted = [
            k for k, name in enumerate(session.classes) if name.lower().startswith(text.lower())
        ]
        return np.isin(codes, wanted)
    cells = session.dataset.frame[column]
    numbers = pd.to_numeric(cells, errors="coerce").to_numpy(dtype="float64")
    found = _RANGE.match(text) or _COMPARE.match(text)
    if found is not None and np.isfinite(numbers).any():
        with np.errstate(invalid="ignore"):
            if found.re is _RANGE:
                low, high = sorted(float(v) for v in found.groups())
                return (numbers >= low) & (numbers <= high)
            op, value = found.group(1) or "=", float(found.group(2))
            return {
                "<": numbers < value,
                "<=": numbers <= value,
                ">": numbers > value,
                ">=": numbers >= value,
                "=": np.isclose(numbers, value),
            }[op]
    return cells.astype(str).str.contains(text, case=False, regex=False).to_numpy()


def sort_key(session: Session, column: str) -> np.ndarray:
    """Values to sort the pool rows by ``column`` (a file column, or the fixed ones)."""
    if column == FIXED[COL_ID]:
        return np.asarray(session.dataset.ids, dtype=str)
    if column == FIXED[COL_LABEL]:
        return np.where(session.skipped, len(session.classes), session.labels)
    view = round_view(session)
    if column in (FIXED[COL_PREDICTED], FIXED[COL_SURE]):
        if view is None:
            return np.zeros(session.n_rows)
        return view.prediction if column == FIXED[COL_PREDICTED] else view.confidence
    cells = session.dataset.frame[column]
    numbers = pd.to_numeric(cells, errors="coerce")
    if numbers.notna().sum() >= max(1, cells.notna().sum()):
        return numbers.to_numpy(dtype="float64")
    return cells.astype(str).str.lower().to_numpy()


class PoolModel(QAbstractTableModel):
    """The pool rows of ``rows``, in that order: id, label, prediction, then the file."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session: Session | None = None
        self.rows = np.empty(0, dtype=np.int64)
        self._columns: list[int] = []  # the file's columns shown (the id column is first)

    def set_session(self, session: Session | None) -> None:
        self.beginResetModel()
        self.session = session
        self._columns = []
        if session is not None:
            frame, id_column = session.dataset.frame, session.dataset.report.column("id")
            self._columns = [i for i, c in enumerate(frame.columns) if str(c) != id_column]
        self.rows = np.empty(0, dtype=np.int64)
        self.endResetModel()

    def set_rows(self, rows: np.ndarray) -> None:
        self.beginResetModel()
        self.rows = np.asarray(rows, dtype=np.int64)
        self.endResetModel()

    def column_name(self, col: int) -> str:
        if col < len(FIXED):
            return FIXED[col]
        assert self.session is not None
        return str(self.session.dataset.frame.columns[self._columns[col - len(FIXED)]])

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else int(self.rows.size)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() or self.session is None else len(FIXED) + len(self._columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or self.session is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            if section == COL_ID:
                return self.session.dataset.report.column("id") or FIXED[COL_ID]
            return self.column_name(section)
        if role == Qt.ItemDataRole.ToolTipRole:
            return "Click to sort the rows shown by this column"
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        session = self.session
        if session is None or not index.isValid() or role != Qt.ItemDataRole.DisplayRole:
            return None
        row, col = int(self.rows[index.row()]), index.column()
        if col == COL_ID:
            return str(session.dataset.ids[row])
        if col == COL_LABEL:
            code = int(session.labels[row])
            return (
                SKIP_TEXT if session.skipped[row] else (session.classes[code] if code >= 0 else "")
            )
        if col in (COL_PREDICTED, COL_SURE):
            view = round_view(session)
            if view is None or view.prediction[row] < 0:
                return ""
            if col == COL_PREDICTED:
                return session.classes[int(view.prediction[row])]
            return f"{float(view.confidence[row]):.0%}"
        return cell_text(session.dataset.frame.iat[row, self._columns[col - len(FIXED)]])

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if self.session is None or not self.rows.size or column < 0:
            return
        key = sort_key(self.session, self.column_name(column))[self.rows]
        if key.dtype.kind == "f":
            key = np.where(np.isnan(key), np.inf, key)  # empty cells last
        order_of = np.argsort(key, kind="stable")
        if order == Qt.SortOrder.DescendingOrder:
            order_of = order_of[::-1]
        self.set_rows(self.rows[order_of])


class PoolPanel(QWidget):
    """The filter line, the pool table and its buttons.

    ``rowSelected(row)`` when a row becomes current; ``outlineRequested(rows)`` to outline the
    rows shown on the map; ``labelRequested(rows)`` to label the selected rows at once.
    """

    rowSelected = Signal(int)
    outlineRequested = Signal(object)
    labelRequested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session: Session | None = None
        self._session_link = SessionLink(self, self._on_session)
        self.outlined: np.ndarray | None = None  # the map's outline (a mask), for "outlined"
        self.column = QComboBox()
        self.column.setToolTip("The column the filter looks at")
        self.column.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.column.setMinimumContentsLength(8)
        self.text = QLineEdit()
        self.text.setPlaceholderText("> 3, 2..5, a text, a class…")
        self.text.setClearButtonEnabled(True)
        self.text.setToolTip(
            "Numbers: > 3, <= 2.5, = 1, 2..5. Text: what the cell contains. A class: the start "
            "of its name (none: no label or no prediction). Empty: every row."
        )
        self.show_box = QComboBox()
        for key, title in SHOW:
            self.show_box.addItem(title, key)
        self.model = PoolModel(self)
        self.table = QTableView()
        self.table.setObjectName("poolTable")
        self.table.setModel(self.model)
        # the file's order until a column header is clicked
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicatorShown(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setDefaultSectionSize(80)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(20)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.count = QLabel("")
        self.count.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.outline_button = QPushButton("Outline on map")
        self.outline_button.setToolTip("Outline the rows shown here on the map")
        self.outline_button.clicked.connect(self._outline)
        self.label_button = QPushButton("Label selected…")
        self.label_button.setToolTip(
            "Look at the selected rows and give them all one class (Ctrl+Z takes it back)"
        )
        self.label_button.clicked.connect(self._label)
        self.label_button.setEnabled(False)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self.apply)
        self.text.textChanged.connect(lambda _t: self._timer.start())
        self.column.currentIndexChanged.connect(lambda _i: self._timer.start())
        self.show_box.currentIndexChanged.connect(lambda _i: self.apply())
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        line = QHBoxLayout()
        line.addWidget(self.column)
        line.addWidget(self.text, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.show_box)
        buttons.addWidget(self.count, 1)
        actions = QHBoxLayout()
        actions.addWidget(self.outline_button)
        actions.addWidget(self.label_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        layout.addLayout(line)
        layout.addLayout(buttons)
        layout.addWidget(self.table, 1)
        layout.addLayout(actions)

    def set_session(self, session: Session | None) -> None:
        self.session = session
        self._session_link.switch(session)
        self.model.set_session(session)
        self.column.blockSignals(True)
        self.column.clear()
        if session is not None:
            self.column.addItems([BY_PREDICTED, BY_LABEL])
            id_column = session.dataset.report.column("id")
            self.column.addItems([str(c) for c in session.dataset.frame.columns if c != id_column])
        self.column.blockSignals(False)
        self.apply()

    def set_outlined(self, rows: np.ndarray | None) -> None:
        """The map's outline changed (rows, or None): "Outlined on the map" follows it."""
        if self.session is None or rows is None or len(rows) == 0:
            self.outlined = None
        else:
            self.outlined = np.zeros(self.session.n_rows, dtype=bool)
            self.outlined[np.asarray(rows, dtype=np.int64)] = True
        if self.show_box.currentData() == "outlined":
            self.apply()

    def _on_session(self, kind: str, payload: object) -> None:
        if kind == "round":
            self.apply()  # new predictions: the filter and the sort may keep other rows
        elif kind == "labels" and self.model.rowCount():
            last = self.model.columnCount() - 1
            self.model.dataChanged.emit(
                self.model.index(0, 0), self.model.index(self.model.rowCount() - 1, last)
            )

    def apply(self) -> None:
        """Show the rows the filter keeps, in the order of the sorted column."""
        self._timer.stop()
        session = self.session
        if session is None:
            self.model.set_rows(np.empty(0, dtype=np.int64))
            self.count.setText("")
            return
        rows = filter_rows(
            session,
            self.column.currentText() or BY_PREDICTED,
            self.text.text(),
            self.show_box.currentData() or "all",
            self.outlined,
        )
        self.model.set_rows(rows)
        header = self.table.horizontalHeader()
        if header.sortIndicatorSection() >= 0 and self.table.isSortingEnabled():
            self.model.sort(header.sortIndicatorSection(), header.sortIndicatorOrder())
        self.count.setText(f"{counted(len(rows), 'row')} of {session.n_rows:,}")
        self._selection_changed()

    def selected_rows(self) -> np.ndarray:
        """The pool rows selected in the table, in the table's order."""
        positions = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return self.model.rows[positions] if positions else np.empty(0, dtype=np.int64)

    def _selection_changed(self, *_: object) -> None:
        n = len(self.selected_rows())
        self.label_button.setEnabled(n > 0)
        self.label_button.setText(f"Label {counted(n, 'row')}…" if n else "Label selected…")

    def _current_changed(self, current: Index, _previous: Index) -> None:
        if current.isValid() and current.row() < self.model.rowCount():
            self.rowSelected.emit(int(self.model.rows[current.row()]))

    def _outline(self) -> None:
        rows = self.model.rows
        self.outlineRequested.emit(rows.copy() if len(rows) else None)

    def _label(self) -> None:
        rows = self.selected_rows()
        if len(rows):
            self.labelRequested.emit(rows)
