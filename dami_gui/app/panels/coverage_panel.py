"""Coverage after each round and the stopping hint, in a tab beside the learning curve.

Figures of the last round from :func:`dami_gui.core.coverage.coverage_history` (recorded when
the round was computed): the share of the pool whose nearest center in explanation space is a
labeled row, how many of the picks sit in an exact region no label reaches ("new regions"), how
many rows moved to another group since the round before, and how many predictions changed. Under
them, the sentence of :func:`~dami_gui.core.coverage.stopping_hint`, on green when it says the
user could stop. A link appears when labeled rows conflict (see the Conflicts tab).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from dami_gui.app.binding import SessionLink
from dami_gui.core.coverage import RoundCoverage, StoppingHint, coverage_history, stopping_hint
from dami_gui.core.session import Session

log = logging.getLogger("dami_gui.app")

STOP_STYLE = (
    "QLabel { background: #e3f4e6; border: 1px solid #2e8b47; border-radius: 3px; "
    "padding: 4px; color: #145a28; font-weight: bold; }"
)
GO_STYLE = (
    "QLabel { background: #f4f4f4; border: 1px solid #c8c8c8; border-radius: 3px; "
    "padding: 4px; color: #333333; }"
)

FIELDS = [
    (
        "share",
        "Close to a labeled row",
        "Share of the pool whose nearest center in explanation space is a labeled row; the rest "
        "are nearest to one of this round's picks, ground your labels do not reach yet",
    ),
    (
        "new",
        "New regions found",
        "Picks of this round that fall in an exact linear region holding no labeled row",
    ),
    (
        "changed",
        "Rows that changed group",
        "Rows whose nearest center (their DAMI group) changed since the round before",
    ),
    (
        "predictions",
        "Predictions changed",
        "Share of the pool whose predicted class changed since the round before",
    ),
]


def format_coverage(cov: RoundCoverage, picks: int | None = None) -> dict[str, str]:
    """The panel's text for each figure of ``cov``."""
    new = f"{cov.new_regions}" + (f" of {picks}" if picks is not None else "")
    return {
        "share": f"{cov.labeled_share:.0%}",
        "new": new,
        "changed": "—" if cov.changed_region is None else f"{cov.changed_region:,}",
        "predictions": "—" if cov.prediction_change is None else f"{cov.prediction_change:.1%}",
    }


class CoveragePanel(QWidget):
    """The last round's coverage figures and the stopping hint; ``conflictsRequested`` when the
    conflicts link is clicked."""

    conflictsRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session: Session | None = None
        self._session_link = SessionLink(self, self._on_session)
        self.coverage: RoundCoverage | None = None
        self.hint: StoppingHint | None = None
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.RichText)
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(1)
        self.values: dict[str, QLabel] = {}
        for i, (key, name, tip) in enumerate(FIELDS):
            label = QLabel(name + ":")
            label.setToolTip(tip)
            label.setStyleSheet("color: #555555;")
            value = QLabel("—")
            value.setObjectName(f"coverage_{key}")
            value.setToolTip(tip)
            font = value.font()
            font.setBold(True)
            value.setFont(font)
            grid.addWidget(label, i, 0)  # one figure a line: the column is narrow
            grid.addWidget(value, i, 1)
            self.values[key] = value
        grid.setColumnStretch(1, 1)
        self.hint_label = QLabel()
        self.hint_label.setObjectName("stoppingHint")
        self.hint_label.setWordWrap(True)
        self.hint_label.setToolTip(
            "Could you stop? Yes once, over the last two rounds, the new labels hardly changed the "
            "predictions (at most 1 % of rows), the coverage stayed flat and the accuracy stopped "
            "rising."
        )
        self.conflicts = QLabel()
        self.conflicts.setTextFormat(Qt.TextFormat.RichText)
        self.conflicts.linkActivated.connect(lambda _href: self.conflictsRequested.emit())
        self.conflicts.setVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 0)
        layout.setSpacing(3)
        layout.addWidget(self.title)
        layout.addLayout(grid)
        layout.addWidget(self.hint_label)
        layout.addWidget(self.conflicts)
        layout.addStretch(1)
        self.set_session(None)

    def set_session(self, session: Session | None) -> None:
        self.session = session
        self._session_link.switch(session)
        self.set_conflicts(0)
        self.refresh()

    def _on_session(self, kind: str, payload: object) -> None:
        if kind == "round":
            self.refresh()

    def refresh(self) -> None:
        session = self.session
        self.coverage, self.hint = None, None
        rounds = session.rounds if session is not None else []
        if rounds:
            try:
                history = coverage_history(rounds)
                self.coverage, self.hint = history[-1], stopping_hint(history)
            except Exception:  # e.g. old rounds of a reopened project without their arrays
                log.exception("Coverage could not be computed")
        if self.coverage is None or self.hint is None:
            self._blank(
                "<b>Coverage</b>: after the first round."
                if not rounds
                else "<b>Coverage</b>: not available for this session's rounds.",
                "Label the rows the model asks for; a hint on when to stop appears after three "
                "rounds.",
            )
            return
        if rounds[-1].cold_start:
            self._blank(
                f"<b>Round {rounds[-1].index}</b>: no model yet.",
                "Label the first rows (two classes or more): the model, its coverage and a hint "
                "on when to stop follow.",
            )
            return
        cov = self.coverage
        picks = len(rounds[-1].queries) if rounds else None
        self.title.setText(f"<b>Coverage after round {cov.round}</b> ({cov.labels} labels)")
        for key, text in format_coverage(cov, picks).items():
            self.values[key].setText(text)
        self.hint_label.setText(("✔ " if self.hint.could_stop else "") + self.hint.message)
        self.hint_label.setStyleSheet(STOP_STYLE if self.hint.could_stop else GO_STYLE)

    def _blank(self, title: str, hint: str) -> None:
        """No figures to show: ``title`` and ``hint`` say why."""
        self.title.setText(title)
        for value in self.values.values():
            value.setText("—")
        self.hint_label.setText(hint)
        self.hint_label.setStyleSheet(GO_STYLE)

    def set_conflicts(self, n: int) -> None:
        """Show a link to the Conflicts tab when ``n`` > 0."""
        self.conflicts.setVisible(n > 0)
        if n:
            what = "region where labels disagree" if n == 1 else "regions where labels disagree"
            self.conflicts.setText(
                f"<span style='color:#b35900'>⚠</span> <a href='conflicts'>{n} {what}</a>: "
                "review them"
            )
