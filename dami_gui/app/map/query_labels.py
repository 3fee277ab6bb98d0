"""The numbers of the rows to label on the map, placed so that every one can be read.

Queries often sit close together (on a big pool most of a batch can fall in one blob), and a
number drawn beside each point then hides its neighbours' numbers, or falls off the plot. Here
each number is placed in screen pixels, in pick order: at the first free spot around its point,
trying rings of growing radius, that overlaps no number placed before, covers no query's ring
and stays inside the plot; a number moved away from its point gets a thin leader line to it. The
placement is redone when the view moves or is resized (throttled), since it lives in pixels.

:func:`place_labels` is plain numpy (tested on its own); :class:`QueryLabels` draws the numbers
(``pg.TextItem``) and the leader lines (one ``pg.PlotCurveItem``) in a plot.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QTimer
from PySide6.QtGui import QFont

from dami_gui.app.panels.round_view import round_view
from dami_gui.core.session import Session

#: Distances (pixels) from a point to the nearest edge of its number, tried in turn.
RADII = (2, 6, 12, 20, 30, 42, 56, 72, 90, 112, 140, 175, 220, 280)
#: Room kept free around a query's point (its ring), in pixels from the centre.
MARKER = 8.0
#: A number farther than this from its point (centre to centre, beyond its own half size)
#: gets a leader line.
LEADER_FROM = 10.0
LABEL_COLOUR = "#7a0c0c"


def _candidates(n_angles: int) -> np.ndarray:
    """Unit directions tried at each radius: right, above-right, above, … (screen y down)."""
    angles = np.deg2rad(np.arange(n_angles) * 360.0 / n_angles - 45.0)
    return np.stack([np.cos(angles), -np.sin(angles)], axis=1)


def place_labels(
    anchors: np.ndarray, sizes: np.ndarray, bounds: tuple[float, float, float, float]
) -> np.ndarray:
    """Top-left corners (pixels) of labels of ``sizes`` (n × 2: width, height) for points at
    ``anchors`` (n × 2, pixels, y down), in order, inside ``bounds`` (x0, y0, x1, y1).

    Each label goes to the first spot, ring by ring, that stays inside the bounds, overlaps no
    label placed before and covers no point's marker (:data:`MARKER`); when none is free up to
    the last ring, to the spot inside the bounds with the least overlap.
    """
    anchors = np.asarray(anchors, dtype=np.float64).reshape(-1, 2)
    sizes = np.asarray(sizes, dtype=np.float64).reshape(-1, 2)
    x0, y0, x1, y1 = bounds
    markers = np.concatenate([anchors - MARKER, anchors + MARKER], axis=1)  # (n, 4) boxes
    placed = np.empty((0, 4))
    out = np.empty((len(anchors), 2))
    for i, ((ax, ay), (w, h)) in enumerate(zip(anchors, sizes, strict=True)):
        offsets = []
        for r in RADII:
            ring = _candidates(8 if r < 20 else 16)
            # centre of the label: its nearest edge r pixels from the point
            offsets.append(ring * (np.array([r + w / 2, r + h / 2]) + MARKER * 0.5))
        centres = np.array([ax, ay]) + np.concatenate(offsets)
        half = np.array([w / 2, h / 2])
        boxes = np.concatenate([centres - half, centres + half], axis=1)
        # keep inside the bounds: shift a box that sticks out back in
        shift_x = np.clip(x0 - boxes[:, 0], 0, None) - np.clip(boxes[:, 2] - x1, 0, None)
        shift_y = np.clip(y0 - boxes[:, 1], 0, None) - np.clip(boxes[:, 3] - y1, 0, None)
        boxes += np.stack([shift_x, shift_y, shift_x, shift_y], axis=1)
        others = np.concatenate([placed, markers])
        cost = _overlap(boxes, others).sum(axis=1)
        free = np.flatnonzero(cost <= 0)
        best = int(free[0]) if free.size else int(np.argmin(cost))
        out[i] = boxes[best, :2]
        placed = np.vstack([placed, boxes[best]])
    return out


def _overlap(boxes: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Overlap areas (len(boxes) × len(others)) of axis-aligned boxes (x0, y0, x1, y1)."""
    if len(others) == 0:
        return np.zeros((len(boxes), 0))
    w = np.minimum(boxes[:, None, 2], others[None, :, 2]) - np.maximum(
        boxes[:, None, 0], others[None, :, 0]
    )
    h = np.minimum(boxes[:, None, 3], others[None, :, 3]) - np.maximum(
        boxes[:, None, 1], others[None, :, 1]
    )
    return np.clip(w, 0, None) * np.clip(h, 0, None)


