"""The pool of a big map drawn as one image item, re-rendered when the view moves.

:class:`PoolImage` keeps the rows it draws (their positions and colour codes, copied contiguous
once per redraw of the map) and renders :func:`.density.density_image` over the view's current
range at one image pixel per screen pixel. When the view is zoomed or panned the old image moves
with it at once (it is placed in view coordinates), and a new one at the new resolution follows
within :attr:`PoolImage.DELAY_MS` (a throttle, not a debounce: a long drag re-renders every
40 ms rather than only at its end).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QTimer

from dami_gui.app.map.density import density_image
from dami_gui.app.map.drawing import Style
from dami_gui.core.session import Session


def plain_rows(session: Session) -> np.ndarray:
    """The rows the image draws: not labeled, not "not sure", not a current query (sorted)."""
    plain = (session.labels < 0) & ~session.skipped
    plain[np.asarray(session.queries, dtype=np.int64)] = False
    return np.flatnonzero(plain)


def drawn_as_points(session: Session, rows: np.ndarray) -> bool:
    """Whether all ``rows`` are drawn as points above the image (labeled, not sure, a query)."""
    kept = (session.labels[rows] >= 0) | session.skipped[rows] | np.isin(rows, session.queries)
    return bool(kept.all())


def style_colours(table: Sequence[Style]) -> np.ndarray:
    """The RGBA (uint8) of each style's brush: the image's colour for that style code."""
    out = np.zeros((len(table), 4), dtype=np.uint8)
    for i, style in enumerate(table):
        colour = style[3].color()
        out[i] = (colour.red(), colour.green(), colour.blue(), colour.alpha())
    return out


class PoolImage:
    """One ``pg.ImageItem`` under the map's points, showing many rows as a density image."""

    DELAY_MS = 40
    #: Empty pixels next to a drawn one take its colour, so that lone rows stay visible.
    GROW = 2

    def __init__(self, plot: pg.PlotWidget) -> None:
        self.viewbox = plot.getViewBox()
        self.item = pg.ImageItem()
        self.item.setZValue(-10)  # under the scatter
        self.item.setVisible(False)
        plot.addItem(self.item, ignoreBounds=True)  # the image follows the view, never sizes it
        self.x = np.empty(0, dtype=np.float32)
        self.y = np.empty(0, dtype=np.float32)
        self.codes = np.empty(0, dtype=np.int64)
        self.priority: np.ndarray | None = None
        self.colours = np.zeros((0, 4), dtype=np.uint8)
        self._positions: np.ndarray | None = None  # the layout whose x order is kept
        self._by_x = np.empty(0, dtype=np.intp)
        self.active = False
        self.render_count = 0  # images made (tests read it)
        self.shape = (0, 0)  # (columns, rows) of the last image
        self.rect = QRectF()  # where the last image lies, in view coordinates
        self._timer = QTimer(plot)
        self._timer.setSingleShot(True)
        self._timer.setInterval(self.DELAY_MS)
        self._timer.timeout.connect(self.render)
        self.viewbox.sigRangeChanged.connect(self.schedule)
        self.viewbox.sigResized.connect(self.schedule)

    def set_rows(
        self,
        positions: np.ndarray,
        rows: np.ndarray,
        codes: np.ndarray,
        colours: np.ndarray,
        priority: np.ndarray | None = None,
    ) -> None:
        """Draw ``rows`` at ``positions[rows]`` in ``colours[codes]`` (style codes, one per row);
        rows with ``priority`` win their pixels (see :func:`.density.count_pixels`).

        The rows are kept sorted by x (the layout's order, sorted once per layout), so that a
        render reads only the rows between the view's left and right edges: zoomed in, a few.
        """
        if positions is not self._positions:  # a new layout: sort its rows by x once
            self._positions = positions
            self._by_x = np.argsort(positions[:, 0])
        n = len(positions)
        rows = np.asarray(rows, dtype=np.intp)
        slot = np.full(n, -1, dtype=np.intp)
        slot[rows] = np.arange(len(rows))
        in_x_order = slot[self._by_x]
        in_x_order = in_x_order[in_x_order >= 0]  # indices into rows, by increasing x
        ordered = rows[in_x_order]
        self.x = np.ascontiguousarray(positions[ordered, 0], dtype=np.float32)
        self.y = np.ascontiguousarray(positions[ordered, 1], dtype=np.float32)
        # styles that share a colour (a dot and the same dot highlighted) count as one colour
        words = np.ascontiguousarray(colours, dtype=np.uint8).view("<u4").reshape(-1)
        unique, same = np.unique(words, return_inverse=True)
        self.codes = same.reshape(-1)[np.asarray(codes, dtype=np.intp)[in_x_order]]
        self.colours = unique.astype("<u4").view(np.uint8).reshape(-1, 4)
        self.priority = None if priority is None else np.asarray(priority)[in_x_order]
        self.active = True
        self.render()

    def new_layout(self) -> None:
        """The positions changed (maybe in place): sort them again at the next :meth:`set_rows`."""
        self._positions = None

    def clear(self) -> None:
        """Draw nothing (a small pool is drawn as points)."""
        self._timer.stop()
        self._positions = None
        self._by_x = np.empty(0, dtype=np.intp)
        self.active = False
        self.x = self.y = np.empty(0, dtype=np.float32)
        self.codes = np.empty(0, dtype=np.int64)
        self.priority = None
        self.item.setVisible(False)
        self.item.clear()

    def schedule(self) -> None:
        """The view moved: render again soon (at most one render per :attr:`DELAY_MS`)."""
        if self.active and not self._timer.isActive():
            self._timer.start()

    def render(self) -> None:
        """Render the image over the view's current range, one image pixel per screen pixel."""
        self._timer.stop()
        if not self.active:
            return
        (x0, x1), (y0, y1) = self.viewbox.viewRange()
        shape = (max(1, round(self.viewbox.width())), max(1, round(self.viewbox.height())))
        # only the rows between the left and right edges (x sorted); NaN sorts last, outside
        first = int(np.searchsorted(self.x, x0, side="left"))
        last = int(np.searchsorted(self.x, x1, side="right"))
        part = slice(first, last)
        image = density_image(
            self.x[part],
            self.y[part],
            self.codes[part],
            self.colours,
            (x0, x1),
            (y0, y1),
            shape,
            None if self.priority is None else self.priority[part],
            self.GROW,
        )
        self.item.setImage(image, autoLevels=False, levels=(0, 255))
        self.rect = QRectF(x0, y0, x1 - x0, y1 - y0)
        self.item.setRect(self.rect)
        self.item.setVisible(True)
        self.shape = shape
        self.render_count += 1
