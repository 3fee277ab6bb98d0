"""How the map draws the pool: which rows, in what order, and in which style.

Drawing rules (read from the session and the last round, never copied):

* every row is a small dot coloured by the chosen mode: DAMI groups (each row's nearest center,
  ``result.partition``), the largest exact linear regions (``result.region_ids``, the rest grey),
  or the predicted class; groups and regions take a family hue and a shade inside it
  (:mod:`.colouring`: at most a dozen hues, family = the class the model predicts);
* labeled rows are bigger squares in their class colour with a dark outline; "not sure" rows are
  grey crosses;
* the current queries get a red ring (their numbers are drawn by the map view);
* rows of the groups selected in the Regions panel are outlined, the other unlabeled dots grey.

Performance: :class:`StyledScatter` is one :class:`pyqtgraph.ScatterPlotItem` whose points take
their look from a small table of styles (:class:`MapStyles`) by code, so restyling 100k points
takes milliseconds instead of pyqtgraph's per-point lookups.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QBrush, QColor, QPen

from dami_gui.app.map.colouring import Colouring
from dami_gui.app.palette import GREY, QUERY_RING, SELECTION, ClassColors
from dami_gui.app.panels.round_view import round_view
from dami_gui.core.session import Session

SIZE_POOL, SIZE_LABELED, SIZE_QUERY = 6, 10, 14

#: The look of one kind of point: (symbol, size, pen, brush).
Style = tuple[str, float, QPen, QBrush]


def _object_array(items: list) -> np.ndarray:
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


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
        self,
        x: np.ndarray,
        y: np.ndarray,
        rows: np.ndarray,
        codes: np.ndarray,
        table: Sequence[Style],
    ) -> None:
        """Replace all points: positions, their row index as ``data``, and their style codes."""
        self._bulk = True
        try:
            self.setData(x=x, y=y, data=rows)
        finally:
            self._bulk = False
        self.restyle(np.arange(len(rows)), codes, table)

    def restyle(self, slots: np.ndarray, codes: np.ndarray, table: Sequence[Style]) -> None:
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


class MapStyles:
    """Brushes, pens and the style table, built once per palette; points index into it.

    Brushes: one per coloured group or region of ``colouring`` (its family shade; brush ``g`` is
    unit ``g``), grey, the class colours, then pale class colours. A style is (symbol, size, pen,
    brush) for one kind of point (pool, labeled, query, not sure; then the same four highlighted)
    and one brush: code ``kind * len(brushes) + brush``. Built again when the round, the colour
    mode or a class colour changes.
    """

    def __init__(
        self, colors: ClassColors, n_classes: int, colouring: Colouring | None = None
    ) -> None:
        self.colouring = colouring
        unit_colors = [] if colouring is None else list(colouring.colours)
        class_colors = [QColor(colors[i]) for i in range(max(n_classes, 1))]
        pale = []
        for c in class_colors:
            c = QColor(c)
            c.setAlpha(90)
            pale.append(c)
        all_colors = [QColor(c) for c in unit_colors] + [QColor(GREY)] + class_colors + pale
        self.brushes: list[QBrush] = [pg.mkBrush(c) for c in all_colors]
        self.grey_index = len(unit_colors)
        self.class_base = self.grey_index + 1
        self.pale_base = self.class_base + len(class_colors)
        no_pen = pg.mkPen(None)
        dark = pg.mkPen("#222222", width=1)
        ring = pg.mkPen(QUERY_RING, width=2.5)
        kinds: list[tuple[str, float, QPen]] = [
            ("o", SIZE_POOL, no_pen),
            ("s", SIZE_LABELED, dark),
            ("o", SIZE_QUERY, ring),
            ("x", SIZE_LABELED, dark),
        ]
        # the same four kinds, highlighted (the rows of a group selected in the Regions panel)
        strong = pg.mkPen(SELECTION, width=2)
        kinds += [
            ("o", SIZE_POOL + 4, strong),
            ("s", SIZE_LABELED + 3, pg.mkPen(SELECTION, width=3)),
            ("o", SIZE_QUERY + 3, pg.mkPen(QUERY_RING, width=3.5)),
            ("x", SIZE_LABELED + 3, strong),
        ]
        self.table: list[Style] = [
            (sym, size, pen, brush) for sym, size, pen in kinds for brush in self.brushes
        ]

    def class_brush(self, code: int) -> QBrush:
        """The brush of labeled rows of class ``code``."""
        return self.brushes[self.class_base + code]


def drawing_order(
    session: Session, keep: np.ndarray | None, highlight: np.ndarray | None
) -> np.ndarray:
    """Pool rows to draw, in drawing order: background, then labeled, then queries on top.

    ``keep`` (a mask) thins out the background of a huge pool; labeled rows, queries and
    ``highlight``-ed rows are always drawn, the highlighted ones over the other dots.
    """
    n = session.n_rows
    special = (session.labels >= 0) | session.skipped
    queries = np.asarray(session.queries, dtype=np.int64)
    is_query = np.zeros(n, dtype=bool)
    is_query[queries] = True
    background = ~special & ~is_query
    if keep is not None:
        background &= keep if highlight is None else keep | highlight  # a group is drawn whole
    labeled = special & ~is_query
    if highlight is not None:
        front = np.flatnonzero(background & highlight)
        back = np.flatnonzero(background & ~highlight)
        return np.concatenate([back, front, np.flatnonzero(labeled), queries])
    return np.concatenate([np.flatnonzero(background), np.flatnonzero(labeled), queries])


def _base_brushes(session: Session, rows: np.ndarray, mode: str, styles: MapStyles) -> np.ndarray:
    """Index into ``styles.brushes`` of the mode's colour for each of ``rows``."""
    view = round_view(session)
    out = np.full(len(rows), styles.grey_index, dtype=np.int64)
    if view is None:
        return out
    colouring = styles.colouring
    if mode in ("groups", "regions"):  # the unit's family shade; grey: not coloured
        if colouring is not None and colouring.mode == mode:
            unit = colouring.group_of_row[rows]
            out[unit >= 0] = unit[unit >= 0]
    elif mode == "prediction":
        pred = view.prediction[rows]
        ok = pred >= 0
        out[ok] = styles.pale_base + pred[ok]
    return out


def style_codes(
    session: Session,
    rows: np.ndarray,
    mode: str,
    styles: MapStyles,
    highlight: np.ndarray | None,
) -> np.ndarray:
    """Index into ``styles.table`` for each of ``rows``, by the drawing rules above."""
    brush = _base_brushes(session, rows, mode, styles)
    labels = session.labels[rows]
    skipped = session.skipped[rows]
    is_query = np.isin(rows, session.queries)
    labeled = labels >= 0
    brush[labeled] = styles.class_base + labels[labeled]
    brush[skipped] = styles.grey_index
    kind = np.zeros(len(rows), dtype=np.int64)
    kind[labeled] = 1
    kind[skipped] = 3
    kind[is_query] = 2
    if highlight is not None:  # outline the highlighted rows, grey out the other dots
        on = highlight[rows]
        brush[~on & (kind == 0)] = styles.grey_index
        kind[on] += 4
    return kind * len(styles.brushes) + brush
