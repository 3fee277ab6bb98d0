"""*Why this row*: the selected row's exact local linear model as a bar chart, and its context.

Inside a row's linear region a ReLU network *is* a linear model, so the score (logit) of a class
splits exactly into one contribution per source column plus a bias (see
:func:`dami_gui.core.explain.explain_row`). The panel draws those contributions as horizontal
bars, largest push first, positive and negative in two colours, the bias as its own bar, and the
score they add up to; a combo box picks the class to explain (the predicted one by default).
Below: the row's exact region (how many pool rows share it, how many of those are labeled and
how), its pick rank this round, the nearest labeled row in explanation space, margin and entropy.

:class:`RoundCache` keeps, per round, the rebuilt network and every row's region id; when a
round has no region ids (an older round of a reopened project) they are computed in a worker and
the panels refresh when they arrive.
"""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QHelpEvent, QPainter, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from dami_gui.app.binding import SessionLink
from dami_gui.app.palette import ClassColors
from dami_gui.app.panels.label_panel import swatch
from dami_gui.app.tasks import Worker
from dami_gui.core.explain import RowExplanation, explain_row
from dami_gui.core.interpret import interpret
from dami_gui.core.model import MLP
from dami_gui.core.records import RoundResult
from dami_gui.core.session import Session

POSITIVE = "#0072B2"  # pushes the score up
NEGATIVE = "#D55E00"  # pushes it down
BIAS = "#8c8c8c"

INTRO = (
    "Inside this row's linear region the network is <b>exactly</b> linear, so the bars are "
    "exact, not estimates: each is a column's weight × its standardised value, pushing the "
    f"score <span style='color:{POSITIVE}'>■ up</span> or "
    f"<span style='color:{NEGATIVE}'>■ down</span>. The highest score is the prediction."
)


def signed(value: float) -> str:
    """``+1.23`` / ``-0.45``; a value that rounds to zero is ``+0.00``, never ``-0.00``."""
    return f"{(round(value, 2) or 0.0):+.2f}"


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


# ------------------------------------------------------------------------------ round cache
class RoundCache(QObject):
    """The last round's network and region ids, rebuilt once per round; ``ready`` when late ids
    (computed in a worker) arrive."""

    ready = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.result: RoundResult | None = None
        self._model: MLP | None = None
        self._region_ids: np.ndarray | None = None
        self._worker: Worker | None = None

    def _sync(self, session: Session | None) -> RoundResult | None:
        result = session.last_round if session is not None else None
        if result is self.result:
            return result
        if self._worker is not None:
            self._worker.cancel()
            self._worker = None
        self.result, self._model, self._region_ids = result, None, None
        if result is None or session is None:
            return result
        ids = np.asarray(result.region_ids)
        if ids.shape == (session.n_rows,):
            self._region_ids = ids
        else:
            X, spec, state = session.dataset.X, result.model_spec, result.model_state

            def task(progress: Any, cancel: Any) -> np.ndarray:
                model = MLP.from_spec(spec, state)
                found = interpret(model, X, with_A=False, progress=progress, cancel=cancel)
                return found.region_ids

            worker = Worker(task, name="finding the linear regions")
            worker.finished.connect(self._ids_ready)
            self._worker = worker
            worker.start()
        return result

    def _ids_ready(self, ids: np.ndarray) -> None:
        if self.sender() is not self._worker:
            return  # a worker of an earlier round
        self._worker = None
        self._region_ids = ids
        self.ready.emit()

    def model(self, session: Session | None) -> MLP | None:
        result = self._sync(session)
        if result is None:
            return None
        if self._model is None:
            self._model = result.model()
        return self._model

    def region_ids(self, session: Session | None) -> np.ndarray | None:
        """Every row's exact region under the last round's network, or None while computing."""
        self._sync(session)
        return self._region_ids


