"""*Why this row*: the selected row's exact local linear model as a bar chart, and its context.

Inside a row's linear region a ReLU network *is* a linear model, so the score (logit) of a class
splits exactly into one contribution per source column plus a bias (see
:func:`dami_gui.core.explain.explain_row`). The panel draws those contributions as horizontal
bars, largest push first, positive and negative in two colours, the bias as its own bar, and the
score they add up to; a combo box picks the class to explain (the predicted one by default).
Below: the row's exact region (how many pool rows share it, how many of those are labeled and
how), its pick rank this round, the nearest labeled row in explanation space, margin and entropy.

The bars are drawn by :class:`~dami_gui.app.panels.contribution_chart.ContributionChart`; the
network and the region ids come from the shared
:class:`~dami_gui.app.panels.round_view.RoundCache`, which refreshes the panel when late region
ids arrive.
"""

from __future__ import annotations

import html
import math

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from dami_gui.app.binding import SessionLink
from dami_gui.app.palette import ClassColors, swatch
from dami_gui.app.panels.contribution_chart import NEGATIVE, POSITIVE, ContributionChart
from dami_gui.app.panels.round_view import RoundCache
from dami_gui.core.explain import RowExplanation, explain_row
from dami_gui.core.records import RoundResult
from dami_gui.core.session import Session

INTRO = (
    "<b>Exact</b>, not estimated: each bar is a column's weight × its standardised value in "
    f"this row's linear region, pushing the score <span style='color:{POSITIVE}'>■ up</span> "
    f"or <span style='color:{NEGATIVE}'>■ down</span>."
)
INTRO_TIP = (
    "Inside this row's linear region the network is exactly linear, so the bars are exact, not "
    "estimates. The highest score is the prediction."
)


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


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
        self.class_box.setMinimumContentsLength(8)
        self.class_box.currentIndexChanged.connect(self._class_changed)
        self.intro = QLabel(INTRO)
        self.intro.setTextFormat(Qt.TextFormat.RichText)
        self.intro.setWordWrap(True)
        self.intro.setStyleSheet("color: #444444;")
        self.intro.setToolTip(INTRO_TIP)
        self.score = QLabel()
        self.score.setObjectName("scoreLine")
        font = self.score.font()
        font.setBold(True)
        self.score.setFont(font)
        self.score.setWordWrap(True)
        self.chart = ContributionChart()
        self.details = QLabel()
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.details.setWordWrap(True)
        self.details.setOpenExternalLinks(False)
        self.details.linkActivated.connect(self._link)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        # the bars and the details scroll together: a short column cuts neither
        body = QWidget()
        body_layout = QVBoxLayout(body)
        body_layout.setContentsMargins(0, 0, 0, 0)
        body_layout.addWidget(self.chart)
        body_layout.addWidget(self.details)
        body_layout.addStretch(1)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidget(body)
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll_area.setMinimumHeight(120)

        self.class_box.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.pick_label = QLabel("Explain:")
        pick = QHBoxLayout()
        pick.addWidget(self.pick_label)
        pick.addWidget(self.class_box, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title)
        layout.addLayout(pick)
        layout.addWidget(self.intro)
        layout.addWidget(self.score)
        layout.addWidget(self.scroll_area, 1)

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
        shown = session is not None and model is not None and row is not None
        self.pick_label.setVisible(shown)
        self.class_box.setVisible(shown)
        if session is None or model is None or row is None:
            self.chart.clear()
            self.score.setText("")
            self.details.setText("")
            self.intro.setVisible(False)
            if session is None:
                self.title.setText("Open data to see how the model scores each row.")
            elif model is None and session.last_round is not None:
                self.title.setText(
                    "<b>No model yet</b>: a model is trained once rows of two classes are "
                    "labeled, so this round's rows are typical rows of unexplored parts of the "
                    "pool, picked without one. The explanation appears after the next round."
                )
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
