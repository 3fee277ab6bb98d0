"""The table of queried rows: a thin Qt model over the session, a label delegate, and key handling.

:class:`QueryTableModel` reads everything from the session each time Qt asks (the current queries,
their labels, the last round's predictions, the original columns of ``dataset.frame``); it keeps
no copy. The row's id comes first, then the label, then the file's columns. Editing the "Label"
cell, or a labeling key (:mod:`dami_gui.app.label_keys`: the class's number, Space, A), calls
``session.label`` or ``session.skip`` at once; the session then notifies the model, which repaints
the row.

The model's guess for a row is hidden until the row is answered, unless the user asks for it
(:meth:`QueryTableModel.reveal`, the *A* key) or for all of them
(:attr:`QueryTableModel.show_guesses`): a guess seen before answering anchors the answer.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHeaderView,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from dami_gui.app.binding import SessionLink
from dami_gui.app.cell_text import cell_text
from dami_gui.app.controllers.answers import answer
from dami_gui.app.label_keys import KeyAction, LabelKeys, key_of_class
from dami_gui.app.palette import ClassColors
from dami_gui.app.panels.round_view import round_view
from dami_gui.core.session import Session

Index = QModelIndex | QPersistentModelIndex

#: Text shown for a row marked "not sure".
SKIP_TEXT = "not sure"

# Fixed columns before the file's own columns (the id column, shown first, is not repeated).
COL_NUMBER, COL_ID, COL_LABEL, COL_PREDICTION, COL_CONFIDENCE, COL_GROUP, COL_REGION = range(7)
FIXED_HEADERS = ["#", "Row", "Label", "Guess", "Sure", "Group", "Region"]
FIXED_TIPS = [
    "Order in which the rows were picked this round (the numbers on the map)",
    "The row's id (its id column, else its line number in the file)",
    "Your label. Type the class's number, choose from the list, or press Space or S for 'not sure'",
    "The class the model guesses; hidden until you answer the row, so that it does not sway "
    "you (A shows it, and A again accepts it)",
    "How sure the model is of its guess (predicted probability)",
    "DAMI group: rows whose local explanation is closest to the same center (the map's colours)",
    "Exact linear region of the network, numbered by size (1 is the largest)",
]


class QueryTableModel(QAbstractTableModel):
    """Rows: ``session.queries`` in selection order; columns: label info, then the file's."""

    def __init__(self, colors: ClassColors, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session: Session | None = None
        self.colors = colors
        self._session_link = SessionLink(self, self._on_session)
        #: Show the model's guess of every row before it is answered (off: only on request).
        self.show_guesses = False
        self._revealed: set[int] = set()  # rows whose guess the user asked for, this round
        self._columns: list[int] = []  # the file's columns shown after the fixed ones

    # -- the model's guesses -----------------------------------------------------------------
    def guess_shown(self, row: int) -> bool:
        """Whether the model's guess for pool row ``row`` may be shown: once answered, when asked
        for (:meth:`reveal`), or always with :attr:`show_guesses`."""
        session = self.session
        if session is None:
            return False
        answered = bool(session.labels[row] >= 0 or session.skipped[row])
        return self.show_guesses or answered or row in self._revealed

    def reveal(self, row: int) -> None:
        """Show the model's guess for ``row`` (the user asked for it)."""
        self._revealed.add(int(row))
        self._row_changed(int(row))

    def set_show_guesses(self, on: bool) -> None:
        self.show_guesses = bool(on)
        if self.rowCount():
            self.dataChanged.emit(
                self.index(0, COL_PREDICTION), self.index(self.rowCount() - 1, COL_CONFIDENCE)
            )

    def _row_changed(self, row: int) -> None:
        pos = self.position_of(row)
        if pos is not None:
            self.dataChanged.emit(self.index(pos, 0), self.index(pos, self.columnCount() - 1))

    # -- session wiring ---------------------------------------------------------------------
    def set_session(self, session: Session | None) -> None:
        self.beginResetModel()
        self.session = session
        self._revealed = set()
        self._columns = []
        if session is not None:
            frame, id_column = session.dataset.frame, session.dataset.report.column("id")
            self._columns = [i for i, c in enumerate(frame.columns) if str(c) != id_column]
        self._session_link.switch(session)
        self.endResetModel()

    def _on_session(self, kind: str, payload: object) -> None:
        if kind == "round":
            self.beginResetModel()
            self._revealed = set()  # a new model: its guesses are hidden again
            self.endResetModel()
        elif kind == "labels" and self.session is not None:
            for row in np.asarray([] if payload is None else payload, dtype=np.int64).ravel():
                self._row_changed(int(row))

    # -- helpers ----------------------------------------------------------------------------
    @property
    def queries(self) -> np.ndarray:
        if self.session is None:
            return np.empty(0, dtype=np.int64)
        return self.session.queries

    def row_at(self, position: int) -> int:
        """Pool row index shown at table position ``position``."""
        return int(self.queries[position])

    def position_of(self, row: int) -> int | None:
        """Table position of pool row ``row``, or None when it is not a current query."""
        hits = np.flatnonzero(self.queries == row)
        return int(hits[0]) if hits.size else None

    def is_answered(self, position: int) -> bool:
        assert self.session is not None
        row = self.row_at(position)
        return bool(self.session.labels[row] >= 0 or self.session.skipped[row])

    def next_open(self, position: int) -> int | None:
        """The next unanswered position after ``position`` (wrapping), or None when all are done."""
        n = self.rowCount()
        for step in range(1, n + 1):
            p = (position + step) % n
            if not self.is_answered(p):
                return p
        return None

    # -- Qt model API -----------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else int(self.queries.size)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() or self.session is None:
            return 0
        return len(FIXED_HEADERS) + len(self._columns)

    def file_column(self, col: int) -> int:
        """The position in ``dataset.frame`` of table column ``col`` (one of the file's)."""
        return self._columns[col - len(FIXED_HEADERS)]

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Vertical or self.session is None:
            return None
        fixed = len(FIXED_HEADERS)
        if role == Qt.ItemDataRole.DisplayRole:
            if section == COL_ID:
                return self.session.dataset.report.column("id") or FIXED_HEADERS[section]
            if section < fixed:
                return FIXED_HEADERS[section]
            column = str(self.session.dataset.frame.columns[self.file_column(section)])
            label_column = self.session.dataset.report.column("label")
            return f"{column} (in file)" if column == label_column else column
        if role == Qt.ItemDataRole.ToolTipRole:
            if section < fixed:
                return FIXED_TIPS[section]
            column = str(self.session.dataset.frame.columns[self.file_column(section)])
            role_of = self.session.dataset.report.roles().get(column, "")
            return f"Column '{column}' of the file ({role_of})"
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == COL_LABEL:
            base |= Qt.ItemFlag.ItemIsEditable
        return base

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        session = self.session
        if session is None or not index.isValid():
            return None
        row = self.row_at(index.row())
        col = index.column()
        view = round_view(session)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            if col == COL_NUMBER:
                return view.query_number.get(row, "") if view else ""
            if col == COL_ID:
                return str(session.dataset.ids[row])
            if col == COL_LABEL:
                if session.skipped[row]:
                    return SKIP_TEXT
                code = int(session.labels[row])
                return session.classes[code] if code >= 0 else ""
            if col in (COL_PREDICTION, COL_CONFIDENCE):
                if view is None or view.prediction[row] < 0 or not self.guess_shown(row):
                    return ""
                if col == COL_PREDICTION:
                    return session.classes[int(view.prediction[row])]
                return f"{float(view.confidence[row]):.0%}"
            if col == COL_GROUP:
                group = view.group(row) if view else None
                return "" if group is None else group
            if col == COL_REGION:
                rank = -1 if view is None else int(view.region_rank[row])
                return "" if rank < 0 else rank + 1
            value = session.dataset.frame.iat[row, self.file_column(col)]
            return cell_text(value)
        if role == Qt.ItemDataRole.DecorationRole and col == COL_LABEL:
            code = int(session.labels[row])
            if code >= 0:
                return QColor(self.colors[code])
            return None
        if role == Qt.ItemDataRole.ForegroundRole and col == COL_LABEL and session.skipped[row]:
            return QColor("#777777")
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (
            COL_NUMBER,
            COL_CONFIDENCE,
            COL_GROUP,
            COL_REGION,
        ):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and col in (COL_LABEL, COL_PREDICTION):
            return FIXED_TIPS[col]
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        """Editing the Label cell labels the row in the session at once (or skips it)."""
        if self.session is None or index.column() != COL_LABEL or role != Qt.ItemDataRole.EditRole:
            return False
        row = self.row_at(index.row())
        if value is None or value == "" or value == -1:
            return False
        session = self.session
        if value == SKIP_TEXT:
            return answer(self, lambda: session.skip(row))  # False: not saved, nothing changed
        if isinstance(value, str):
            if value not in self.session.classes:
                return False
            value = self.session.classes.index(value)
        code = int(value)
        return answer(self, lambda: session.label(row, code))


class LabelDelegate(QStyledItemDelegate):
    """A combo box for the Label column: every class, then "not sure"."""

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: Index) -> QWidget:
        combo = QComboBox(parent)
        model = index.model()
        session = getattr(model, "session", None)
        colors = getattr(model, "colors", None)
        if session is not None:
            n = len(session.classes)
            for i, name in enumerate(session.classes):
                combo.addItem(f"{key_of_class(i, n) or '  '}  {name}", i)
                if colors is not None:
                    combo.setItemData(i, QColor(colors[i]), Qt.ItemDataRole.DecorationRole)
        combo.addItem(SKIP_TEXT, SKIP_TEXT)
        combo.activated.connect(lambda _i, c=combo: self._commit(c))
        return combo

    def _commit(self, combo: QComboBox) -> None:
        self.commitData.emit(combo)
        self.closeEditor.emit(combo)
        view = self.parent()
        if isinstance(view, QueryTableView) and view.currentIndex().isValid():
            view.advance(view.currentIndex().row())

    def setEditorData(self, editor: QWidget, index: Index) -> None:
        assert isinstance(editor, QComboBox)
        text = index.data(Qt.ItemDataRole.EditRole)
        for i in range(editor.count()):
            data = editor.itemData(i)
            model = index.model()
            session = getattr(model, "session", None)
            name = session.classes[data] if isinstance(data, int) and session else data
            if name == text:
                editor.setCurrentIndex(i)
                return
        editor.setCurrentIndex(-1)

    def setModelData(self, editor: QWidget, model: Any, index: Index) -> None:
        assert isinstance(editor, QComboBox)
        data = editor.currentData()
        if data is not None:
            model.setData(index, data, Qt.ItemDataRole.EditRole)


