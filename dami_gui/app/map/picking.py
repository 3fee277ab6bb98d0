"""Which point of the map is under the mouse, and what its tooltip says.

Hover and click use a vectorised search in screen pixels over the scatter's own arrays, not
pyqtgraph's per-spot objects, which would cost a fraction of a second at 100k points.
"""

from __future__ import annotations

import numpy as np

from dami_gui.app.panels.round_view import round_view
from dami_gui.core.session import Session


def pick_row(
    data: np.ndarray, x: float, y: float, pixel: tuple[float, float], radius: float
) -> int | None:
    """The row drawn on top at view position (``x``, ``y``), else the nearest within ``radius``.

    ``data`` is the scatter's record array (``x``, ``y``, ``size`` in pixels, ``data`` = the
    pool row), in drawing order; ``pixel`` is the size of one screen pixel in view units.
    Among the points whose symbol covers the position, the one drawn last wins, as the eye
    sees it: a query's ring wins over a dot beneath it.
    """
    px, py = pixel
    if len(data) == 0 or px <= 0 or py <= 0:
        return None
    dx = (data["x"] - x) / px
    dy = (data["y"] - y) / py
    d2 = dx * dx + dy * dy
    covers = np.asarray(data["size"], dtype=float) / 2.0 + 0.5
    under = np.flatnonzero(d2 <= covers * covers)
    if under.size:
        return int(data["data"][under[-1]])
    best = int(len(d2) - 1 - np.argmin(d2[::-1]))  # else the nearest, within the radius
    if d2[best] > radius**2:
        return None
    return int(data["data"][best])


def tooltip_text(session: Session, row: int) -> str:
    """Hover text: row id, label, prediction with confidence, group and region."""
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


class PointIndex:
    """The rows of a layout sorted by the cell of a square grid, for nearest-row look-ups.

    Built once per layout (a sort, ~0.2 s at a million rows); a look-up reads only the cells
    within the pick radius, a few hundred rows instead of all of them. Used where the map draws
    its pool as an image and has no scatter points to search.
    """

    def __init__(self, positions: np.ndarray, rows_per_cell: float = 2.0) -> None:
        positions = np.asarray(positions, dtype=np.float64)
        self.positions = positions
        n = len(positions)
        self.side = max(1, int(np.sqrt(max(n, 1) / rows_per_cell)))
        finite = np.isfinite(positions).all(axis=1)
        if finite.any():
            self.low = positions[finite].min(axis=0)
            span = positions[finite].max(axis=0) - self.low
        else:
            self.low, span = np.zeros(2), np.ones(2)
        self.cell_size = np.where(span > 0, span / self.side, 1.0)
        cells = self._cells(positions)
        cells[~finite] = self.side * self.side  # never found: past the last cell
        self.order = np.argsort(cells, kind="stable")
        self.starts = np.searchsorted(cells[self.order], np.arange(self.side * self.side + 2))

    def _cell_xy(self, xy: np.ndarray) -> np.ndarray:
        raw = np.floor((xy - self.low) / self.cell_size)
        return np.clip(np.nan_to_num(raw), 0, self.side - 1).astype(np.int64)

    def _cells(self, xy: np.ndarray) -> np.ndarray:
        c = self._cell_xy(xy)
        return c[:, 0] * self.side + c[:, 1]

    def nearest(self, x: float, y: float, pixel: tuple[float, float], radius: float) -> int | None:
        """The row nearest to view position (``x``, ``y``) within ``radius`` screen pixels
        (``pixel``: one pixel's size in view units); ties go to the smaller row."""
        px, py = pixel
        if len(self.positions) == 0 or px <= 0 or py <= 0:
            return None
        rx, ry = radius * px, radius * py
        lo = self._cell_xy(np.array([[x - rx, y - ry]]))[0]
        hi = self._cell_xy(np.array([[x + rx, y + ry]]))[0]
        side, starts = self.side, self.starts
        pieces = [  # one run of sorted cells per grid column
            self.order[starts[cx * side + lo[1]] : starts[cx * side + hi[1] + 1]]
            for cx in range(int(lo[0]), int(hi[0]) + 1)
        ]
        rows = np.concatenate(pieces) if pieces else np.empty(0, dtype=np.int64)
        if rows.size == 0:
            return None
        rows = np.sort(rows)
        dx = (self.positions[rows, 0] - x) / px
        dy = (self.positions[rows, 1] - y) / py
        d2 = dx * dx + dy * dy
        best = int(np.argmin(d2))
        return int(rows[best]) if d2[best] <= radius * radius else None
