"""The map's colour legend: the families of groups (a hue each) and, inside, each group's shade.

A compact tree beside the plot (under it when the map is narrow, :class:`LegendSplit`). A
top-level entry is a family, "sky · 6" (6 groups), with its shades as a striped swatch and its
row count: the DAMI groups (or linear regions) whose rows the
model mostly predicts as that class. Its children are the groups in shade order. Clicking an
entry outlines its rows on the map (``highlightRequested(rows)``) and lists them under the tree;
in the DAMI-groups mode ``groupsChosen(groups)`` also carries the group indices, so that the
Regions tab can select them. Clicking the chosen entry again, or *Clear*, clears it; *Clear* is
enabled whenever the map shows an outline, also one chosen in the Regions tab, and drops it.

:func:`colour_note` is the sentence under the map that says what the colours and symbols mean.
"""

from __future__ import annotations

import html

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dami_gui.app.cell_text import counted
from dami_gui.app.map.colouring import Colouring
from dami_gui.app.palette import QUERY_RING, ClassColors, family_swatch, swatch
from dami_gui.app.panels.round_view import TOP_REGIONS, round_view
from dami_gui.core.session import Session

#: How many row ids the list under the tree names before "…".
LISTED_IDS = 12
#: The legend's widest (pixels): the plot keeps the room.
MAX_WIDTH = 190
#: The legend's tallest when it sits under the plot (a narrow map).
MAX_HEIGHT = 160
#: Maps at least this wide have the legend beside the plot, narrower ones under it.
SIDE_BY_SIDE_FROM = 720
KIND = Qt.ItemDataRole.UserRole + 1  # "family:f" or "unit:g"


class LegendSplit(QSplitter):
    """The plot and the legend side by side, or the legend under the plot when the map is
    narrower than :data:`SIDE_BY_SIDE_FROM` pixels (the plot keeps the room)."""

    def __init__(self, plot: QWidget, legend: MapLegend) -> None:
        super().__init__(Qt.Orientation.Horizontal)
        self.legend = legend
        self.addWidget(plot)
        self.addWidget(legend)
        self.setStretchFactor(0, 1)
        self.setStretchFactor(1, 0)
        self.setChildrenCollapsible(False)

    def resizeEvent(self, event: QResizeEvent) -> None:
        beside = event.size().width() >= SIDE_BY_SIDE_FROM
        wanted = Qt.Orientation.Horizontal if beside else Qt.Orientation.Vertical
        if self.orientation() != wanted:
            self.setOrientation(wanted)
            self.legend.setMaximumSize(
                MAX_WIDTH if beside else 16777215, 16777215 if beside else MAX_HEIGHT
            )
            length = event.size().width() if beside else event.size().height()
            side = MAX_WIDTH if beside else MAX_HEIGHT
            self.setSizes([max(length - side, 1), side])  # the plot takes the rest
        super().resizeEvent(event)


