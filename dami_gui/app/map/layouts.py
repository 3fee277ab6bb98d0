"""Which layout the map shows: UMAP, PCA, or a scatter of two columns the user chooses.

The window computes PCA at once and UMAP in the background (:mod:`..controllers.map`) and
offers each to the map as it arrives. :class:`LayoutChoice` keeps them and shows, by default,
the best one there is (UMAP once ready); the user may pick PCA, UMAP (once computed) or *Two
columns*: then any two numeric columns of the file are the axes (Orange's scatter plot), each
row at its two values, a row whose cell is empty on the left of, or under, the others.
:func:`view_range` is the view of the whole pool (every query in it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from dami_gui.core.session import Session

AUTO, COLUMNS = "auto", "columns"
CHOICES = [
    (AUTO, "Best available"),
    ("UMAP", "UMAP"),
    ("PCA", "PCA"),
    (COLUMNS, "Two columns"),
]
#: A column counts as numeric when at least this share of its filled cells are numbers.
NUMERIC_SHARE = 0.9


def numeric_columns(session: Session) -> list[str]:
    """The file's columns whose filled cells are (nearly all) numbers."""
    frame = session.dataset.frame
    out = []
    for column in frame.columns:
        cells = frame[column]
        filled = int(cells.notna().sum())
        numbers = int(pd.to_numeric(cells, errors="coerce").notna().sum())
        if filled and numbers >= NUMERIC_SHARE * filled:
            out.append(str(column))
    return out


def column_positions(session: Session, x: str, y: str) -> np.ndarray:
    """Each row at (its ``x`` value, its ``y`` value), float32; an empty cell a little below
    the column's smallest value, so that such rows stay on the map, apart."""
    frame = session.dataset.frame
    out = np.empty((session.n_rows, 2), dtype=np.float32)
    for axis, column in enumerate((x, y)):
        values = np.array(pd.to_numeric(frame[column], errors="coerce"), dtype="float64")
        finite = np.isfinite(values)
        low = float(values[finite].min()) if finite.any() else 0.0
        high = float(values[finite].max()) if finite.any() else 1.0
        values[~finite] = low - 0.05 * ((high - low) or 1.0)
        out[:, axis] = values
    return out


def view_range(positions: np.ndarray, queries: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """The corners of a view of the whole pool: all of it up to a few far outliers (0.5 % per
    side, from 200 rows), and every one of ``queries`` whatever."""
    if len(positions) >= 200:
        lo = np.quantile(positions, 0.005, axis=0)
        hi = np.quantile(positions, 0.995, axis=0)
    else:
        lo, hi = positions.min(axis=0), positions.max(axis=0)
    if queries is not None and len(queries):
        asked = positions[np.asarray(queries, dtype=np.int64)]
        lo, hi = np.minimum(lo, asked.min(axis=0)), np.maximum(hi, asked.max(axis=0))
    return lo, hi


def all_inside(positions: np.ndarray, rows: np.ndarray, ranges: list[list[float]]) -> bool:
    """Whether every one of ``rows`` lies inside the view ``ranges`` ([[x0, x1], [y0, y1]])."""
    if not len(rows):
        return True
    at = positions[np.asarray(rows, dtype=np.int64)]
    (x0, x1), (y0, y1) = ranges
    inside = (at[:, 0] >= x0) & (at[:, 0] <= x1) & (at[:, 1] >= y0) & (at[:, 1] <= y1)
    return bool(inside.all())


class LayoutChoice(QWidget):
    """The layout box (and, for two columns, the two column boxes); ``chosen(positions, name)``
    when the map should show another layout."""

    chosen = Signal(object, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session: Session | None = None
        self.layouts: dict[str, np.ndarray] = {}  # what the window offered: "PCA", "UMAP"
        self.box = QComboBox()
        for key, title in CHOICES:
            self.box.addItem(title, key)
        self.box.setToolTip(
            "Where the rows are placed: UMAP (once computed; the best by default), PCA, or any "
            "two numeric columns of the file"
        )
        self.x_box = QComboBox()
        self.y_box = QComboBox()
        for box, axis in ((self.x_box, "across"), (self.y_box, "up")):
            box.setToolTip(f"The column placed {axis}")
            box.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            box.setMinimumContentsLength(8)
            box.currentIndexChanged.connect(self._columns_changed)
        self.axes = QWidget()
        axes = QHBoxLayout(self.axes)
        axes.setContentsMargins(0, 0, 0, 0)
        axes.addWidget(QLabel("x:"))
        axes.addWidget(self.x_box, 1)
        axes.addWidget(QLabel("y:"))
        axes.addWidget(self.y_box, 1)
        self.axes.setVisible(False)
        self.box.currentIndexChanged.connect(self._mode_changed)

    @property
    def mode(self) -> str:
        return str(self.box.currentData())

    def set_session(self, session: Session | None) -> None:
        self.session = session
        self.layouts = {}
        for box in (self.x_box, self.y_box):
            box.blockSignals(True)
            box.clear()
        if session is not None:
            columns = numeric_columns(session)
            self.x_box.addItems(columns)
            self.y_box.addItems(columns)
            self.y_box.setCurrentIndex(min(1, len(columns) - 1))
        for box in (self.x_box, self.y_box):
            box.blockSignals(False)
        self.box.blockSignals(True)
        self.box.setCurrentIndex(0)
        self.box.blockSignals(False)
        self.axes.setVisible(False)

    def offer(self, positions: np.ndarray, name: str) -> None:
        """A layout the window computed ("PCA", "UMAP"): kept, and shown if it is the one
        chosen (or, by default, the best there is)."""
        self.layouts[name] = positions
        if self.mode == name or (self.mode == AUTO and name == self._best()):
            self.chosen.emit(positions, name)

    def _best(self) -> str:
        return "UMAP" if "UMAP" in self.layouts else "PCA"

    def _mode_changed(self) -> None:
        mode = self.mode
        self.axes.setVisible(mode == COLUMNS)
        if mode == COLUMNS:
            self._columns_changed()
            return
        name = self._best() if mode == AUTO else mode
        if name in self.layouts:
            self.chosen.emit(self.layouts[name], name)

    def _columns_changed(self) -> None:
        if self.mode != COLUMNS or self.session is None or not self.x_box.currentText():
            return
        x, y = self.x_box.currentText(), self.y_box.currentText()
        self.chosen.emit(column_positions(self.session, x, y), f"{x} × {y}")
