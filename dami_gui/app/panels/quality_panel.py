"""*Per class*, beside the learning curve: precision, recall and the confusion matrix of the model.

From the last round's cross-validated predictions
(:func:`dami_gui.core.learner.quality.class_report`): each labeled row predicted by a network
trained without it, so the figures are about rows the model did not see. A table gives per class
the labels, the precision (of the rows predicted as the class, the share that has it) and the
recall (of the rows that have it, the share found); under it the confusion matrix, your label by
row, the prediction by column, each cell shaded by its share of the row. Clicking a cell outlines
its rows on the map (``highlightRequested``).
"""

from __future__ import annotations

import html

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHeaderView,
    QLabel,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dami_gui.app.binding import SessionLink
from dami_gui.app.palette import ClassColors, swatch
from dami_gui.core.learner.fidelity import describe_round, fidelity_share, round_fidelity
from dami_gui.core.learner.quality import MIN_LABELS_FOR_ESTIMATE, ClassReport, class_report
from dami_gui.core.records import RoundResult
from dami_gui.core.session import Session

RIGHT = QColor("#0072B2")  # the diagonal: rows predicted as their own label
WRONG = QColor("#D55E00")  # elsewhere: confused


def percent(value: float) -> str:
    return "—" if not np.isfinite(value) else f"{value:.0%}"


def shade(colour: QColor, share: float) -> QColor:
    """``colour`` at an opacity that grows with ``share`` (0..1), readable under black text."""
    out = QColor(colour)
    out.setAlphaF(0.08 + 0.55 * float(min(max(share, 0.0), 1.0)))
    return out


