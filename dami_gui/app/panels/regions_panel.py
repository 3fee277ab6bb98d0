"""The last round's DAMI partition as a sortable table; selected groups are outlined on the map.

Each row of the table is one group of :func:`dami_gui.core.explain.region_groups`: the pool rows
whose local linear model (the network's exact linear model at that row) is nearest to the same
center, a labeled row or one of the round's picks. Group numbers and colours are the map's (a
family hue and a shade, :mod:`dami_gui.app.map.colouring`).
Above the table: how many exact linear regions (distinct activation patterns) the pool has.

:class:`RegionsModel` reads the session's last round and current labels; labels only change the
"labeled" and "labels" columns, so a label repaints those cells, a round resets the table.
``RegionsPanel.highlightChanged(rows or None)`` carries the selected groups' rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from dami_gui.app.binding import SessionLink
from dami_gui.app.map.colouring import colouring
from dami_gui.app.palette import GREY, ClassColors, swatch
from dami_gui.core.explain import RegionGroup, region_groups
from dami_gui.core.session import Session

Index = QModelIndex | QPersistentModelIndex

SORT_ROLE = Qt.ItemDataRole.UserRole + 1

HEADERS = ["Group", "Rows", "Labeled", "Conf.", "Spread", "Center"]
TIPS = [
    "DAMI group: the number and colour it has on the map",
    "Pool rows in the group",
    "How many of them you have labeled, and with which labels",
    "Mean confidence of the model's prediction over the group",
    "Mean distance of the group's rows to its center in explanation space "
    "(small = their local models are alike)",
    "The group's center: a labeled row, or a row picked this round",
]
COL_GROUP, COL_ROWS, COL_LABELED, COL_CONFIDENCE, COL_SPREAD, COL_CENTER = range(6)


def label_mix(group: RegionGroup) -> str:
    """How many rows are labeled, and how: "0", "1 grass", or "3: grass 2, sky 1"."""
    if not group.labeled:
        return "0"
    mix = sorted(group.label_counts.items(), key=lambda kv: (-kv[1], kv[0]))
    if len(mix) == 1:
        return f"{group.labeled} {mix[0][0]}"
    return f"{group.labeled}: " + ", ".join(f"{k} {v}" for k, v in mix)


class RegionsModel(QAbstractTableModel):
    """One table row per non-empty DAMI group of the session's last round, largest first."""

    def __init__(self, parent: QWidget | None = None, colors: ClassColors | None = None) -> None:
        super().__init__(parent)
        self.session: Session | None = None
        self.colors = colors if colors is not None else ClassColors()
        self.groups: list[RegionGroup] = []
        self.n_regions = 0
        self._query_number: dict[int, int] = {}

    def set_session(self, session: Session | None) -> None:
        self.session = session
        self.reload()

    def _compute(self) -> list[RegionGroup]:
        session = self.session
        result = session.last_round if session is not None else None
        if session is None or result is None or result.partition is None:
            return []
        partition = np.asarray(result.partition)
        proba = np.asarray(result.proba)
        if partition.shape != (session.n_rows,) or proba.shape[0] != session.n_rows:
            return []
        return region_groups(
            partition,
            np.asarray(result.centers),
            result.center_distance,
            proba,
            session.labels,
            session.classes,
        )

    def reload(self) -> None:
        """Rebuild from the last round (a new round, a new session)."""
        self.beginResetModel()
        self.groups = self._compute()
        result = self.session.last_round if self.session is not None else None
        ids = np.asarray(result.region_ids) if result is not None else np.empty(0)
        self.n_regions = (
            int(np.unique(ids).size)
            if self.session is not None and ids.shape == (self.session.n_rows,)
            else 0
        )
        self._query_number = (
            {int(r): i + 1 for i, r in enumerate(np.asarray(result.queries))} if result else {}
        )
        self.endResetModel()

    def labels_changed(self) -> None:
        """Labels moved: recount; the groups themselves are the round's and stay."""
        groups = self._compute()
        if [g.index for g in groups] != [g.index for g in self.groups]:
            self.reload()
            return
        self.groups = groups
        if groups:
            self.dataChanged.emit(
                self.index(0, COL_LABELED), self.index(len(groups) - 1, COL_CENTER)
            )

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.groups)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return TIPS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self.session is None:
            return None
        g = self.groups[index.row()]
        col = index.column()
        if role == SORT_ROLE:
            return [
                g.index,
                g.size,
                g.labeled,
                g.mean_confidence,
                g.mean_distance,
                str(self.session.dataset.ids[g.center_row]),
            ][col]
        if role == Qt.ItemDataRole.DisplayRole:
            if col == COL_GROUP:
                return str(g.index + 1)
            if col == COL_ROWS:
                return f"{g.size:,}"
            if col == COL_LABELED:
                return label_mix(g)
            if col == COL_CONFIDENCE:
                return f"{g.mean_confidence:.0%}"
            if col == COL_SPREAD:
                return "" if np.isnan(g.mean_distance) else f"{g.mean_distance:.2f}"
            if col == COL_CENTER:
                center = str(self.session.dataset.ids[g.center_row])
                if g.center_labeled:
                    return f"{center} (labeled)"
                number = self._query_number.get(g.center_row)
                return f"{center} (pick #{number})" if number else center
        if role == Qt.ItemDataRole.DecorationRole and col == COL_GROUP:
            found = colouring(self.session, "groups", self.colors)
            ok = found is not None and g.index < found.n_units
            return swatch(found.colours[g.index] if found is not None and ok else GREY)
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (
            COL_ROWS,
            COL_CONFIDENCE,
            COL_SPREAD,
        ):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class RegionsPanel(QWidget):
    """Summary line, the sortable group table, and a Clear button.

    ``highlightChanged(rows)``: the pool rows of the selected groups, or None when none is
    selected. ``rowRequested(row)``: a group was double-clicked (its center row).
    """

    highlightChanged = Signal(object)
    rowRequested = Signal(int)

    def __init__(self, parent: QWidget | None = None, colors: ClassColors | None = None) -> None:
        super().__init__(parent)
        self.session: Session | None = None
        self._session_link = SessionLink(self, self._on_session)
        self.model = RegionsModel(self, colors)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.summary = QLabel()
        self.summary.setObjectName("regionsSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(COL_ROWS, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(20)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.table.doubleClicked.connect(self._double_clicked)
        self.hint = QLabel(
            "Select groups to outline their rows on the map (Ctrl-click for several); "
            "double-click one to select its center row."
        )
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: #555555;")
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Unselect the groups; the map shows every row again")
        self.clear_button.clicked.connect(self.table.clearSelection)
        bottom = QHBoxLayout()
        bottom.addWidget(self.hint, 1)
        bottom.addWidget(self.clear_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(50)
        self._timer.timeout.connect(self._labels_changed)
        self.set_session(None)

    def set_session(self, session: Session | None) -> None:
        self.session = session
        self._session_link.switch(session)
        self.model.set_session(session)
        self._after_reload()

    def _on_session(self, kind: str, payload: object) -> None:
        if kind == "round":
            self._timer.stop()
            self.model.reload()
            self._after_reload()
        elif kind == "labels":
            self._timer.start()

    def _labels_changed(self) -> None:
        before = len(self.model.groups)
        self.model.labels_changed()
        if len(self.model.groups) != before:
            self._after_reload()
        else:
            self._update_summary()

    def _after_reload(self) -> None:
        self._update_summary()
        self.highlightChanged.emit(None)  # a reset drops the selection

    def _update_summary(self) -> None:
        session = self.session
        groups = self.model.groups
        if session is None or session.last_round is None:
            self.summary.setText("The regions appear after the first round.")
            return
        if session.last_round.cold_start:
            self.summary.setText(
                "No model yet, so no linear regions: they appear after the first round with a "
                "model (once rows of two classes are labeled)."
            )
            return
        n = session.n_rows
        regions = self.model.n_regions
        text = (
            f"<b>{regions:,} exact linear regions in {n:,} rows</b> (rows with exactly the same "
            "active units; inside each the model is one linear model). "
            if regions
            else ""
        )
        if groups:
            text += (
                f"DAMI groups them into <b>{len(groups):,}</b> groups, one per labeled row or "
                "pick (its center): each row joins the center whose local model is most like its "
                "own."
            )
        else:
            text += "This round's groups were not kept; they appear after the next round."
        self.summary.setText(text)

    def selected_groups(self) -> list[RegionGroup]:
        rows = {self.proxy.mapToSource(i).row() for i in self.table.selectionModel().selectedRows()}
        return [self.model.groups[r] for r in sorted(rows) if r < len(self.model.groups)]

    def select_group(self, position: int) -> None:
        """Select the group shown at table row ``position`` (in the current sort order)."""
        self.table.selectRow(position)

    def select_groups(self, indices: list[int]) -> None:
        """Select the groups with these (0-based) indices, chosen on the map's legend (which
        outlines them itself: no ``highlightChanged`` here), and scroll to the first; an empty
        list clears the selection."""
        wanted = set(indices)
        selection = QItemSelection()
        first = None
        for position in range(self.proxy.rowCount()):
            index = self.proxy.index(position, 0)
            if self.model.groups[self.proxy.mapToSource(index).row()].index in wanted:
                selection.select(index, index)
                first = index if first is None else first
        flags = (
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows
        )
        blocked = self.blockSignals(True)
        try:
            self.table.selectionModel().select(selection, flags)
        finally:
            self.blockSignals(blocked)
        if first is not None:
            self.table.scrollTo(first)

    def _selection_changed(self, *_: object) -> None:
        groups = self.selected_groups()
        if not groups:
            self.highlightChanged.emit(None)
            return
        self.highlightChanged.emit(np.sort(np.concatenate([g.rows for g in groups])))

    def _double_clicked(self, index: Index) -> None:
        source = self.proxy.mapToSource(index)
        if source.isValid():
            self.rowRequested.emit(self.model.groups[source.row()].center_row)
