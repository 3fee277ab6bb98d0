"""The map of the pool: one pyqtgraph scatter, coloured by the network's regions, queries numbered.

Drawing rules (read from the session and the last round, never copied):

* every row is a small dot coloured by the chosen mode: DAMI groups (each row's nearest center,
  ``result.partition``), the largest exact linear regions (``result.region_ids``, the rest grey),
  or the predicted class;
* labeled rows are bigger squares in their class colour with a dark outline; "not sure" rows are
  grey crosses;
* the current queries get a red ring and their number in selection order.

Performance: one :class:`pyqtgraph.ScatterPlotItem` (``pxMode=True``) is reused through
``setData``; brushes and pens are built once and indexed, so pyqtgraph renders each style once.
With many rows, a label only restyles the changed spots instead of rebuilding all of them, and
above :attr:`MapView.MAX_POINTS` rows a fixed random subsample is drawn (labeled rows and queries
always kept). Hover and click use a vectorised nearest-point search in screen pixels, not
pyqtgraph's per-spot objects, which would cost a fraction of a second at 100k points.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QCursor, QFont, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from dami_gui.app.binding import SessionLink
from dami_gui.app.palette import GREY, QUERY_RING, REGION_COLORS, SELECTION, ClassColors
from dami_gui.app.panels.round_view import TOP_REGIONS, round_view
from dami_gui.core.session import Session

MODES = [
    ("groups", "DAMI groups"),
    ("regions", "Largest linear regions"),
    ("prediction", "Predicted class"),
]

SIZE_POOL, SIZE_LABELED, SIZE_QUERY = 6, 10, 14
MAX_NUMBERS = 100  # query numbers drawn as text (a batch is rarely larger)


def _object_array(items: list) -> np.ndarray:
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


Style = tuple[str, float, QPen, QBrush]


class StyledScatter(pg.ScatterPlotItem):
    """A ScatterPlotItem whose points take their look from a small style table, by code.

    pyqtgraph looks up every point's (symbol, size, pen, brush) in its symbol atlas one by one in
    Python, about 0.7 s for 100k points. Here each distinct style is looked up once and the
    atlas coordinates are broadcast with numpy, so restyling 100k points takes milliseconds.
    """

    def __init__(self, **kwargs: object) -> None:
        self._bulk = False
        super().__init__(**kwargs)

    def updateSpots(self, dataSet: np.ndarray | None = None) -> None:
        if not self._bulk:  # set_points styles the points itself right after
            super().updateSpots(dataSet)

    def set_points(
        self, x: np.ndarray, y: np.ndarray, rows: np.ndarray, codes: np.ndarray, table: list[Style]
    ) -> None:
        """Replace all points: positions, their row index as ``data``, and their style codes."""
        self._bulk = True
        try:
            self.setData(x=x, y=y, data=rows)
        finally:
            self._bulk = False
        self.restyle(np.arange(len(rows)), codes, table)

    def restyle(self, slots: np.ndarray, codes: np.ndarray, table: list[Style]) -> None:
        """Give the points at ``slots`` the styles ``table[codes]``."""
        if len(slots) == 0:
            return
        data = self.data
        used = np.unique(codes)
        coords = self.fragmentAtlas[[table[int(c)] for c in used]]
        position = np.searchsorted(used, codes)
        columns = list(zip(*[table[int(c)] for c in used], strict=True))
        data["symbol"][slots] = _object_array(list(columns[0]))[position]
        data["size"][slots] = np.asarray(columns[1], dtype=float)[position]
        data["pen"][slots] = _object_array(list(columns[2]))[position]
        data["brush"][slots] = _object_array(list(columns[3]))[position]
        rects = np.array([tuple(c) for c in coords], dtype=data["sourceRect"].dtype)
        data["sourceRect"][slots] = rects[position]
        self._updateMaxSpotSizes(data=data)
        self.invalidate()


class MapView(QWidget):
    """The 2-D map with its toolbar and legend; ``rowClicked(row)`` when a point is clicked."""

    rowClicked = Signal(int)

    MAX_POINTS = 100_000
    #: Above this many drawn points, a label restyles only its spot instead of redrawing all.
    INCREMENTAL_ABOVE = 20_000
    PICK_RADIUS = 8.0  # pixels

    def __init__(self, colors: ClassColors, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.colors = colors
        self.session: Session | None = None
        self._session_link = SessionLink(self, self._on_session)
        self.positions: np.ndarray | None = None  # (N, 2) float32 layout of every pool row
        self.layout_name = ""
        self.mode = "groups"
        self.selected: int | None = None
        self.highlight: np.ndarray | None = None  # (N,) bool: rows of the selected DAMI group(s)
        self.order = np.empty(0, dtype=np.int64)  # pool rows in drawing order
        self._slot = np.empty(0, dtype=np.int64)  # pool row -> index in the scatter, or -1
        self._subsample: np.ndarray | None = None  # fixed background subsample for huge pools
        self.refresh_count = 0  # full redraws (tests read it)

        # -- widgets ------------------------------------------------------------------------
        self.plot = pg.PlotWidget(background="w")
        self.plot.setMenuEnabled(False)
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.plot.setAspectLocked(False)
        self.viewbox = self.plot.getViewBox()
        self.viewbox.setDefaultPadding(0.03)
        self.scatter = StyledScatter(pxMode=True, useCache=True, hoverable=False)
        self.plot.addItem(self.scatter)
        self.target = pg.TargetItem(
            pos=(0, 0),
            size=22,
            symbol="o",
            movable=False,
            pen=pg.mkPen(SELECTION, width=2),
            brush=pg.mkBrush(0, 0, 0, 0),
        )
        self.target.setVisible(False)
        self.target.setZValue(10)
        self.plot.addItem(self.target)
        self.numbers: list[pg.TextItem] = []

        self.mode_box = QComboBox()
        for key, title in MODES:
            self.mode_box.addItem(title, key)
        self.mode_box.setToolTip("What the colours of the small dots show")
        self.mode_box.currentIndexChanged.connect(self._mode_changed)
        self.box_zoom = QPushButton("Box zoom")
        self.box_zoom.setCheckable(True)
        self.box_zoom.setToolTip(
            "When on, drag a box to zoom in; when off, drag to pan. Wheel zooms."
        )
        self.box_zoom.toggled.connect(self._set_box_zoom)
        self.reset_button = QPushButton("Reset view")
        self.reset_button.setToolTip("Show the whole pool")
        self.reset_button.clicked.connect(self.reset_view)
        self.status = QLabel("")
        self.status.setObjectName("mapStatus")
        self.legend = QLabel("")
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)

        bar = QHBoxLayout()
        bar.addWidget(QLabel("Colour by:"))
        bar.addWidget(self.mode_box)
        bar.addWidget(self.box_zoom)
        bar.addWidget(self.reset_button)
        bar.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.plot, 1)
        bottom = QHBoxLayout()  # the status sits by the legend so the toolbar stays narrow
        bottom.addWidget(self.legend, 1)
        bottom.addWidget(self.status, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(bottom)

        self._hover_pos: QPointF | None = None
        self._hover_timer = QTimer(self)
        self._hover_timer.setSingleShot(True)
        self._hover_timer.setInterval(40)
        self._hover_timer.timeout.connect(self._show_hover)
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(30)
        self._refresh_timer.timeout.connect(self.refresh)
        scene = self.plot.scene()
        scene.sigMouseMoved.connect(self._mouse_moved)
        scene.sigMouseClicked.connect(self._mouse_clicked)
        self._build_styles()

    # -- styles ------------------------------------------------------------------------------
    def _build_styles(self) -> None:
        """Brushes, pens and the style table, built once per palette; points index into it.

        Brushes: the region colours, grey, the class colours, then pale class colours. A style
        is (symbol, size, pen, brush) for one kind of point (pool, labeled, query, not sure)
        and one brush: code ``kind * len(brushes) + brush``.
        """
        n_classes = len(self.session.classes) if self.session is not None else 0
        class_colors = [QColor(self.colors[i]) for i in range(max(n_classes, 1))]
        pale = []
        for c in class_colors:
            c = QColor(c)
            c.setAlpha(90)
            pale.append(c)
        colors = [QColor(c) for c in REGION_COLORS] + [QColor(GREY)] + class_colors + pale
        self.brushes = [pg.mkBrush(c) for c in colors]
        self.grey_index = len(REGION_COLORS)
        self.class_base = self.grey_index + 1
        self.pale_base = self.class_base + len(class_colors)
        no_pen = pg.mkPen(None)
        dark = pg.mkPen("#222222", width=1)
        ring = pg.mkPen(QUERY_RING, width=2.5)
        kinds = [("o", SIZE_POOL, no_pen), ("s", SIZE_LABELED, dark), ("o", SIZE_QUERY, ring)]
        kinds.append(("x", SIZE_LABELED, dark))
        # the same four kinds, highlighted (the rows of a group selected in the Regions panel)
        strong = pg.mkPen(SELECTION, width=2)
        kinds += [
            ("o", SIZE_POOL + 4, strong),
            ("s", SIZE_LABELED + 3, pg.mkPen(SELECTION, width=3)),
            ("o", SIZE_QUERY + 3, pg.mkPen(QUERY_RING, width=3.5)),
            ("x", SIZE_LABELED + 3, strong),
        ]
        self.style_table = [
            (sym, size, pen, brush) for sym, size, pen in kinds for brush in self.brushes
        ]

    def class_brush(self, code: int) -> QBrush:
        """The brush of labeled rows of class ``code``."""
        return self.brushes[self.class_base + code]

    # -- session and layout --------------------------------------------------------------------
    def set_session(self, session: Session | None) -> None:
        self.session = session
        self.positions = None
        self.selected = None
        self.highlight = None
        self._subsample = None
        self.target.setVisible(False)
        self._build_styles()
        self._session_link.switch(session)
        self.scatter.clear()
        self.order = np.empty(0, dtype=np.int64)
        self._update_legend()

    def set_layout(self, positions: np.ndarray, name: str) -> None:
        """Show the pool at ``positions`` (N × 2); ``name`` says which layout ("PCA", "UMAP")."""
        positions = np.asarray(positions, dtype=np.float32)
        if self.session is not None and len(positions) != self.session.n_rows:
            return  # a layout for another data set arrived late
        self.positions = positions
        self.layout_name = name
        self.set_status(f"Map: {name}")
        self.refresh()
        self.reset_view()

    def set_status(self, text: str) -> None:
        self.status.setText(text)

    def reset_view(self) -> None:
        """Fit the view to the pool; a few far outliers (0.5 % per side) may fall outside."""
        if self.positions is None or not len(self.positions):
            return
        if len(self.positions) >= 200:
            lo = np.quantile(self.positions, 0.005, axis=0)
            hi = np.quantile(self.positions, 0.995, axis=0)
        else:
            lo, hi = self.positions.min(axis=0), self.positions.max(axis=0)
        self.viewbox.setRange(
            xRange=(float(lo[0]), float(hi[0])),
            yRange=(float(lo[1]), float(hi[1])),
            padding=0.06,
        )

    def _set_box_zoom(self, on: bool) -> None:
        self.viewbox.setMouseMode(pg.ViewBox.RectMode if on else pg.ViewBox.PanMode)

    def _mode_changed(self) -> None:
        self.mode = self.mode_box.currentData()
        self.refresh()

    def set_mode(self, mode: str) -> None:
        index = [key for key, _ in MODES].index(mode)
        self.mode_box.setCurrentIndex(index)

    def _on_session(self, kind: str, payload: object) -> None:
        if kind == "round":
            self.refresh()
        elif kind == "labels":
            self.update_rows(np.asarray(payload, dtype=np.int64))

    # -- drawing -------------------------------------------------------------------------------
    def _display_rows(self) -> np.ndarray:
        """Pool rows to draw, in drawing order: background, then labeled, then queries on top."""
        session = self.session
        assert session is not None
        n = session.n_rows
        special = (session.labels >= 0) | session.skipped
        queries = np.asarray(session.queries, dtype=np.int64)
        is_query = np.zeros(n, dtype=bool)
        is_query[queries] = True
        background = ~special & ~is_query
        if n > self.MAX_POINTS:
            if self._subsample is None:
                rng = np.random.default_rng(0)
                keep = np.zeros(n, dtype=bool)
                keep[rng.choice(n, self.MAX_POINTS, replace=False)] = True
                self._subsample = keep
            keep = self._subsample if self.highlight is None else self._subsample | self.highlight
            background &= keep  # a highlighted group is drawn whole
        labeled = special & ~is_query
        if self.highlight is not None:  # highlighted rows drawn over the other dots
            front = np.flatnonzero(background & self.highlight)
            back = np.flatnonzero(background & ~self.highlight)
            return np.concatenate([back, front, np.flatnonzero(labeled), queries])
        return np.concatenate([np.flatnonzero(background), np.flatnonzero(labeled), queries])

    def _base_brushes(self, rows: np.ndarray) -> np.ndarray:
        """Index into ``self.brushes`` of the mode's colour for each of ``rows``."""
        session = self.session
        assert session is not None
        view = round_view(session)
        out = np.full(len(rows), self.grey_index, dtype=np.int64)
        if view is None:
            return out
        if self.mode == "groups" and view.result.partition is not None:
            out[:] = np.asarray(view.result.partition)[rows] % len(REGION_COLORS)
        elif self.mode == "regions":
            rank = view.region_rank[rows]
            top = (rank >= 0) & (rank < TOP_REGIONS)  # -1: regions not known for this round
            out[top] = rank[top] % len(REGION_COLORS)
        elif self.mode == "prediction":
            pred = view.prediction[rows]
            ok = pred >= 0
            out[ok] = self.pale_base + pred[ok]
        return out

    def _style_codes(self, rows: np.ndarray) -> np.ndarray:
        """Index into ``self.style_table`` for each of ``rows``."""
        session = self.session
        assert session is not None
        brush = self._base_brushes(rows)
        labels = session.labels[rows]
        skipped = session.skipped[rows]
        is_query = np.isin(rows, session.queries)
        labeled = labels >= 0
        brush[labeled] = self.class_base + labels[labeled]
        brush[skipped] = self.grey_index
        kind = np.zeros(len(rows), dtype=np.int64)
        kind[labeled] = 1
        kind[skipped] = 3
        kind[is_query] = 2
        if self.highlight is not None:  # outline the highlighted rows, grey out the other dots
            on = self.highlight[rows]
            brush[~on & (kind == 0)] = self.grey_index
            kind[on] += 4
        return kind * len(self.brushes) + brush

    def refresh(self) -> None:
        """Redraw every point from the session and the last round (one ``setData``)."""
        self._refresh_timer.stop()
        if self.session is None or self.positions is None:
            return
        rows = self._display_rows()
        pos = self.positions[rows]
        self.scatter.set_points(
            pos[:, 0], pos[:, 1], rows, self._style_codes(rows), self.style_table
        )
        self.order = rows
        self._slot = np.full(self.session.n_rows, -1, dtype=np.int64)
        self._slot[rows] = np.arange(len(rows))
        self.refresh_count += 1
        self._draw_numbers()
        self._place_target()
        self._update_legend()

    def update_rows(self, rows: np.ndarray) -> None:
        """Restyle ``rows`` after their labels changed; cheap for large pools."""
        if self.session is None or self.positions is None or len(self.order) == 0:
            return
        slots = self._slot[rows] if rows.size else np.empty(0, dtype=np.int64)
        if len(self.order) <= self.INCREMENTAL_ABOVE or np.any(slots < 0):
            self._refresh_timer.start()  # coalesce bursts of labels into one redraw
            return
        self.scatter.restyle(slots, self._style_codes(rows), self.style_table)
        self._update_legend()

    def _draw_numbers(self) -> None:
        session = self.session
        assert session is not None and self.positions is not None
        view = round_view(session)
        queries = [] if view is None else list(np.asarray(session.queries)[:MAX_NUMBERS])
        font = QFont()
        font.setPointSize(8)
        font.setBold(True)
        while len(self.numbers) < len(queries):
            item = pg.TextItem(
                "", color="#7a0c0c", anchor=(-0.15, 1.0), fill=pg.mkBrush(255, 255, 255, 190)
            )
            item.setFont(font)
            item.setZValue(5)
            self.plot.addItem(item)
            self.numbers.append(item)
        for i, item in enumerate(self.numbers):
            if i < len(queries):
                row = int(queries[i])
                number = view.query_number.get(row, i + 1) if view else i + 1
                item.setText(str(number))
                item.setPos(float(self.positions[row, 0]), float(self.positions[row, 1]))
                item.setVisible(True)
            else:
                item.setVisible(False)

    # -- selection, hover, click ---------------------------------------------------------------
    def set_highlight(self, rows: np.ndarray | None) -> None:
        """Outline ``rows`` (bigger, dark edge) and grey out the other unlabeled dots; None or
        an empty array clears it. One redraw of the same scatter."""
        if self.session is None or rows is None or len(rows) == 0:
            mask = None
        else:
            mask = np.zeros(self.session.n_rows, dtype=bool)
            mask[np.asarray(rows, dtype=np.int64)] = True
        if mask is None and self.highlight is None:
            return
        self.highlight = mask
        self.refresh()

    def highlighted_rows(self) -> np.ndarray:
        """The highlighted pool rows (sorted), empty when none."""
        if self.highlight is None:
            return np.empty(0, dtype=np.int64)
        return np.flatnonzero(self.highlight)

    def set_selected(self, row: int | None) -> None:
        self.selected = row
        self._place_target()

    def _place_target(self) -> None:
        if self.selected is None or self.positions is None or self.selected >= len(self.positions):
            self.target.setVisible(False)
            return
        x, y = self.positions[self.selected]
        self.target.setPos(float(x), float(y))
        self.target.setVisible(True)

    def row_at(self, scene_pos: QPointF) -> int | None:
        """The pool row drawn on top at ``scene_pos``, else the nearest within :attr:`PICK_RADIUS`
        pixels."""
        if len(self.order) == 0 or not self.viewbox.sceneBoundingRect().contains(scene_pos):
            return None
        point = self.viewbox.mapSceneToView(scene_pos)
        px, py = self.viewbox.viewPixelSize()
        if px <= 0 or py <= 0:
            return None
        data = self.scatter.data
        dx = (data["x"] - point.x()) / px
        dy = (data["y"] - point.y()) / py
        d2 = dx * dx + dy * dy
        # The point drawn on top (later in the order) among those whose symbol is under the
        # cursor, as the eye sees it: a query's ring wins over a dot beneath it.
        radius = np.asarray(data["size"], dtype=float) / 2.0 + 0.5
        under = np.flatnonzero(d2 <= radius * radius)
        if under.size:
            return int(data["data"][under[-1]])
        best = int(len(d2) - 1 - np.argmin(d2[::-1]))  # else the nearest, within the radius
        if d2[best] > self.PICK_RADIUS**2:
            return None
        return int(data["data"][best])

    def scene_pos_of(self, row: int) -> QPointF:
        """Scene position of pool row ``row`` (for tests and tooltips)."""
        assert self.positions is not None
        x, y = self.positions[row]
        return self.viewbox.mapViewToScene(QPointF(float(x), float(y)))

    def tooltip_for(self, row: int) -> str:
        """Hover text: row id, label, prediction with confidence, group and region."""
        session = self.session
        if session is None:
            return ""
        lines = [f"Row {session.dataset.ids[row]}"]
        code = int(session.labels[row])
        if session.skipped[row]:
            lines.append("Your label: not sure")
        elif code >= 0:
            lines.append(f"Your label: {session.classes[code]}")
        view = round_view(session)
        if view is not None:
            if view.prediction[row] >= 0:
                lines.append(
                    f"Prediction: {session.classes[int(view.prediction[row])]} "
                    f"({float(view.confidence[row]):.0%})"
                )
            group = view.group(row)
            if group is not None:
                lines.append(f"DAMI group: {group}")
            if view.region_rank[row] >= 0:
                lines.append(f"Linear region: {int(view.region_rank[row]) + 1} of {view.n_regions}")
            number = view.query_number.get(row)
            if number is not None and row in set(np.asarray(session.queries).tolist()):
                lines.append(f"Query #{number} this round")
        return "\n".join(lines)

    def _mouse_moved(self, scene_pos: QPointF) -> None:
        self._hover_pos = QPointF(scene_pos)
        self._hover_timer.start()

    def _show_hover(self) -> None:
        if self._hover_pos is None:
            return
        row = self.row_at(self._hover_pos)
        if row is None:
            QToolTip.hideText()
            return
        QToolTip.showText(QCursor.pos(), self.tooltip_for(row), self.plot)

    def _mouse_clicked(self, event: object) -> None:
        if getattr(event, "button", lambda: None)() != Qt.MouseButton.LeftButton:
            return
        row = self.row_at(event.scenePos())  # type: ignore[attr-defined]
        if row is not None:
            self.rowClicked.emit(row)

    # -- legend ----------------------------------------------------------------------------------
    def _update_legend(self) -> None:
        session = self.session
        if session is None:
            self.legend.setText("")
            return
        view = round_view(session)
        if view is None:
            colour = "Grey dots: rows not labeled yet (colours appear after the first round)."
        elif self.mode == "groups":
            n = int(np.max(view.result.partition)) + 1 if view.result.partition is not None else 0
            colour = (
                f"Dot colour: DAMI group ({n} groups of rows whose local explanation is "
                "closest to the same center)."
            )
        elif self.mode == "regions" and view.n_regions == 0:
            colour = "Linear regions are not known for this round; the next round finds them."
        elif self.mode == "regions":
            top = min(TOP_REGIONS, view.n_regions)
            covered = int(((view.region_rank >= 0) & (view.region_rank < top)).sum())
            colour = (
                f"Dot colour: the {top} largest of the network's {view.n_regions} linear "
                f"regions ({covered:,} of {session.n_rows:,} rows); grey: the others."
            )
        else:
            colour = "Dot colour: the class the model predicts (pale)."
        classes = " ".join(
            f"<span style='color:{self.colors[i]}'>■</span>&nbsp;{name}"
            for i, name in enumerate(session.classes)
        )
        shown = (
            ""
            if len(self.order) >= session.n_rows
            else (
                f" Showing {len(self.order):,} of {session.n_rows:,} rows"
                " (all labeled rows and queries)."
            )
        )
        self.legend.setText(
            f"{colour} Labeled rows (squares): {classes}. "
            f"<span style='color:{QUERY_RING}'>◯</span> red ring: row to label, numbered in pick "
            f"order. ✕ not sure.{shown}"
            + (
                ""
                if self.highlight is None
                else f" <b>Outlined</b>: the {int(self.highlight.sum()):,} rows of the selected "
                "group(s); the other unlabeled rows are grey."
            )
        )