class QualityPanel(QWidget):
    """Per-class precision and recall and the confusion matrix of the last round."""

    highlightRequested = Signal(object)  # the rows of a clicked cell (None: none)

    def __init__(self, colors: ClassColors, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.colors = colors
        self.session: Session | None = None
        self.report: ClassReport | None = None
        self._pairs: np.ndarray | None = None  # (row, label, predicted) of the last round
        self._session_link = SessionLink(self, self._on_session)
        self.learning = QLabel("")
        self.learning.setObjectName("learning")
        self.learning.setWordWrap(True)
        self.learning.setVisible(False)
        self.summary = QLabel("")
        self.summary.setObjectName("qualitySummary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.table = QTableWidget(0, 4)
        self.table.setObjectName("perClass")
        self.table.setHorizontalHeaderLabels(["Class", "Labels", "Precision", "Recall"])
        tips = [
            "The class, in its colour",
            "Labeled rows of the class",
            "Of the labeled rows predicted as this class, the share that has it",
            "Of the labeled rows that have this class, the share predicted as it",
        ]
        for col, tip in enumerate(tips):
            header_item = self.table.horizontalHeaderItem(col)
            if header_item is not None:  # set just above
                header_item.setToolTip(tip)
        self._plain_table(self.table)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in (1, 2, 3):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().setVisible(False)
        self.matrix_title = QLabel(
            "Confusion: your label (row) × the prediction (column); click a cell to outline its "
            "rows on the map."
        )
        self.matrix_title.setWordWrap(True)
        self.matrix_title.setStyleSheet("color: #444444;")
        self.matrix = QTableWidget(0, 0)
        self.matrix.setObjectName("confusion")
        self._plain_table(self.matrix)
        self.matrix.horizontalHeader().setDefaultSectionSize(34)
        self.matrix.horizontalHeader().setMinimumSectionSize(24)
        self.matrix.cellClicked.connect(self._cell_clicked)
        # In a scroll area: on a 1280 x 800 screen the tab is short, and its parts must scroll
        # rather than overlap.
        inner = QWidget()
        layout = QVBoxLayout(inner)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.learning)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.matrix_title)
        layout.addWidget(self.matrix, 1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(inner)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self.refresh()

    @staticmethod
    def _plain_table(table: QTableWidget) -> None:
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        table.verticalHeader().setDefaultSectionSize(20)
        table.setMinimumHeight(70)

    def set_session(self, session: Session | None) -> None:
        self.session = session
        self._session_link.switch(session)
        self.refresh()

    def _on_session(self, kind: str, payload: object) -> None:
        if kind == "round":
            self.refresh()

    def refresh(self) -> None:
        session = self.session
        result = session.last_round if session is not None else None
        pairs = None if result is None else result.cv_predictions
        self.report, self._pairs = None, None
        self.table.setRowCount(0)
        self.matrix.setRowCount(0)
        self.matrix.setColumnCount(0)
        self._show_learning(result)
        if session is None or result is None:
            self.summary.setText("Per-class figures appear after the first rounds.")
            return
        if pairs is None or len(pairs) == 0:
            why = (
                f"from about {MIN_LABELS_FOR_ESTIMATE} labels of two classes or more"
                if result.has_model or result.cold_start
                else "after the next round"
            )
            self.summary.setText(f"Precision, recall and the confusion matrix appear {why}.")
            return
        n_classes = len(session.classes)
        self._pairs = np.asarray(pairs, dtype=np.int64)
        self.report = class_report(self._pairs[:, 1], self._pairs[:, 2], n_classes)
        stored = result.info.get("learner")
        ensemble = isinstance(stored, dict) and stored.get("kind") == "ensemble"
        by = "the ensemble fitted without it" if ensemble else "a network trained without it"
        self.summary.setText(
            f"Round {result.index}: <b>{len(self._pairs)} labeled rows</b>, each predicted by "
            f"{by} (cross-validation): <b>{self.report.accuracy:.0%}</b> right."
        )
        self._fill_table(session, self.report)
        self._fill_matrix(session, self.report)

    def _show_learning(self, result: RoundResult | None) -> None:
        """What learned this round and how closely the explained network follows the ensemble;
        plainly marked when it follows poorly (its explanations then describe the network, whose
        answers differ from the ensemble's more often than usual)."""
        if result is None or not result.has_model:
            self.learning.setVisible(False)
            return
        sentence, poor = describe_round(result.info)
        fidelity = round_fidelity(result.info)
        if fidelity is None:
            short = "The network alone learned from the labels."
        elif poor:
            short = (
                f"⚠ The explained network follows the ensemble poorly: the same class on only "
                f"{fidelity_share(fidelity)} of rows. Its explanations describe the network, "
                "whose answers differ from the ensemble's more often than usual."
            )
        else:
            short = (
                f"Ensemble, explained exactly: the network gives the ensemble's class on "
                f"{fidelity_share(fidelity)} of rows."
            )
        self.learning.setText(short)
        self.learning.setToolTip(sentence)
        self.learning.setProperty("poor", poor)
        self.learning.setStyleSheet(
            "background: #FFF3CD; color: #5C4400; border: 1px solid #E0B000; padding: 3px;"
            if poor
            else "color: #444444;"
        )
        self.learning.setVisible(True)

    def _fill_table(self, session: Session, report: ClassReport) -> None:
        self.table.setRowCount(len(session.classes))
        for k, name in enumerate(session.classes):
            cells = [
                QTableWidgetItem(swatch(self.colors[k]), name),
                QTableWidgetItem(str(int(report.support[k]))),
                QTableWidgetItem(percent(float(report.precision[k]))),
                QTableWidgetItem(percent(float(report.recall[k]))),
            ]
            for col, item in enumerate(cells):
                if col:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(k, col, item)

    def _fill_matrix(self, session: Session, report: ClassReport) -> None:
        n = len(session.classes)
        self.matrix.setRowCount(n)
        self.matrix.setColumnCount(n)
        for k, name in enumerate(session.classes):
            column = QTableWidgetItem(str(k + 1))
            column.setToolTip(f"Predicted as {name}")
            self.matrix.setHorizontalHeaderItem(k, column)
            row = QTableWidgetItem(swatch(self.colors[k]), name)
            row.setToolTip(f"Labeled {name}")
            self.matrix.setVerticalHeaderItem(k, row)
        totals = report.confusion.sum(axis=1)
        for i in range(n):
            for j in range(n):
                count = int(report.confusion[i, j])
                item = QTableWidgetItem(str(count) if count else "")
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                share = count / totals[i] if totals[i] else 0.0
                if count:
                    item.setBackground(shade(RIGHT if i == j else WRONG, share))
                item.setToolTip(
                    f"{count} row{'s' if count != 1 else ''} labeled "
                    f"{html.escape(session.classes[i])}, predicted as "
                    f"{html.escape(session.classes[j])} ({share:.0%} of that label)"
                )
                self.matrix.setItem(i, j, item)

    def cell_rows(self, label: int, predicted: int) -> np.ndarray:
        """The pool rows labeled ``label`` whose cross-validated prediction is ``predicted``."""
        if self._pairs is None:
            return np.empty(0, dtype=np.int64)
        hit = (self._pairs[:, 1] == label) & (self._pairs[:, 2] == predicted)
        return self._pairs[hit, 0]

    def _cell_clicked(self, label: int, predicted: int) -> None:
        rows = self.cell_rows(label, predicted)
        self.highlightRequested.emit(rows if len(rows) else None)
