"""Label conflicts: labeled rows that share one exact linear region but carry different labels.

Inside one region the network is a single linear classifier, so rows there that you labeled
differently are either a labeling mistake or a place where the model cannot separate those
classes yet. The list comes from :func:`dami_gui.core.explain.label_conflicts` over the last
round's region ids and the current labels; clicking a row (or a region: its first row) selects it
in the table and on the map.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dami_gui.app.binding import SessionLink
from dami_gui.app.palette import ClassColors, swatch
from dami_gui.app.panels.round_view import RoundCache
from dami_gui.core.explain import Conflict, label_conflicts
from dami_gui.core.session import Session

ROW_ROLE = Qt.ItemDataRole.UserRole + 1

INTRO = (
    "Labeled rows that fall in the <b>same exact linear region</b> but carry "
    "<b>different labels</b>. Inside a region the model is one linear classifier, so this is "
    "either a labeling mistake, or a place where the model cannot yet separate these classes. "
    "Click a row to check it; relabel it if it is wrong."
)


class ConflictsPanel(QWidget):
    """The conflicts as a tree (region, then its rows); ``rowRequested(row)`` on a click and
    ``countChanged(n)`` whenever the number of conflicting regions changes."""

    rowRequested = Signal(int)
    countChanged = Signal(int)

    def __init__(
        self, colors: ClassColors, cache: RoundCache | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.colors = colors
        self.cache = cache or RoundCache(self)
        self.cache.ready.connect(self.refresh)
        self.session: Session | None = None
        self._session_link = SessionLink(self, self._on_session)
        self.conflicts: list[Conflict] = []
        self.intro = QLabel(INTRO)
        self.intro.setWordWrap(True)
        self.intro.setTextFormat(Qt.TextFormat.RichText)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Region / row", "Labels"])
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.header().setStretchLastSection(True)
        self.tree.itemClicked.connect(self._clicked)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.intro)
        layout.addWidget(self.status)
        layout.addWidget(self.tree, 1)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(50)
        self._timer.timeout.connect(self.refresh)
        self.set_session(None)

    def set_session(self, session: Session | None) -> None:
        self.session = session
        self._session_link.switch(session)
        self.refresh()

    def _on_session(self, kind: str, payload: object) -> None:
        if kind in ("labels", "round"):
            self._timer.start()

    def refresh(self) -> None:
        self._timer.stop()
        session = self.session
        self.conflicts = []
        self.tree.clear()
        region_ids = self.cache.region_ids(session)
        if session is None or session.last_round is None:
            self.status.setText("Conflicts are looked for after the first round.")
        elif not session.last_round.has_model:
            self.status.setText("Conflicts are looked for once there is a model.")
        elif region_ids is None:
            self.status.setText("Working out the linear regions…")
        else:
            self.conflicts = label_conflicts(region_ids, session.labels, session.classes)
            self._fill(session, session.last_round.index)
        self.countChanged.emit(len(self.conflicts))

    def _fill(self, session: Session, round_index: int) -> None:
        if not self.conflicts:
            self.status.setText("No conflicts: in every exact region your labels agree.")
            return
        n = len(self.conflicts)
        self.status.setText(
            f"<b>{n} region{'s' if n != 1 else ''}</b> with disagreeing labels "
            f"(round {round_index}'s network)."
        )
        self.status.setTextFormat(Qt.TextFormat.RichText)
        ids = session.dataset.ids
        for conflict in self.conflicts:
            mix = ", ".join(f"{k} {v}" for k, v in sorted(conflict.labels.items()))
            top = QTreeWidgetItem(
                [f"Region {conflict.region_id[:8]}… ({len(conflict.rows)} rows)", mix]
            )
            top.setToolTip(0, f"Exact linear region {conflict.region_id}")
            top.setData(0, ROW_ROLE, int(conflict.rows[0]))
            for row in conflict.rows:
                code = int(session.labels[row])
                child = QTreeWidgetItem([f"Row {ids[row]}", session.classes[code]])
                child.setIcon(1, swatch(self.colors[code]))
                child.setData(0, ROW_ROLE, int(row))
                child.setToolTip(0, "Click to select this row in the table and on the map")
                top.addChild(child)
            self.tree.addTopLevelItem(top)
            top.setExpanded(True)

    def item_for_row(self, row: int) -> QTreeWidgetItem | None:
        """The tree item of labeled row ``row`` (for tests)."""
        for top in _children(self.tree.invisibleRootItem()):
            for child in _children(top):
                if child.data(0, ROW_ROLE) == row:
                    return child
        return None

    def rows(self) -> np.ndarray:
        """Every row listed, in order."""
        return np.array([r for c in self.conflicts for r in c.rows], dtype=np.int64)

    def _clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        row = item.data(0, ROW_ROLE)
        if row is not None:
            self.rowRequested.emit(int(row))


def _children(item: QTreeWidgetItem) -> list[QTreeWidgetItem]:
    """The child items of ``item``, in order."""
    children = (item.child(j) for j in range(item.childCount()))
    return [child for child in children if child is not None]  # None only past the last one
