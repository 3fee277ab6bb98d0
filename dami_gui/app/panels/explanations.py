"""The explanation views of the main window, built and wired in one place.

* a dock on the right, "Explanations", with three tabs: *Why this row* (:mod:`.explain_panel`),
  *Regions* (:mod:`.regions_panel`) and *Conflicts* (:mod:`.conflicts_panel`);
* the coverage figures and stopping hint (:mod:`.coverage_panel`), which the window puts under
  the learning curve (``explanations.coverage``).

The window calls :meth:`Explanations.set_session` and :meth:`Explanations.show_row`; rows the
panels ask for (a conflict, the nearest labeled row, a group's center) come out as
``rowRequested(row)``, and the rows of the selected groups as ``highlightRequested(rows)``.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QDockWidget, QMainWindow, QTabWidget

from dami_gui.app.palette import ClassColors
from dami_gui.app.panels.conflicts_panel import ConflictsPanel
from dami_gui.app.panels.coverage_panel import CoveragePanel
from dami_gui.app.panels.explain_panel import ExplainPanel
from dami_gui.app.panels.regions_panel import RegionsPanel
from dami_gui.app.panels.round_view import RoundCache
from dami_gui.core.session import Session

#: Width of the dock in a fresh window (pixels).
DOCK_WIDTH = 360


class Explanations(QObject):
    """Owns the explanation panels and their dock in ``window``."""

    rowRequested = Signal(int)  # select this pool row everywhere
    highlightRequested = Signal(object)  # outline these rows on the map (None: none)

    def __init__(self, window: QMainWindow, colors: ClassColors) -> None:
        super().__init__(window)
        self.cache = RoundCache(self)
        self.why = ExplainPanel(colors, self.cache)
        self.regions = RegionsPanel(colors=colors)
        self.conflicts = ConflictsPanel(colors, self.cache)
        self.coverage = CoveragePanel()
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
        self.dock = QDockWidget("Explanations", window)
        self.dock.setObjectName("explanationsDock")
        self.dock.setWidget(self.tabs)
        self.dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetClosable
            | QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        window.resizeDocks([self.dock], [DOCK_WIDTH], Qt.Orientation.Horizontal)
        self.docks = [self.dock]

        self.why.rowRequested.connect(self.rowRequested)
        self.conflicts.rowRequested.connect(self.rowRequested)
        self.regions.rowRequested.connect(self.rowRequested)
        self.regions.highlightChanged.connect(self._highlight)
        self.conflicts.countChanged.connect(self._conflict_count)
        self.coverage.conflictsRequested.connect(self.show_conflicts)

    def set_session(self, session: Session | None, colors: ClassColors) -> None:
        self.why.colors = colors
        self.regions.model.colors = colors
        self.conflicts.colors = colors
        self.why.set_session(session)
        self.regions.set_session(session)
        self.conflicts.set_session(session)
        self.coverage.set_session(session)

    def show_row(self, row: int | None) -> None:
        self.why.show_row(row)

    def show_conflicts(self) -> None:
        self.dock.show()
        self.tabs.setCurrentIndex(self.conflicts_index)

    def _highlight(self, rows: np.ndarray | None) -> None:
        self.highlightRequested.emit(rows)

    def _conflict_count(self, n: int) -> None:
        self.tabs.setTabText(self.conflicts_index, f"Conflicts ({n})" if n else "Conflicts")
        self.coverage.set_conflicts(n)