class QueryTableView(QTableView):
    """The query table with the labeling keys (:mod:`dami_gui.app.label_keys`), arrows move.

    After an answer the selection jumps to the next unanswered query. ``rowSelected(row)`` is
    emitted with the pool row index whenever the current row changes; ``keyMessage(text)`` says
    what a key did that the table does not show (a first digit waiting, a class that does not
    exist, a guess shown).
    """

    rowSelected = Signal(int)
    keyMessage = Signal(str)
    rowHovered = Signal(int)  # the pool row under the mouse (-1: none)

    def __init__(self, model: QueryTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModel(model)
        self._model = model
        self.keys = LabelKeys()
        self.setItemDelegateForColumn(COL_LABEL, LabelDelegate(self))
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.SelectedClicked
        )
        self.setAlternatingRowColors(True)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(22)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setDefaultSectionSize(90)
        header.setHighlightSections(False)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setMouseTracking(True)  # the map rings the query under the mouse
        self.entered.connect(lambda index: self.rowHovered.emit(self._model.row_at(index.row())))
        model.modelReset.connect(self._after_reset)
        self._after_reset()

    def _after_reset(self) -> None:
        widths = {
            COL_NUMBER: 30,
            COL_ID: 70,
            COL_LABEL: 104,
            COL_PREDICTION: 84,
            COL_CONFIDENCE: 44,
            COL_GROUP: 50,
            COL_REGION: 54,
        }
        for col, width in widths.items():
            if col < self._model.columnCount():
                self.setColumnWidth(col, width)
        if self._model.columnCount() > COL_ID:
            self.resizeColumnToContents(COL_ID)
            self.setColumnWidth(COL_ID, min(max(self.columnWidth(COL_ID), 48), 140))
        for col in range(len(FIXED_HEADERS), self._model.columnCount()):
            self.resizeColumnToContents(col)
            self.setColumnWidth(col, min(self.columnWidth(col), 160))
        if self._model.rowCount():
            first = self._model.next_open(self._model.rowCount() - 1)
            self.select_position(first if first is not None else 0)

    # -- selection ---------------------------------------------------------------------------
    def current_row(self) -> int | None:
        """Pool row of the current table row, or None."""
        index = self.currentIndex()
        if not index.isValid() or index.row() >= self._model.rowCount():
            return None
        return self._model.row_at(index.row())

    def select_position(self, position: int) -> None:
        index = self._model.index(position, COL_LABEL)
        self.setCurrentIndex(index)
        self.scrollTo(index)

    def select_row(self, row: int) -> bool:
        """Select pool row ``row`` if it is a current query; returns whether it is."""
        position = self._model.position_of(row)
        if position is None:
            self.setCurrentIndex(QModelIndex())
            self.clearSelection()
            return False
        if self.currentIndex().row() != position:
            self.select_position(position)
        return True

    def currentChanged(self, current: Index, previous: Index) -> None:
        super().currentChanged(current, previous)
        if current.isValid() and current.row() != previous.row():
            self.keys.pending = ""
            self.rowSelected.emit(self._model.row_at(current.row()))

    def leaveEvent(self, event: QEvent) -> None:
        super().leaveEvent(event)
        self.rowHovered.emit(-1)

    # -- labeling keys -----------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not self.label_key(event):
            super().keyPressEvent(event)

    def label_key(self, event: QKeyEvent) -> bool:
        """Answer the current query with a labeling key; False when ``event`` is not one (or
        there is no current query, or the label cell is being edited)."""
        session = self._model.session
        index = self.currentIndex()
        if (
            session is None
            or not index.isValid()
            or self.state() == QAbstractItemView.State.EditingState
        ):
            return False
        action = self.keys.press(event.key(), event.modifiers(), len(session.classes))
        if action is None:
            return False
        event.accept()
        self._act(action, index.row())
        return True

    def _act(self, action: KeyAction, position: int) -> None:
        session = self._model.session
        assert session is not None
        row = self._model.row_at(position)
        if action.kind == "pending":
            n = len(session.classes)
            options = [
                f"{key_of_class(c, n)} {name}"
                for c, name in enumerate(session.classes)
                if key_of_class(c, n).startswith(action.text)
            ]
            self.keyMessage.emit(f"{action.text}_ : " + ", ".join(options))
        elif action.kind in ("invalid", "cleared"):
            self.keyMessage.emit(action.text)
        elif action.kind == "accept":
            self.accept_guess(position)
        else:
            code = action.code
            call = (lambda: session.skip(row)) if action.kind == "skip" else None
            if call is None:
                call = lambda: session.label(row, code)  # noqa: E731
            if answer(self, call):
                self.keyMessage.emit("")
                self.advance(position)

    def accept_guess(self, position: int) -> None:
        """*A*: show the model's guess for the query at ``position``, or accept it once shown."""
        session = self._model.session
        if session is None:
            return
        row = self._model.row_at(position)
        view = round_view(session)
        if view is None or view.prediction[row] < 0:
            self.keyMessage.emit("There is no model yet, so no guess to accept.")
            return
        guess = int(view.prediction[row])
        if not self._model.guess_shown(row):
            self._model.reveal(row)
            self.keyMessage.emit(
                f"The model guesses '{session.classes[guess]}': A again accepts it."
            )
            return
        if answer(self, lambda: session.label(row, guess)):
            self.keyMessage.emit("")
            self.advance(position)

    def advance(self, position: int) -> None:
        """Select the next unanswered query after ``position`` (if any is left)."""
        nxt = self._model.next_open(position)
        if nxt is not None:
            self.select_position(nxt)