# --------------------------------------------------------------------------------- the chart
class ContributionChart(QWidget):
    """Horizontal bars, one per column, then the bias, then the total; drawn with QPainter."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.names: list[str] = []
        self.values: list[float] = []
        self.tips: list[str] = []
        self.bias = 0.0
        self.bias_tip = ""
        self.total = 0.0
        self.total_text = "= score"
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMouseTracking(True)
        self._update_height()

    def set_bars(
        self,
        names: list[str],
        values: list[float],
        tips: list[str],
        bias: float,
        bias_tip: str,
        total: float,
        total_text: str,
    ) -> None:
        self.names, self.values, self.tips = list(names), [float(v) for v in values], list(tips)
        self.bias, self.bias_tip, self.total = float(bias), bias_tip, float(total)
        self.total_text = total_text
        self._update_height()
        self.update()

    def clear(self) -> None:
        self.set_bars([], [], [], 0.0, "", 0.0, "")

    # -- geometry ----------------------------------------------------------------------------
    def _row_height(self) -> int:
        return QFontMetrics(self.font()).height() + 5

    def _update_height(self) -> None:
        n = len(self.values)
        height = 0 if n == 0 else (n + 2) * self._row_height() + 14
        self.setFixedHeight(max(height, 10))

    def _bar_y(self, i: int) -> float:
        """Top of bar ``i``: columns, then (after a gap) the bias (i = n), then the total."""
        h = self._row_height()
        return 2 + i * h + (6 if i >= len(self.values) else 0) + (6 if i > len(self.values) else 0)

    def bar_at(self, y: float) -> int | None:
        """Index of the bar at height ``y`` (len(values) = the bias), or None."""
        h = self._row_height()
        for i in range(len(self.values) + 1):
            top = self._bar_y(i)
            if top <= y < top + h:
                return i
        return None

    # -- painting ----------------------------------------------------------------------------
    def paintEvent(self, event: Any) -> None:
        if not self.values:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        fm = QFontMetrics(self.font())
        h = self._row_height()
        width = self.width()
        bold = QFont(self.font())
        bold.setBold(True)
        all_names = [*self.names, "bias"]
        label_w = min(max(fm.horizontalAdvance(n) for n in all_names) + 10, int(width * 0.42))
        value_w = (
            max(fm.horizontalAdvance(signed(v)) for v in [*self.values, self.bias, self.total]) + 12
        )
        x0, x1 = label_w + 4, max(label_w + 40, width - value_w - 4)
        ends = [*self.values, self.bias]
        lo, hi = min(0.0, *ends), max(0.0, *ends)
        span = (hi - lo) or 1.0

        def x_of(v: float) -> float:
            return x0 + (x1 - x0) * (v - lo) / span

        zero = x_of(0.0)
        text_pen = QPen(QColor("#222222"))
        for i, (name, value) in enumerate(
            [*zip(self.names, self.values, strict=True), ("bias", self.bias)]
        ):
            top = self._bar_y(i)
            is_bias = i == len(self.values)
            painter.setPen(text_pen if not is_bias else QPen(QColor("#555555")))
            label = fm.elidedText(name, Qt.TextElideMode.ElideMiddle, label_w - 8)
            painter.drawText(
                QRectF(0, top, label_w - 6, h),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                label,
            )
            colour = BIAS if is_bias else (POSITIVE if value >= 0 else NEGATIVE)
            a, b = sorted((zero, x_of(value)))
            painter.fillRect(QRectF(a, top + 3, max(b - a, 1.0), h - 6), QColor(colour))
            painter.setPen(text_pen)
            painter.drawText(
                QRectF(x1 + 4, top, value_w, h),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                signed(value),
            )
        n = len(self.values)
        painter.setPen(QPen(QColor("#bbbbbb")))
        sep = self._bar_y(n) - 4
        painter.drawLine(QPointF(4, sep), QPointF(width - 4, sep))
        total_top = self._bar_y(n + 1)
        painter.drawLine(QPointF(4, total_top - 4), QPointF(width - 4, total_top - 4))
        painter.setPen(QPen(QColor("#666666")))
        painter.drawLine(QPointF(zero, 0), QPointF(zero, self._bar_y(n) + h))
        painter.setFont(bold)
        painter.setPen(text_pen)
        painter.drawText(
            QRectF(4, total_top, x1 - 4, h),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            self.total_text,
        )
        painter.drawText(
            QRectF(x1 + 4, total_top, value_w, h),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            signed(self.total),
        )
        painter.end()

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            assert isinstance(event, QHelpEvent)
            i = self.bar_at(event.pos().y())
            tips = [*self.tips, self.bias_tip]
            if i is not None and i < len(tips):
                QToolTip.showText(event.globalPos(), tips[i], self)
            else:
                QToolTip.hideText()
            return True
        return super().event(event)


# --------------------------------------------------------------------------------- the panel
class ExplainPanel(QWidget):
    """The selected row's local linear model and context; ``rowRequested(row)`` from its links."""

    rowRequested = Signal(int)

    def __init__(
        self, colors: ClassColors, cache: RoundCache | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.colors = colors
        self.cache = cache or RoundCache(self)
        self.cache.ready.connect(self.refresh)
        self.session: Session | None = None
        self.row: int | None = None
        self.explanation: RowExplanation | None = None
        self._session_link = SessionLink(self, self._on_session)
        self.refresh_count = 0

        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.title.setWordWrap(True)
        self.class_box = QComboBox()
        self.class_box.setToolTip("The class whose score the bars explain")
        self.class_box.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.class_box.setMinimumContentsLength(12)
        self.class_box.currentIndexChanged.connect(self._class_changed)
        self.intro = QLabel(INTRO)
        self.intro.setTextFormat(Qt.TextFormat.RichText)
        self.intro.setWordWrap(True)
        self.intro.setStyleSheet("color: #444444;")
        self.score = QLabel()
        self.score.setObjectName("scoreLine")
        font = self.score.font()
        font.setBold(True)
        self.score.setFont(font)
        self.score.setWordWrap(True)
        self.chart = ContributionChart()
        self.scroll = QScrollArea()
        self.scroll.setWidget(self.chart)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setMinimumHeight(120)
        self.details = QLabel()
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.details.setWordWrap(True)
        self.details.setOpenExternalLinks(False)
        self.details.linkActivated.connect(self._link)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)

        self.class_box.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        pick = QHBoxLayout()
        pick.addWidget(QLabel("Explain the score for"))
        pick.addWidget(self.class_box, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title)
        layout.addLayout(pick)
        layout.addWidget(self.intro)
        layout.addWidget(self.score)
        layout.addWidget(self.scroll, 1)  # as tall as the chart; shrinks (and scrolls) if need be
        layout.addWidget(self.details)
        layout.addStretch(0)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(30)
        self._timer.timeout.connect(self.refresh)
        self.set_session(None)

    # -- wiring ------------------------------------------------------------------------------
    def set_session(self, session: Session | None) -> None:
        self.session = session
        self.row = None
        self.class_box.blockSignals(True)
        self.class_box.clear()
        self.class_box.addItem("predicted class", -1)
        self._session_link.switch(session)
        if session is not None:
            for code, name in enumerate(session.classes):
                self.class_box.addItem(swatch(self.colors[code]), name, code)
        self.class_box.setCurrentIndex(0)
        self.class_box.blockSignals(False)
        self.refresh()

    def _on_session(self, kind: str, payload: object) -> None:
        if kind in ("labels", "round"):
            self._timer.start()  # coalesce bursts; a round also brings a new network

    def show_row(self, row: int | None) -> None:
        self.row = row
        self.refresh()

    def class_index(self) -> int | None:
        """The class the user picked, or None for the predicted class."""
        code = self.class_box.currentData()
        return None if code is None or code < 0 else int(code)

    def set_class(self, code: int | None) -> None:
        """Explain class ``code`` (None: the predicted class)."""
        index = 0 if code is None else self.class_box.findData(int(code))
        self.class_box.setCurrentIndex(max(index, 0))

    def _class_changed(self) -> None:
        self.refresh()

    def _link(self, href: str) -> None:
        if href.startswith("row:"):
            self.rowRequested.emit(int(href[4:]))

    # -- content -----------------------------------------------------------------------------
    def refresh(self) -> None:
        self._timer.stop()
        self.refresh_count += 1
        session, row = self.session, self.row
        self.explanation = None
        model = self.cache.model(session)
        if session is None or model is None or row is None:
            self.chart.clear()
            self.score.setText("")
            self.details.setText("")
            self.intro.setVisible(False)
            if session is None:
                self.title.setText("Open data to see how the model scores each row.")
            elif model is None:
                self.title.setText(
                    "The explanation appears after the first round (there is no model yet)."
                )
            else:
                self.title.setText(
                    "Select a row (in the table or on the map) to see why the model scores it "
                    "the way it does."
                )
            return
        self.intro.setVisible(True)
        region_ids = self.cache.region_ids(session)
        regions_known = region_ids is not None
        if not regions_known:  # being computed in a worker: explain without them meanwhile
            region_ids = np.zeros(session.n_rows, dtype=np.int64)
            region_ids[row] = 1
        result = self.cache.result
        assert result is not None
        ex = explain_row(
            model,
            session.dataset,
            row,
            session.labels,
            class_index=self.class_index(),
            region_ids=region_ids,
            queries=result.queries,
        )
        self.explanation = ex
        self._show(session, ex, result, regions_known)

    def _show(
        self, session: Session, ex: RowExplanation, result: RoundResult, regions_known: bool
    ) -> None:
        classes = session.classes
        self.class_box.setItemText(0, f"predicted class ({ex.predicted_class})")
        code = classes.index(ex.predicted_class)
        dot = f"<span style='color:{self.colors[code]}'>■</span>"
        title = f"<b>Row {html.escape(ex.row_id)}</b> · model says {dot} <b>"
        sure = ex.probabilities[ex.predicted_class]
        title += f"{html.escape(ex.predicted_class)}</b> ({sure:.0%})"
        if ex.label is not None:
            title += f" · your label: <b>{html.escape(ex.label)}</b>"
        elif session.skipped[ex.row]:
            title += " · not sure"
        else:
            title += " · not labeled"
        self.title.setText(title)
        self.score.setText(f"Score for '{ex.explained_class}' = {ex.logit:.2f} = sum of the bars")
        frame = session.dataset.frame
        names, values, tips = [], [], []
        for c in ex.contributions:
            raw = ""
            if c.column in frame.columns:
                raw = f" = {frame[c.column].iat[ex.row]}"
            tip = (
                f"{c.column}{raw}\n{c.value:+.3f} to the score for '{ex.explained_class}' "
                "(weight × standardised value; exact inside this region)"
            )
            if len(c.parts) > 1:
                tip += "\n" + "\n".join(f"  {name}: {v:+.3f}" for name, v in c.parts)
            names.append(c.column)
            values.append(c.value)
            tips.append(tip)
        self.chart.set_bars(
            names,
            values,
            tips,
            ex.bias,
            "The bias: the score this region's linear model gives when every column is at its "
            "average (standardised value 0).",
            ex.logit,
            f"= score for '{ex.explained_class}'",
        )
        self.scroll.setMaximumHeight(max(self.chart.height() + 4, self.scroll.minimumHeight()))
        self.details.setText(self._details(session, ex, result, regions_known))

    def _details(
        self, session: Session, ex: RowExplanation, result: RoundResult, regions_known: bool
    ) -> str:
        lines = []
        if regions_known:
            others = ex.region_size - 1
            mix = ", ".join(f"{html.escape(k)} {v}" for k, v in ex.region_labels.items())
            labeled = (
                f"{ex.region_labeled} labeled ({mix})"
                if ex.region_labeled
                else "none of them labeled yet"
            )
            lines.append(
                f"<b>Linear region</b> <span title='{ex.region_id}'>{ex.region_id[:8]}…</span>: "
                + (
                    "no other row of the pool falls in it"
                    if others == 0
                    else f"<b>{ex.region_size:,}</b> rows of the pool share it"
                )
                + f"; {labeled}."
            )
        else:
            lines.append("<b>Linear region</b>: being worked out…")
        n_picks = int(np.size(result.queries))
        if ex.selection_rank is not None:
            lines.append(
                f"<b>Picked</b> {ordinal(ex.selection_rank)} of {n_picks} in round {result.index}."
            )
        else:
            lines.append(f"<b>Not picked</b> in round {result.index}.")
        if ex.nearest_labeled_row is not None and ex.distance_to_labeled is not None:
            near = ex.nearest_labeled_row
            lines.append(
                "<b>Nearest labeled row</b> in explanation space: "
                f"<a href='row:{near}'>{html.escape(str(session.dataset.ids[near]))}</a> "
                f"(distance {ex.distance_to_labeled:.2f}; 0 = the same local model)."
            )
        else:
            lines.append("<b>No labeled row</b> to compare with yet.")
        top = sorted(ex.probabilities.items(), key=lambda kv: -kv[1])[:3]
        probs = ", ".join(f"{html.escape(k)} {v:.0%}" for k, v in top)
        worst = math.log(max(len(session.classes), 2))
        lines.append(
            f"<b>Probabilities</b> {probs} · margin {ex.margin:.2f} (gap between the top two; "
            f"small = unsure) · entropy {ex.entropy:.2f} (0 = certain, {worst:.2f} = no idea)."
        )
        return "<br>".join(lines)
