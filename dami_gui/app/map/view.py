"""The map of the pool: one pyqtgraph scatter, coloured by the network's regions, queries numbered.

The widget: a toolbar (colour mode, box zoom, reset), the plot with the colour families beside it
(:mod:`.legend`, :mod:`.colouring`), the legend and the map's status. What is drawn, in which
order and style, is :mod:`.drawing`; which point is under the mouse and its tooltip,
:mod:`.picking`. The current queries carry their number in selection order.

Performance: the one scatter is reused through ``setData``. With many rows, a label only
restyles the changed spots instead of rebuilding all of them. Above :data:`DENSITY_ABOVE` rows
the plain pool dots are one density image instead (:mod:`.pool_image`, :mod:`.density`): counts
per screen pixel coloured by the dominant style, re-rendered when the view moves; the labeled
rows, the queries, the selection and a highlighted group of at most
:data:`HIGHLIGHT_POINTS_MAX` rows stay scatter points on top, and hover and click find the
nearest row through a grid index (:class:`.picking.PointIndex`).
"""

from __future__ import annotations

import html
import math
import time

import numpy as np
import pyqtgraph as pg
from pyqtgraph.GraphicsScene.mouseEvents import MouseClickEvent
from PySide6.QtCore import QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QCursor, QFont
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from dami_gui.app.binding import SessionLink
from dami_gui.app.map.colouring import colouring
from dami_gui.app.map.drawing import (
    MapStyles,
    StyledScatter,
    drawing_order,
    style_codes,
)
from dami_gui.app.map.legend import LegendSplit, MapLegend
from dami_gui.app.map.picking import PointIndex, pick_row, tooltip_text
from dami_gui.app.map.pool_image import PoolImage, drawn_as_points, plain_rows, style_colours
from dami_gui.app.palette import QUERY_RING, SELECTION, ClassColors
from dami_gui.app.panels.round_view import TOP_REGIONS, round_view
from dami_gui.core.session import Session

MODES = [
    ("groups", "DAMI groups"),
    ("regions", "Largest linear regions"),
    ("prediction", "Predicted class"),
]

MAX_NUMBERS = 100  # query numbers drawn as text (a batch is rarely larger)

#: Above this many pool rows the plain dots are drawn as a density image, not as points.
#: Measured (docs/big-pools.md, "Drawing a big pool", a loaded 2-core machine): at 50,000 points
#: a repaint of the scatter took 43 ms against 3 ms for the image (at 20,000 points 33 ms, still
#: fluid, where the image's re-render after a zoom cost more than the points' repaint).
DENSITY_ABOVE = 50_000
#: In density mode, a highlighted group of at most this many rows is also drawn as points.
HIGHLIGHT_POINTS_MAX = 20_000


