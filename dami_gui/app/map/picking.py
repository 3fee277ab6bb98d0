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
