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

import numpy as np
import pyqtgraph as pg
from pyqtgraph.GraphicsScene.mouseEvents import MouseClickEvent
from PySide6.QtCore import QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QCursor
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
from dami_gui.app.map.colouring import colouring
from dami_gui.app.map.drawing import (
    MapStyles,
    StyledScatter,
    drawing_order,
    style_codes,
)
from dami_gui.app.map.layouts import COLUMNS, LayoutChoice, all_inside, view_range
from dami_gui.app.map.legend import LegendSplit, MapLegend, colour_note
from dami_gui.app.map.picking import PointIndex, pick_row, tooltip_text
from dami_gui.app.map.pool_image import PoolImage, drawn_as_points, plain_rows, style_colours
from dami_gui.app.map.progress import MapProgress
from dami_gui.app.map.query_labels import QueryLabels
from dami_gui.app.palette import SELECTION, ClassColors
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
    highlightChanged = Signal(object)  # the outlined rows (None: none), whoever asked

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
        #: The view is the whole pool (as Reset view sets it), not one the user zoomed or moved:
        #: a new round's queries are then brought into view.
        self.whole_view = True
        self.viewbox.sigRangeChangedManually.connect(self._moved_by_user)
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
        #: A ring that shows where the row under the mouse in the query table is.
        self.hover_ring = pg.TargetItem(
            pos=(0, 0),
            size=30,
            symbol="o",
            movable=False,
            pen=pg.mkPen("#ff7f0e", width=3),
            brush=pg.mkBrush(0, 0, 0, 0),
        )
        self.hover_ring.setVisible(False)
        self.hover_ring.setZValue(11)
        self.plot.addItem(self.hover_ring)
        self.query_labels = QueryLabels(self.plot)  # the queries' numbers, none hiding another

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
        self.progress = MapProgress()  # the line under the map: layout shown, next one's progress
        self.status = self.progress.label
        self.legend = QLabel("")
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.families = MapLegend()  # the colour families beside the plot; click to outline
        self.families.highlightRequested.connect(self.set_highlight)

        self.layout_choice = LayoutChoice()  # UMAP, PCA or two columns of the file
        self.layout_choice.chosen.connect(self._show_layout)
        self.layout_choice.box.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.layout_choice.box.setMinimumContentsLength(11)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Map:"))
        bar.addWidget(self.layout_choice.box)
        bar.addWidget(QLabel("Colour by:"))
        bar.addWidget(self.mode_box)
        bar.addWidget(self.box_zoom)
        bar.addWidget(self.reset_button)
        bar.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.layout_choice.axes)
        layout.addWidget(LegendSplit(self.plot, self.families), 1)
        layout.addWidget(self.progress)
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
            self.families.set_outlined(False)
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
        self.layout_choice.set_session(session)
        self.positions = None
        self.selected = None
        self.highlight = None
        self.families.set_outlined(False)
        self._index = None
        self.target.setVisible(False)
        self._build_styles()
        self._session_link.switch(session)
        self.scatter.clear()
        self.pool_image.clear()
        self.order = np.empty(0, dtype=np.int64)
        self._update_legend()

    def set_layout(self, positions: np.ndarray, name: str) -> None:
        """A layout of the pool was computed (N × 2; ``name`` "PCA", "UMAP"): shown if it is the
        one chosen, or the best there is (see :class:`.layouts.LayoutChoice`)."""
        positions = np.asarray(positions, dtype=np.float32)
        if self.session is not None and len(positions) != self.session.n_rows:
            return  # a layout for another data set arrived late
        self.layout_choice.offer(positions, name)

    def _show_layout(self, positions: np.ndarray, name: str) -> None:
        """Show the pool at ``positions``; two columns get their axes, named."""
        self.positions = np.asarray(positions, dtype=np.float32)
        self._index = None
        self.pool_image.new_layout()
        self.layout_name = name
        columns = self.layout_choice.mode == COLUMNS
        choice = self.layout_choice
        for side, column in (("bottom", choice.x_box), ("left", choice.y_box)):
            self.plot.showAxis(side, columns)
            if columns:
                self.plot.setLabel(side, column.currentText())
        self.set_status(f"Map: {name}")
        self.reset_view()
        self.refresh()

    def set_status(self, text: str) -> None:
        """Say ``text`` under the map; any progress shown ends."""
        self.progress.say(text)

    def show_layout_progress(self, stage: str, fraction: float) -> None:
        """UMAP is being computed (the PCA map is shown meanwhile): the stage and the share done
        (see :class:`.progress.MapProgress`: seconds, not a frozen 0 %, when there is none)."""
        self.progress.layout_name = self.layout_name
        self.progress.progress(stage, fraction)

    def show_layout_failed(self) -> None:
        """UMAP failed: the map stays as it is (the reason is in the log)."""
        self.set_status(f"Map: {self.layout_name} (UMAP failed; see the log)")

    def reset_view(self) -> None:
        """Fit the view to the pool; a few far outliers (0.5 % per side) may fall outside, never
        a row to label."""
        if self.positions is None or not len(self.positions):
            return
        queries = self.session.queries if self.session is not None else None
        lo, hi = view_range(self.positions, queries)
        self.viewbox.setRange(
            xRange=(float(lo[0]), float(hi[0])),
            yRange=(float(lo[1]), float(hi[1])),
            padding=0.06,
        )
        self.whole_view = True

    def _moved_by_user(self, *_: object) -> None:
        self.whole_view = False

    def _queries_in_view(self) -> bool:
        if self.session is None or self.positions is None:
            return True
        return all_inside(self.positions, self.session.queries, self.viewbox.viewRange())

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
            if self.whole_view and not self._queries_in_view():
                self.reset_view()  # the new queries in view, however far out they lie
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

    @property
    def numbers(self) -> list[pg.TextItem]:
        """The query numbers drawn on the map (placed by :mod:`.query_labels`)."""
        return self.query_labels.items

    def _draw_numbers(self) -> None:
        assert self.session is not None and self.positions is not None
        self.query_labels.show_queries(self.session, self.positions, MAX_NUMBERS)

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
        self.families.set_outlined(mask is not None)
        self.refresh()
        self.highlightChanged.emit(None if mask is None else np.flatnonzero(mask))

    def highlighted_rows(self) -> np.ndarray:
        """The highlighted pool rows (sorted), empty when none."""
        if self.highlight is None:
            return np.empty(0, dtype=np.int64)
        return np.flatnonzero(self.highlight)

    def show_hover(self, row: int | None) -> None:
        """Ring ``row`` (the query under the mouse in the table); None hides the ring."""
        if row is None or row < 0 or self.positions is None or row >= len(self.positions):
            self.hover_ring.setVisible(False)
            return
        x, y = self.positions[row]
        self.hover_ring.setPos(float(x), float(y))
        self.hover_ring.setVisible(True)

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
        if self.session is None:
            self.legend.setText("")
            return
        outlined = None if self.highlight is None else int(self.highlight.sum())
        text, tip = colour_note(self.session, self.mode, self.colors, self.dense, outlined)
        self.legend.setText(text)
        self.legend.setToolTip(tip)
