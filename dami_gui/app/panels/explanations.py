"""The explanation views of the main window, built and wired in one place.

* the right-hand column of the window (``explanations.pane``, a column of the window's splitter
  that can be hidden: View → Explanations): on top the tabs (``explanations.tabs``) *Why this
  row* (:mod:`.explain_panel`), *Regions* (:mod:`.regions_panel`) and *Conflicts*
  (:mod:`.conflicts_panel`); under them (``explanations.lower``) the *Learning curve* that the
  window adds and beside it *Per class* (precision, recall and the confusion matrix,
  :mod:`.quality_panel`) and *Coverage* (the coverage figures and stopping hint,
  :mod:`.coverage_panel`, ``explanations.coverage``).

The window calls :meth:`Explanations.set_session` and :meth:`Explanations.show_row`; rows the
panels ask for (a conflict, the nearest labeled row, a group's center) come out as
``rowRequested(row)``, and the rows of the selected groups as ``highlightRequested(rows)``.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMainWindow, QSplitter, QTabWidget, QWidget

from dami_gui.app.palette import ClassColors
from dami_gui.app.panels.conflicts_panel import ConflictsPanel
from dami_gui.app.panels.coverage_panel import CoveragePanel
from dami_gui.app.panels.explain_panel import ExplainPanel
from dami_gui.app.panels.quality_panel import QualityPanel
from dami_gui.app.panels.regions_panel import RegionsPanel
from dami_gui.app.panels.round_view import RoundCache
from dami_gui.core.session import Session

#: The narrowest the explanations column gets (pixels): the bars of *Why this row* stay legible.
MIN_WIDTH = 240


class Explanations(QObject):
    """Owns the explanation panels and the tabs that hold them (the window places the tabs)."""

    rowRequested = Signal(int)  # select this pool row everywhere
    highlightRequested = Signal(object)  # outline these rows on the map (None: none)

    def __init__(self, window: QMainWindow, colors: ClassColors) -> None:
        super().__init__(window)
        self.cache = RoundCache(self)
        self.why = ExplainPanel(colors, self.cache)
        self.regions = RegionsPanel(colors=colors)
        self.conflicts = ConflictsPanel(colors, self.cache)
        self.coverage = CoveragePanel()
        self.quality = QualityPanel(colors)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.why_index = self.tabs.addTab(self.why, "Why this row")
        self.regions_index = self.tabs.addTab(self.regions, "Regions")
        self.conflicts_index = self.tabs.addTab(self.conflicts, "Conflicts")
        self.tabs.setTabToolTip(self.why_index, "The selected row's exact local linear model")
        self.tabs.setTabToolTip(self.regions_index, "The DAMI groups of the last round")
        self.tabs.setTabToolTip(
            self.conflicts_index, "Labeled rows in one exact region with different labels"
        )
        self.lower = QTabWidget()  # the learning curve (added by the window)
        self.lower.setDocumentMode(True)
        self.curve_index = self.coverage_index = self.quality_index = -1
        self.pane = QSplitter(Qt.Orientation.Vertical)
        self.pane.setObjectName("explanations")
        self.pane.addWidget(self.tabs)
        self.pane.addWidget(self.lower)
        self.pane.setStretchFactor(0, 3)
        self.pane.setStretchFactor(1, 2)
        self.pane.setSizes([430, 290])
        self.pane.setMinimumWidth(MIN_WIDTH)
        #: View → Explanations: show or hide the column (the map and the table take its room).
        self.toggle_action = QAction("&Explanations", window)
        self.toggle_action.setCheckable(True)
        self.toggle_action.setChecked(True)
        self.toggle_action.toggled.connect(self.pane.setVisible)

        self.why.rowRequested.connect(self.rowRequested)
        self.conflicts.rowRequested.connect(self.rowRequested)
        self.regions.rowRequested.connect(self.rowRequested)
        self.regions.highlightChanged.connect(self._highlight)
        self.quality.highlightRequested.connect(self._highlight)
        self.conflicts.countChanged.connect(self._conflict_count)
        self.coverage.conflictsRequested.connect(self.show_conflicts)

    def set_session(self, session: Session | None, colors: ClassColors) -> None:
        self.why.colors = colors
        self.regions.model.colors = colors
        self.conflicts.colors = colors
        self.quality.colors = colors
        self.why.set_session(session)
        self.quality.set_session(session)
        self.regions.set_session(session)
        self.conflicts.set_session(session)
        self.coverage.set_session(session)

    def show_row(self, row: int | None) -> None:
        self.why.show_row(row)

    def add_curve(self, curve: QWidget) -> None:
        """The learning curve and, beside it, the coverage, under the explanations."""
        self.curve_index = self.lower.addTab(curve, "Learning curve")
        self.lower.setTabToolTip(self.curve_index, "Accuracy against the number of labels")
        self.quality_index = self.lower.addTab(self.quality, "Per class")
        self.lower.setTabToolTip(
            self.quality_index,
            "Precision, recall and the confusion matrix, from the cross-validated predictions",
        )
        self.coverage_index = self.lower.addTab(self.coverage, "Coverage")
        self.lower.setTabToolTip(
            self.coverage_index, "How much of the pool the labels cover, and when to stop"
        )

    def show_tab(self, index: int) -> None:
        """Bring tab ``index`` of the explanations to the front (showing the column)."""
        self.toggle_action.setChecked(True)
        self.tabs.setCurrentIndex(index)

    def show_curve(self) -> None:
        """Bring the learning curve to the front (showing the column)."""
        self.toggle_action.setChecked(True)
        self.lower.setCurrentIndex(self.curve_index)

    def show_conflicts(self) -> None:
        self.show_tab(self.conflicts_index)

    def _highlight(self, rows: np.ndarray | None) -> None:
        self.highlightRequested.emit(rows)

    def _conflict_count(self, n: int) -> None:
        self.tabs.setTabText(self.conflicts_index, f"Conflicts ({n})" if n else "Conflicts")
        self.coverage.set_conflicts(n)
