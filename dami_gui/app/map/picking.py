"""Which point of the map is under the mouse, and what its tooltip says.

Hover and click use a vectorised search in screen pixels over the scatter's own arrays, not
pyqtgraph's per-spot objects, which would cost a fraction of a second at 100k points.
"""

from __future__ import annotations

import numpy as np

from dami_gui.app.map.colouring import colouring
from dami_gui.app.palette import ClassColors
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


def tooltip_text(
    session: Session, row: int, colors: ClassColors | None = None, mode: str = "groups"
) -> str:
    """Hover text: row id, label, prediction with confidence, group and region.

    With the class ``colors``, the row's exact DAMI group (or in the ``"regions"`` colour mode,
    its region) also says how many rows share it and which family and shade give its colour.
    """
    found = None
    if colors is not None:
        found = colouring(session, "regions" if mode == "regions" else "groups", colors)
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
        unit = -1 if found is None else int(found.group_of_row[row])
        group = view.group(row)
        if group is not None and not (unit >= 0 and found and found.unit == "group"):
            lines.append(f"DAMI group: {group}")
        if view.region_rank[row] >= 0:
            lines.append(f"Linear region: {int(view.region_rank[row]) + 1} of {view.n_regions}")
        if unit >= 0 and found is not None:
            text = found.describe(unit)
            lines.append(text[0].upper() + text[1:])
        number = view.query_number.get(row)
        if number is not None and row in set(np.asarray(session.queries).tolist()):
            lines.append(f"Query #{number} this round")
    return "\n".join(lines)


class PointIndex:
    """The rows of a layout sorted by the cell of a square grid, for nearest-row look-ups.

    Built at the first pick after a layout arrives (a sort: ~0.3 s at a million rows on a loaded
    machine); a look-up reads only the cells within the pick radius, a few hundred rows instead
    of all of them (~0.2 ms). Used where the map draws its pool as an image and has no scatter
    points to search.
    """

    def __init__(self, positions: np.ndarray, rows_per_cell: float = 2.0) -> None:
        positions = np.asarray(positions)
        # columns, not an (N, 2) array: reductions along a strided axis are several times slower
        self.x = np.ascontiguousarray(positions[:, 0], dtype=np.float64)
        self.y = np.ascontiguousarray(positions[:, 1], dtype=np.float64)
        n = len(self.x)
        self.side = max(1, int(np.sqrt(max(n, 1) / rows_per_cell)))
        finite = np.isfinite(self.x) & np.isfinite(self.y)
        every = bool(finite.all())
        self.low = np.zeros(2)
        self.cell_size = np.ones(2)
        if n and (every or finite.any()):
            for axis, values in enumerate((self.x, self.y)):
                seen = values if every else values[finite]
                low, high = float(seen.min()), float(seen.max())
                self.low[axis] = low
                self.cell_size[axis] = (high - low) / self.side if high > low else 1.0
        cells = self._cell(self.x, 0) * self.side + self._cell(self.y, 1)
        if not every:
            cells[~finite] = self.side * self.side  # never found: past the last cell
        # any order within a cell will do (a look-up sorts its few rows): the fast unstable sort
        self.order = np.argsort(cells)
        counts = np.bincount(cells, minlength=self.side * self.side + 1)
        self.starts = np.concatenate([[0], np.cumsum(counts)])

    def _cell(self, values: np.ndarray, axis: int) -> np.ndarray:
        """Grid column (axis 0) or row (axis 1) of each value, clipped to the grid."""
        raw = (values - self.low[axis]) / self.cell_size[axis]
        with np.errstate(invalid="ignore"):  # NaN: set apart by the caller
            return np.clip(raw, 0, self.side - 1).astype(np.int64)

    def nearest(self, x: float, y: float, pixel: tuple[float, float], radius: float) -> int | None:
        """The row nearest to view position (``x``, ``y``) within ``radius`` screen pixels
        (``pixel``: one pixel's size in view units); ties go to the smaller row."""
        px, py = pixel
        if len(self.x) == 0 or px <= 0 or py <= 0:
            return None
        rx, ry = radius * px, radius * py
        if not all(np.isfinite([x, y, rx, ry])):
            return None
        lo = [int(self._cell(np.array([v]), axis)[0]) for axis, v in enumerate((x - rx, y - ry))]
        hi = [int(self._cell(np.array([v]), axis)[0]) for axis, v in enumerate((x + rx, y + ry))]
        side, starts = self.side, self.starts
        pieces = [  # one run of sorted cells per grid column
            self.order[starts[cx * side + lo[1]] : starts[cx * side + hi[1] + 1]]
            for cx in range(int(lo[0]), int(hi[0]) + 1)
        ]
        rows = np.concatenate(pieces) if pieces else np.empty(0, dtype=np.int64)
        if rows.size == 0:
            return None
        rows = np.sort(rows)
        dx = (self.x[rows] - x) / px
        dy = (self.y[rows] - y) / py
        d2 = dx * dx + dy * dy
        best = int(np.argmin(d2))
        return int(rows[best]) if d2[best] <= radius * radius else None