class MapLegend(QWidget):
    """Families and their groups for the map's current colouring; clicking one outlines it."""

    highlightRequested = Signal(object)  # rows (np.ndarray) or None
    groupsChosen = Signal(list)  # DAMI group indices (0-based), in the groups mode

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session: Session | None = None
        self.colouring: Colouring | None = None
        self.chosen: str | None = None
        self.chosen_rows: np.ndarray | None = None  # the rows last sent for outlining
        #: The map shows an outline, from here or elsewhere (the Regions tab): Clear drops it.
        self.outlined = False
        self._items: dict[str, QTreeWidgetItem] = {}  # "family:f" / "unit:g" -> its entry
        self._family_texts: list[str] = []
        self.title = QLabel("")
        self.title.setWordWrap(True)
        self.setMaximumWidth(MAX_WIDTH)
        self.tree = QTreeWidget()
        self.tree.setObjectName("mapLegend")
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Class · groups", "Rows"])
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.setRootIsDecorated(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setIndentation(12)
        self.tree.setToolTip(
            "Click a colour to outline its rows on the map; open a family to see its groups"
        )
        self.tree.itemClicked.connect(self._clicked)
        self.detail = QLabel("")
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail.setStyleSheet("color: #333333;")
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Remove the outline; the map shows every colour again")
        self.clear_button.clicked.connect(self.clear)
        self.clear_button.setEnabled(False)
        bottom = QHBoxLayout()
        bottom.addWidget(self.detail, 1)
        bottom.addWidget(self.clear_button, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.tree, 1)
        layout.addLayout(bottom)
        self.hide()  # shown with the first colouring by groups or regions

    # -- content --------------------------------------------------------------------------------
    def set_colouring(self, session: Session | None, colouring: Colouring | None) -> None:
        """Show ``colouring``'s families (nothing when None); a new colouring drops the choice."""
        if session is self.session and colouring is self.colouring:
            return
        if self.chosen is not None:  # its outline and the Regions tab's selection go with the
            self.clear()  # old colours
        self.session, self.colouring = session, colouring
        self.detail.setText("")
        self.clear_button.setEnabled(self.outlined)
        # the header and the list change together, never the one describing another round
        self.setUpdatesEnabled(False)
        try:
            self.title.setText("")
            self.tree.clear()
            self._items, self._family_texts = {}, []
            self.setVisible(colouring is not None)
            if colouring is not None and session is not None:
                self._fill(colouring)
        finally:
            self.setUpdatesEnabled(True)

    def _fill(self, colouring: Colouring) -> None:
        fam = colouring.families
        units = "DAMI group" if colouring.unit == "group" else "linear region"
        for f, chain in enumerate(fam.groups):
            shades = colouring.family_colours[f]
            item = QTreeWidgetItem(
                [f"{colouring.family_names[f]} · {len(chain)}", f"{fam.rows[f]:,}"]
            )
            item.setIcon(0, family_swatch(shades[:: max(1, len(shades) // 6)][:6]))
            item.setData(0, KIND, f"family:{f}")
            self._items[f"family:{f}"] = item
            self._family_texts.append(item.text(0))
            item.setToolTip(
                0,
                f"{counted(len(chain), units)} whose rows the model mostly predicts as "
                f"{colouring.family_names[f]}, {fam.rows[f]:,} rows; light to dark, similar "
                "ones side by side",
            )
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight)
            for g in chain:
                child = QTreeWidgetItem(
                    [colouring.unit_name(int(g)).capitalize(), f"{int(fam.group_size[g]):,}"]
                )
                child.setIcon(0, swatch(colouring.colours[g]))
                child.setData(0, KIND, f"unit:{int(g)}")
                self._items[f"unit:{int(g)}"] = child
                child.setTextAlignment(1, Qt.AlignmentFlag.AlignRight)
                item.addChild(child)
            self.tree.addTopLevelItem(item)
        # groups that hold rows: a pick that copies a labeled row (the tie rule) heads none
        shown = int((np.asarray(fam.group_size) > 0).sum())
        self.title.setText(
            f"<b>{counted(fam.n_families, 'colour')}</b> for {counted(shown, units)}"
        )
        self.title.setToolTip(
            f"A hue per class the model predicts for most of a {colouring.unit}'s rows, a shade "
            f"per {colouring.unit} (similar ones side by side). Hover a dot for its exact "
            f"{colouring.unit}; click an entry to outline its rows."
        )
        self.tree.headerItem().setToolTip(
            0, f"The class the model predicts for most rows, and how many {units}s have it"
        )

    def family_entries(self) -> list[str]:
        """The text of each family entry (tests, screenshots)."""
        return list(self._family_texts)

    # -- choosing -------------------------------------------------------------------------------
    def choose_family(self, f: int) -> None:
        """Outline the rows of family ``f`` and list them."""
        assert self.colouring is not None
        c = self.colouring
        self._choose(
            f"family:{f}",
            c.rows_of_family(f),
            list(c.families.groups[f]),
            f"The {c.family_names[f]} family",
        )

    def choose_unit(self, g: int) -> None:
        """Outline the rows of group (or region) ``g`` and list them."""
        assert self.colouring is not None
        c = self.colouring
        self._choose(f"unit:{g}", c.rows_of_unit(g), [g], c.describe(g).split(":")[0])

    def choose_row(self, row: int) -> bool:
        """Outline the group (or region) of pool row ``row``; False when it has none here."""
        if self.colouring is None or self.colouring.group_of_row[row] < 0:
            return False
        self.choose_unit(int(self.colouring.group_of_row[row]))
        return True

    def _choose(self, key: str, rows: np.ndarray, units: list[int], name: str) -> None:
        assert self.session is not None and self.colouring is not None
        self.chosen = key
        self.clear_button.setEnabled(True)
        ids = [str(i) for i in self.session.dataset.ids[rows[:LISTED_IDS]]]
        more = "…" if len(rows) > LISTED_IDS else ""
        self.detail.setText(f"{name}: {len(rows):,} rows outlined: {', '.join(ids)}{more}")
        self._select_item(key)
        self.chosen_rows = rows if len(rows) else None
        self.highlightRequested.emit(self.chosen_rows)
        if self.colouring.unit == "group":
            self.groupsChosen.emit([int(u) for u in units])

    def _select_item(self, key: str) -> None:
        item = self._items.get(key)
        if item is not None:
            self.tree.blockSignals(True)
            self.tree.setCurrentItem(item)
            self.tree.blockSignals(False)

    def set_outlined(self, on: bool) -> None:
        """The map shows an outline now (``on``), whoever asked for it: Clear can drop it."""
        self.outlined = bool(on)
        self.clear_button.setEnabled(self.outlined or self.chosen is not None)

    def clear(self) -> None:
        """Drop the choice and the map's outline (also one the Regions tab asked for)."""
        had = self.chosen is not None or self.outlined
        self.forget()
        if had:
            self.highlightRequested.emit(None)
            if self.colouring is not None and self.colouring.unit == "group":
                self.groupsChosen.emit([])

    def forget(self) -> None:
        """Drop the choice without touching the map (the outline was cleared elsewhere)."""
        self.chosen, self.chosen_rows = None, None
        self.detail.setText("")
        self.clear_button.setEnabled(self.outlined)
        self.tree.clearSelection()

    def _clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        key = item.data(0, KIND)
        if not key:
            return
        kind, index = str(key).split(":")
        if key == self.chosen:
            self.clear()
        elif kind == "family":
            self.choose_family(int(index))
        else:
            self.choose_unit(int(index))


def colour_note(
    session: Session, mode: str, colors: ClassColors, dense: bool, outlined: int | None
) -> tuple[str, str]:
    """The note under the map: what the dot colours mean in ``mode``, the symbols, and how many
    rows are ``outlined``; and its tooltip (the longer story, the class colours)."""
    view = round_view(session)
    tip = ""
    if view is None:
        colour = "Grey dots: rows not labeled yet (colours appear after the first round)."
    elif view.result.cold_start:
        colour = (
            "No model yet: grey dots are the rows not labeled; the rows to label are the most "
            "typical row of each unexplored part of the pool (colours come with the first "
            "model, once rows of two classes are labeled)."
        )
    elif mode == "groups":
        part = view.result.partition
        # groups that hold rows: a pick that copies a labeled row (the tie rule) heads none
        groups = np.unique(np.asarray(part)) if part is not None else np.empty(0)
        n = int((groups >= 0).sum())
        colour = (
            f"Dot colour: DAMI group ({n} groups of rows whose local explanation is closest to "
            "the same center), in the hue of its predicted class."
        )
        tip = (
            "Each group takes the hue of the class the model predicts for most of its rows, and "
            "a shade of its own. Shift-click a dot to outline its group."
        )
    elif mode == "regions" and view.n_regions == 0:
        colour = "Linear regions are not known for this round; the next round finds them."
    elif mode == "regions":
        top = min(TOP_REGIONS, view.n_regions)
        covered = int(((view.region_rank >= 0) & (view.region_rank < top)).sum())
        colour = (
            f"Dot colour: the {top} largest of the network's {view.n_regions} linear regions "
            f"({covered:,} of {session.n_rows:,} rows) in the hue of the class predicted there, "
            "a shade each; grey: the others."
        )
    else:
        colour = "Dot colour: the class the model predicts (pale)."
    classes = " ".join(
        f"<span style='color:{colors[i]}'>■</span>&nbsp;{html.escape(name)}"
        for i, name in enumerate(session.classes)
    )
    shown = (
        " Plain rows are drawn per screen pixel, in the colour most of its rows have; darker "
        "where more rows fall."
        if dense
        else ""
    )
    text = (
        f"{colour} ■ labeled · <span style='color:{QUERY_RING}'>◯</span> to label, numbered in "
        f"pick order · ✕ not sure.{shown}"
    )
    if outlined is not None:
        text += (
            f" <b>Outlined</b>: the {outlined:,} rows of the selected group(s); the other "
            "unlabeled rows are grey."
        )
    return text, f"{tip}<br>Labeled rows (squares) in their class colour: {classes}"
