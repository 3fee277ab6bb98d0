"""The line under the map: which layout is shown, and how far the next one is, honestly.

UMAP is computed in the background while the PCA map is shown. :class:`MapProgress` says so
under the map: a stage with a share done shows the share and a bar that fills; a stage that
cannot report one (umap's numba compilation, its neighbour search: ``fraction`` NaN or still 0)
shows no percentage but the seconds it has taken so far, counted by a one-second timer, and a
busy bar. A "0 %" that does not move is never shown.
"""

from __future__ import annotations

import math
import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QProgressBar, QVBoxLayout, QWidget


class MapProgress(QWidget):
    """The map's status line (``label``) and a bar (``busy``) while a layout is computed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel("")
        self.label.setObjectName("mapStatus")
        # a line of its own under the map (UMAP's stages are long), wrapped, so that it does not
        # widen the map's column
        self.label.setWordWrap(True)
        self.busy = QProgressBar()
        self.busy.setObjectName("mapBusy")
        self.busy.setRange(0, 1000)
        self.busy.setTextVisible(False)
        self.busy.setMaximumHeight(8)
        self.busy.setVisible(False)
        self.layout_name = ""  # the layout shown now ("PCA", "UMAP")
        self.clock = time.monotonic  # (tests replace it)
        self._stage = ""
        self._since = 0.0
        self._fraction = math.nan
        self.tick = QTimer(self)
        self.tick.setInterval(1000)
        self.tick.timeout.connect(self._show)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.busy)
        layout.addWidget(self.label)

    def say(self, text: str) -> None:
        """Show ``text``; any progress shown ends."""
        self.tick.stop()
        self.busy.setVisible(False)
        self._stage = ""
        self.label.setText(text)

    def progress(self, stage: str, fraction: float) -> None:
        """The next layout is at ``stage``, ``fraction`` done (NaN: no share to give)."""
        if stage != self._stage:
            self._stage, self._since = stage, self.clock()
        self._fraction = fraction
        self._show()

    def _show(self) -> None:
        if not self._stage:
            return
        step = self._stage.replace(" (UMAP)", "")
        step = step[:1].lower() + step[1:]
        shown = self.layout_name or "PCA"
        self.busy.setVisible(True)
        if math.isfinite(self._fraction) and self._fraction > 0:
            self.tick.stop()
            self.busy.setRange(0, 1000)
            self.busy.setValue(int(min(self._fraction, 1.0) * 1000))
            self.label.setText(f"Map: {shown} · arranging UMAP {self._fraction:.0%} · {step}")
            return
        self.busy.setRange(0, 0)  # busy: it moves by itself
        seconds = int(self.clock() - self._since)
        self.label.setText(f"Map: {shown} · {step} · {seconds} s so far")
        if not self.tick.isActive():
            self.tick.start()
