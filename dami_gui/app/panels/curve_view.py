"""The learning curve: accuracy against the number of labels, one point per round.

Two series, read from ``session.rounds`` after every round: the estimated accuracy
(cross-validated on the labeled rows; available from about ten labels) and, when the session
knows the truth (the demo, a test set), the accuracy against it. A line under the plot says where
things stand and hints when more labels stop paying off.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from dami_gui.app.binding import SessionLink
from dami_gui.core.session import Session

ESTIMATE_COLOR = "#0072B2"
TRUTH_COLOR = "#D55E00"
#: Gain (accuracy points) over the last two rounds under which the curve counts as flat.
FLAT_GAIN = 0.01


class CurveView(QWidget):
    """Estimated and true accuracy against the number of labels."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session: Session | None = None
        self._session_link = SessionLink(self, self._on_session)
        self.plot = pg.PlotWidget(background="w")
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setLabel("bottom", "labels")
        self.plot.setLabel("left", "accuracy")
        self.plot.setYRange(0, 1, padding=0.02)
        for axis in ("left", "bottom"):
            self.plot.getAxis(axis).setTextPen("#333333")
            self.plot.getAxis(axis).setPen("#888888")
        self.legend = QLabel("")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setWordWrap(True)  # a narrow column must not widen the window
        self.legend.setToolTip(
            "Estimated: cross-validated on your labels (each labeled row predicted by a network "
            "trained without it). True: against the known answers, on the rows not labeled."
        )
        self.estimate = self.plot.plot(
            [],
            [],
            pen=pg.mkPen(ESTIMATE_COLOR, width=2),
            symbol="o",
            symbolSize=7,
            symbolBrush=ESTIMATE_COLOR,
            symbolPen=None,
            name="estimated (cross-validated)",
        )
        self.truth = self.plot.plot(
            [],
            [],
            pen=pg.mkPen(TRUTH_COLOR, width=2, style=Qt.PenStyle.DashLine),
            symbol="s",
            symbolSize=7,
            symbolBrush=TRUTH_COLOR,
            symbolPen=None,
            name="true (demo answers)",
        )
        self.summary = QLabel("The curve appears after the first rounds.")
        self.summary.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.legend)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.summary)

    def set_session(self, session: Session | None) -> None:
        self.session = session
        self._session_link.switch(session)
        self.refresh()

    def _on_session(self, kind: str, payload: object) -> None:
        if kind == "round":
            self.refresh()

    def points(self) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
        """(estimated, true) points as (labels, accuracy), oldest first."""
        estimated: list[tuple[int, float]] = []
        true: list[tuple[int, float]] = []
        for result in self.session.rounds if self.session is not None else []:
            if result.accuracy_estimate is not None:
                estimated.append((result.labeled_count, float(result.accuracy_estimate)))
            if result.test_accuracy is not None:
                true.append((result.labeled_count, float(result.test_accuracy)))
        return estimated, true

    def refresh(self) -> None:
        estimated, true = self.points()
        for item, pts in ((self.estimate, estimated), (self.truth, true)):
            xs = np.array([p[0] for p in pts], dtype=float)
            ys = np.array([p[1] for p in pts], dtype=float)
            item.setData(xs, ys)
        has_truth = bool(true)
        self.truth.setVisible(has_truth)
        legend = f"<span style='color:{ESTIMATE_COLOR}'>●━</span> estimated"
        if has_truth:
            legend += f" &nbsp; <span style='color:{TRUTH_COLOR}'>■╌</span> true (known answers)"
        self.legend.setText(legend)
        label_counts = [p[0] for p in estimated + true]
        if label_counts:
            self.plot.setXRange(0, max(max(label_counts), 1) * 1.05, padding=0.02)
        self.summary.setText(self._summary(estimated, true))

    def _summary(self, estimated: list[tuple[int, float]], true: list[tuple[int, float]]) -> str:
        if self.session is None or not self.session.rounds:
            return "The curve appears after the first rounds."
        parts = []
        if estimated:
            parts.append(
                f"Estimated accuracy {estimated[-1][1]:.0%} with {estimated[-1][0]} labels"
            )
        else:
            parts.append("An estimate needs about ten labels of two classes or more")
        if true:
            parts.append(f"true accuracy {true[-1][1]:.0%}")
        text = "; ".join(parts) + "."
        if len(estimated) >= 3:
            gain = estimated[-1][1] - estimated[-3][1]
            if gain < FLAT_GAIN:
                text += (
                    " The estimate has stopped rising over the last two rounds:"
                    " more labels may not help much."
                )
        return text