class MapView(QWidget):
    """The 2-D map with its toolbar and legend; ``rowClicked(row)`` when a point is clicked."""

    rowClicked = Signal(int)

    DENSITY_ABOVE = DENSITY_ABOVE
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
        self._index: PointIndex | None = None  # nearest-row look-up, built at the first pick
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
        self.pool_image = PoolImage(self.plot)
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
        # the combo may shrink below its longest title, so the map's column fits at 1280 px
        self.mode_box.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.mode_box.setMinimumContentsLength(8)
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
        #: Moves while the map is being computed: a busy bar when no share can be given.
        self.busy = QProgressBar()
        self.busy.setObjectName("mapBusy")
        self.busy.setRange(0, 1000)
        self.busy.setTextVisible(False)
        self.busy.setMaximumHeight(8)
        self.busy.setVisible(False)
        self._stage = ""
        self._stage_since = 0.0
        self._fraction = math.nan
        self.clock = time.monotonic  # (tests replace it)
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._show_progress)
        self.legend = QLabel("")
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.families = MapLegend()  # the colour families beside the plot; click to outline
        self.families.highlightRequested.connect(self.set_highlight)

        bar = QHBoxLayout()
        bar.addWidget(QLabel("Colour by:"))
        bar.addWidget(self.mode_box)
        bar.addWidget(self.box_zoom)
        bar.addWidget(self.reset_button)
        bar.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(LegendSplit(self.plot, self.families), 1)
        # the status has a line of its own under the map (UMAP's stages are long), wrapped, so
        # that neither it nor the legend widens the map's column
        self.status.setWordWrap(True)
        layout.addWidget(self.busy)
        layout.addWidget(self.status)
        layout.addWidget(self.legend)

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
        self.styles = MapStyles(self.colors, 0)

    # -- styles ------------------------------------------------------------------------------
    def _build_styles(self) -> None:
        """Rebuild the style table from the colours (per session, and when a colour changes)."""
        session = self.session
        found = None if session is None else colouring(session, self.mode, self.colors)
        if self.families.chosen is not None:  # its outline goes with the old colours: cleared
            self.highlight = None  # here, as set_colouring drops it (no redraw inside a redraw)
        self.styles = MapStyles(self.colors, len(session.classes) if session else 0, found)
        self.families.set_colouring(session, found)

    def colours_changed(self) -> None:
        """A class colour changed (the views share ``colors``): redraw with the new colours."""
        self._build_styles()
        self.refresh()

    def class_brush(self, code: int) -> QBrush:
        """The brush of labeled rows of class ``code``."""
        return self.styles.class_brush(code)

    # -- session and layout --------------------------------------------------------------------
    def set_session(self, session: Session | None) -> None:
        self.session = session
        self.set_status("")
        self.positions = None
        self.selected = None
        self.highlight = None
        self._index = None
        self.target.setVisible(False)
        self._build_styles()
        self._session_link.switch(session)
        self.scatter.clear()
        self.pool_image.clear()
        self.order = np.empty(0, dtype=np.int64)
        self._update_legend()

    def set_layout(self, positions: np.ndarray, name: str) -> None:
        """Show the pool at ``positions`` (N × 2); ``name`` says which layout ("PCA", "UMAP")."""
        positions = np.asarray(positions, dtype=np.float32)
        if self.session is not None and len(positions) != self.session.n_rows:
            return  # a layout for another data set arrived late
        self.positions = positions
        self._index = None
        self.pool_image.new_layout()
        self.layout_name = name
        self.set_status(f"Map: {name}")
        self.reset_view()
        self.refresh()

    def set_status(self, text: str) -> None:
        """Say ``text`` under the map; any progress shown ends."""
        self._tick.stop()
        self.busy.setVisible(False)
        self._stage = ""
        self.status.setText(text)

    def show_layout_progress(self, stage: str, fraction: float) -> None:
        """UMAP is being computed (the PCA map is shown meanwhile): the stage and the share done.

        A stage without a share (``fraction`` NaN, or still 0) shows no percentage but the
        seconds it has taken so far, counting, and a busy bar: never a 0 % that does not move.
        """
        if stage != self._stage:
            self._stage, self._stage_since = stage, self.clock()
        self._fraction = fraction
        self._show_progress()

    def _show_progress(self) -> None:
        if not self._stage:
            return
        step = self._stage.replace(" (UMAP)", "")
        step = step[:1].lower() + step[1:]
        shown = self.layout_name or "PCA"
        moving = math.isfinite(self._fraction) and self._fraction > 0
        self.busy.setVisible(True)
        if moving:
            self._tick.stop()
            self.busy.setRange(0, 1000)
            self.busy.setValue(int(min(self._fraction, 1.0) * 1000))
            self.status.setText(f"Map: {shown} · arranging UMAP {self._fraction:.0%} · {step}")
            return
        self.busy.setRange(0, 0)  # busy: it moves by itself
        seconds = int(self.clock() - self._stage_since)
        self.status.setText(f"Map: {shown} · {step} · {seconds} s so far")
        if not self._tick.isActive():
            self._tick.start()

    def show_layout_failed(self) -> None:
        """UMAP failed: the map stays as it is (the reason is in the log)."""
        self.set_status(f"Map: {self.layout_name} (UMAP failed; see the log)")

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
    @property
    def dense(self) -> bool:
        """Whether the plain pool dots are drawn as a density image (a pool above
        :attr:`DENSITY_ABOVE` rows)."""
        return self.session is not None and self.session.n_rows > self.DENSITY_ABOVE

    def _display_rows(self) -> np.ndarray:
        """Rows drawn as points, in drawing order (see :func:`.drawing.drawing_order`): every
        row, or in density mode the labeled rows, the queries and a small highlighted group."""
        session = self.session
        assert session is not None
        if not self.dense:
            return drawing_order(session, None, self.highlight)
        highlight = self.highlight
        if highlight is not None and int(highlight.sum()) > HIGHLIGHT_POINTS_MAX:
            highlight = None  # a big group shows in the image only (coloured, the rest grey)
        return drawing_order(session, np.zeros(session.n_rows, dtype=bool), highlight)

    def _draw_pool_image(self) -> None:
        """Density mode: the plain pool rows as one image, in the colours the dots would have."""
        assert self.session is not None and self.positions is not None
        rows = plain_rows(self.session)
        priority = None if self.highlight is None else self.highlight[rows]
        colours = style_colours(self.styles.table)
        self.pool_image.set_rows(self.positions, rows, self._style_codes(rows), colours, priority)

    def _style_codes(self, rows: np.ndarray) -> np.ndarray:
        """Index into ``self.styles.table`` for each of ``rows``."""
        assert self.session is not None
        return style_codes(self.session, rows, self.mode, self.styles, self.highlight)

    def refresh(self) -> None:
        """Redraw every point from the session and the last round (one ``setData``), and in
        density mode the pool image."""
        self._refresh_timer.stop()
        if self.session is None or self.positions is None:
            return
        if colouring(self.session, self.mode, self.colors) is not self.styles.colouring:
            self._build_styles()  # a new round or colour mode: its families and shades
        if self.dense:
            self._draw_pool_image()
        else:
            self.pool_image.clear()
        rows = self._display_rows()
        pos = self.positions[rows]
        self.scatter.set_points(
            pos[:, 0], pos[:, 1], rows, self._style_codes(rows), self.styles.table
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
        if self.dense and len(slots) and np.all(slots >= 0) and drawn_as_points(self.session, rows):
            # a query or labeled row answered (or undone) stays a point: the image is unchanged
            self.scatter.restyle(slots, self._style_codes(rows), self.styles.table)
            self._update_legend()
            return
        if len(self.order) <= self.INCREMENTAL_ABOVE or np.any(slots < 0):
            self._refresh_timer.start()  # coalesce bursts of labels into one redraw
            return
        self.scatter.restyle(slots, self._style_codes(rows), self.styles.table)
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
        if rows is not self.families.chosen_rows:
            self.families.forget()  # the outline now comes from elsewhere
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
        pixels (in density mode: a point drawn there, else the nearest row of the pool)."""
        if self.positions is None or not self.viewbox.sceneBoundingRect().contains(scene_pos):
            return None
        point = self.viewbox.mapSceneToView(scene_pos)
        pixel = self.viewbox.viewPixelSize()
        if not self.dense:
            if len(self.order) == 0:
                return None
            return pick_row(self.scatter.data, point.x(), point.y(), pixel, self.PICK_RADIUS)
        on_top = pick_row(self.scatter.data, point.x(), point.y(), pixel, 0.0)
        if on_top is not None:
            return on_top
        if self._index is None:
            self._index = PointIndex(self.positions)
        return self._index.nearest(point.x(), point.y(), pixel, self.PICK_RADIUS)

    def scene_pos_of(self, row: int) -> QPointF:
        """Scene position of pool row ``row`` (for tests and tooltips)."""
        assert self.positions is not None
        x, y = self.positions[row]
        return self.viewbox.mapViewToScene(QPointF(float(x), float(y)))

    def tooltip_for(self, row: int) -> str:
        """Hover text: row id, label, prediction with confidence, group and region."""
        return tooltip_text(self.session, row, self.colors, self.mode) if self.session else ""

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

    def _mouse_clicked(self, event: MouseClickEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        row = self.row_at(event.scenePos())
        shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        if row is not None and not (shift and self.families.choose_row(row)):
            self.rowClicked.emit(row)  # (Shift-click: the legend outlines the row's group)

    # -- legend ----------------------------------------------------------------------------------
    def _update_legend(self) -> None:
        session = self.session
        if session is None:
            self.legend.setText("")
            return
        view = round_view(session)
        tip = ""
        if view is None:
            colour = "Grey dots: rows not labeled yet (colours appear after the first round)."
        elif view.result.cold_start:
            colour = (
                "No model yet: grey dots are the rows not labeled; the rows to label are the "
                "most typical row of each unexplored part of the pool (colours come with the "
                "first model, once rows of two classes are labeled)."
            )
        elif self.mode == "groups":
            part = view.result.partition
            # groups that hold rows: a pick that copies a labeled row (the tie rule) heads none
            groups = np.unique(np.asarray(part)) if part is not None else np.empty(0)
            n = int((groups >= 0).sum())
            colour = (
                f"Dot colour: DAMI group ({n} groups of rows whose local explanation is "
                "closest to the same center), in the hue of its predicted class."
            )
            tip = (
                "Each group takes the hue of the class the model predicts for most of its rows, "
                "and a shade of its own. Shift-click a dot to outline its group."
            )
        elif self.mode == "regions" and view.n_regions == 0:
            colour = "Linear regions are not known for this round; the next round finds them."
        elif self.mode == "regions":
            top = min(TOP_REGIONS, view.n_regions)
            covered = int(((view.region_rank >= 0) & (view.region_rank < top)).sum())
            colour = (
                f"Dot colour: the {top} largest of the network's {view.n_regions} linear "
                f"regions ({covered:,} of {session.n_rows:,} rows) in the hue of the class "
                "predicted there, a shade each; grey: the others."
            )
        else:
            colour = "Dot colour: the class the model predicts (pale)."
        classes = " ".join(
            f"<span style='color:{self.colors[i]}'>■</span>&nbsp;{html.escape(name)}"
            for i, name in enumerate(session.classes)
        )
        shown = (
            " Plain rows are drawn per screen pixel, in the colour most of its rows have;"
            " darker where more rows fall."
            if self.dense
            else ""
        )
        self.legend.setText(
            f"{colour} ■ labeled · <span style='color:{QUERY_RING}'>◯</span> to label, "
            f"numbered in pick order · ✕ not sure.{shown}"
            + (
                ""
                if self.highlight is None
                else f" <b>Outlined</b>: the {int(self.highlight.sum()):,} rows of the selected "
                "group(s); the other unlabeled rows are grey."
            )
        )
        self.legend.setToolTip(f"{tip}<br>Labeled rows (squares) in their class colour: {classes}")
