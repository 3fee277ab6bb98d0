"""The explanation views of the main window, built and wired in one place.

* a dock on the right, "Explanations", with three tabs: *Why this row* (:mod:`.explain_panel`),
  *Regions* (:mod:`.regions_panel`) and *Conflicts* (:mod:`.conflicts_panel`);
* the coverage figures and stopping hint (:mod:`.coverage_panel`), which the window puts under
  the learning curve (``explanations.coverage``).

The window calls :meth:`Explanations.set_session` and :meth:`Explanations.show_row`; rows the
panels ask for (a conflict, the nearest labeled row, a group's center) go to
``window.select_row``, and the selected groups to ``window.map.set_highlight``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QDockWidget, QTabWidget

from dami_gui.app.panels.conflicts_panel import ConflictsPanel
from dami_gui.app.panels.coverage_panel import CoveragePanel
from dami_gui.app.panels.explain_panel import ExplainPanel
from dami_gui.app.panels.regions_panel import RegionsPanel
from dami_gui.app.panels.round_view import RoundCache
from dami_gui.core.session import Session

#: Width of the dock in a fresh window (pixels).
DOCK_WIDTH = 360


class Explanations(QObject):
    """Owns the explanation panels and their dock; ``window`` is the :class:`MainWindow`."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.cache = RoundCache(self)
        self.why = ExplainPanel(window.colors, self.cache)
        self.regions = RegionsPanel()
        self.conflicts = ConflictsPanel(window.colors, self.cache)
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

        self.why.rowRequested.connect(window.select_row)
        self.conflicts.rowRequested.connect(window.select_row)
        self.regions.rowRequested.connect(window.select_row)
        self.regions.highlightChanged.connect(self._highlight)
        self.conflicts.countChanged.connect(self._conflict_count)
        self.coverage.conflictsRequested.connect(self.show_conflicts)

    def set_session(self, session: Session | None) -> None:
        self.why.colors = self.window.colors
        self.conflicts.colors = self.window.colors
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
        self.window.map.set_highlight(rows)

    def _conflict_count(self, n: int) -> None:
        self.tabs.setTabText(self.conflicts_index, f"Conflicts ({n})" if n else "Conflicts")
        self.coverage.set_conflicts(n)