class QueryLabels:
    """The numbered labels of the queries in ``plot`` and their leader lines."""

    def __init__(self, plot: pg.PlotWidget) -> None:
        self.plot = plot
        self.viewbox = plot.getViewBox()
        self.items: list[pg.TextItem] = []
        self.rows = np.empty(0, dtype=np.int64)
        self.numbers: list[int] = []
        self.positions: np.ndarray | None = None  # (N, 2) view positions of every pool row
        self.leaders = pg.PlotCurveItem(
            pen=pg.mkPen(LABEL_COLOUR, width=1), connect="pairs", antialias=True
        )
        self.leaders.setZValue(4)
        plot.addItem(self.leaders, ignoreBounds=True)
        self.font = QFont()
        self.font.setPointSize(8)
        self.font.setBold(True)
        self._timer = QTimer(plot)
        self._timer.setSingleShot(True)
        self._timer.setInterval(30)
        self._timer.timeout.connect(self.place)
        self.viewbox.sigRangeChanged.connect(self._soon)
        self.viewbox.sigResized.connect(self._soon)

    def _soon(self, *_: object) -> None:
        self._timer.start()

    def show_queries(self, session: Session, positions: np.ndarray, limit: int) -> None:
        """Label the session's current queries (the first ``limit``) with their pick number."""
        view = round_view(session)
        rows = np.empty(0, dtype=np.int64)
        if view is not None:
            rows = np.asarray(session.queries, dtype=np.int64)[:limit]
        numbers = [
            view.query_number.get(int(row), i + 1) if view else i + 1 for i, row in enumerate(rows)
        ]
        self.set_queries(positions, rows, numbers)

    def set_queries(self, positions: np.ndarray, rows: np.ndarray, numbers: list[int]) -> None:
        """Label pool ``rows`` (at ``positions[rows]``) with ``numbers``, then place them."""
        self.positions, self.rows, self.numbers = positions, np.asarray(rows), list(numbers)
        while len(self.items) < len(self.rows):
            item = pg.TextItem(
                "", color=LABEL_COLOUR, anchor=(0, 0), fill=pg.mkBrush(255, 255, 255, 215)
            )
            item.setFont(self.font)
            item.setZValue(5)
            self.plot.addItem(item, ignoreBounds=True)
            self.items.append(item)
        for i, item in enumerate(self.items):
            shown = i < len(self.rows)
            if shown:
                item.setText(str(self.numbers[i]))
            item.setVisible(shown)
        self.place()

    def visible_items(self) -> list[pg.TextItem]:
        return [item for item in self.items[: len(self.rows)] if item.isVisible()]

    def place(self) -> None:
        """Place the numbers of the queries inside the plot (see :func:`place_labels`)."""
        self._timer.stop()
        n = len(self.rows)
        if self.positions is None or n == 0:
            self.leaders.setData([], [])
            return
        vb = self.viewbox
        area = vb.sceneBoundingRect()
        anchors = np.array(
            [_xy(vb.mapViewToScene(QPointF(*map(float, self.positions[row])))) for row in self.rows]
        )
        inside = (
            (anchors[:, 0] >= area.left())
            & (anchors[:, 0] <= area.right())
            & (anchors[:, 1] >= area.top())
            & (anchors[:, 1] <= area.bottom())
        )
        sizes = np.array([[r.width(), r.height()] for r in (i.boundingRect() for i in self.items)])
        sizes = sizes[:n]
        bounds = (area.left() + 1, area.top() + 1, area.right() - 1, area.bottom() - 1)
        shown = np.flatnonzero(inside)  # a query outside the view (zoomed in) has no number
        corners = np.zeros((n, 2))
        if shown.size:
            corners[shown] = place_labels(anchors[shown], sizes[shown], bounds)
        xs: list[float] = []
        ys: list[float] = []
        for i, item in enumerate(self.items[:n]):
            item.setVisible(bool(inside[i]))
            if not inside[i]:
                continue
            corner = vb.mapSceneToView(QPointF(*corners[i]))
            item.setPos(corner)
            centre = corners[i] + sizes[i] / 2
            gap = np.abs(centre - anchors[i]) - sizes[i] / 2
            if max(gap.max(), 0.0) > LEADER_FROM:
                edge = np.clip(anchors[i], corners[i], corners[i] + sizes[i])
                start, end = (vb.mapSceneToView(QPointF(*p)) for p in (anchors[i], edge))
                xs += [start.x(), end.x()]
                ys += [start.y(), end.y()]
        self.leaders.setData(np.array(xs), np.array(ys))


def _xy(point: QPointF) -> tuple[float, float]:
    return point.x(), point.y()
