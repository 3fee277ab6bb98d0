"""Margin on the ensemble's probabilities: the rows the round's teacher is least sure about.

With the ensemble learner (:mod:`dami_gui.core.learner`) the network the app explains is a
student of the teacher. DAMI+ picks by the student's local models; this strategy picks where the
teacher itself hesitates most between its two likeliest classes, which the benchmark measured
ahead of DAMI+ on the synthetic families and about level on the tuning sets (docs/benchmarks.md,
part 3). Why a row was picked stays exact: the teacher's two probabilities are kept for every
pick and shown. The map still draws the student's groups of similar local models.

With the network alone (no teacher) it is margin sampling on the network's probabilities.

On a pool bigger than :data:`SCORED_ROWS` candidates the teacher scores a seeded sample of them
(a 1M-row pool would otherwise cost tens of seconds of tree and kernel predictions); rows
outside the sample are left unscored (nan).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from dami_gui.core.progress import Reporter
from dami_gui.core.strategies.base import QueryContext, QueryResult, QueryStrategy, register, top_k

#: Most candidate rows whose ensemble probabilities are computed in one round.
SCORED_ROWS = 200_000
#: Rows asked of the teacher between two progress reports (and cancellation checks).
STEP_ROWS = 16_384


def top_two(proba: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per row: the likeliest class, its probability, the second class and its probability."""
    if proba.shape[1] < 2:
        zeros = np.zeros(proba.shape[0])
        return np.zeros(proba.shape[0], dtype=np.int64), proba[:, 0], zeros - 1, zeros
    order = np.argsort(-proba, axis=1, kind="stable")[:, :2]
    rows = np.arange(proba.shape[0])
    first, second = order[:, 0], order[:, 1]
    return first, proba[rows, first], second, proba[rows, second]


@register
class EnsembleMargin(QueryStrategy):
    name = "teacher-margin"
    title = "Ensemble margin"
    description = (
        "Picks the rows where the ensemble's two most likely classes are closest "
        "(with the network alone, the network's)."
    )
    reads_ensemble = True  # with the network alone it is margin sampling

    @classmethod
    def why_this_row(cls, info: dict[str, Any], position: int, classes: Sequence[str] = ()) -> str:
        """The two classes and probabilities that made the pick, when the round kept them."""
        pairs = info.get("top_two")
        source = "ensemble" if info.get("scored_by") == "ensemble" else "network"
        if not isinstance(pairs, list) or not 0 <= position < len(pairs):
            return cls.why_picked()
        entry = pairs[position]
        if not (
            isinstance(entry, list)
            and len(entry) == 4
            and all(isinstance(v, int | float) and np.isfinite(v) for v in entry)
        ):
            return cls.why_picked()  # a record this version cannot read: the general reason
        first, p_first, second, p_second = int(entry[0]), entry[1], int(entry[2]), entry[3]
        if second < 0:
            return f"{cls.title}: the {source} knows one class only."

        def named(code: int) -> str:
            return f"'{classes[code]}'" if 0 <= code < len(classes) else f"class {code + 1}"

        # short enough for the row card's two lines at 1280 px (its tooltip has the rest)
        weighed = info.get("scored_rows")
        among = f" of {weighed:,} rows" if isinstance(weighed, int) else ""
        before = {0: "", 1: ", after the one picked before"}.get(
            position, f", after the {position} picked before"
        )
        return (
            f"{cls.title}: the {source} hesitates between {named(first)} ({p_first:.2f}) and "
            f"{named(second)} ({p_second:.2f}), the closest call{among}{before}."
        )

    def _select(self, ctx: QueryContext, k: int, seed: int, reporter: Reporter) -> QueryResult:
        outputs = ctx.model_outputs(self.name)
        rows = np.flatnonzero(ctx.candidates)
        if rows.size > SCORED_ROWS:
            rng = np.random.default_rng(seed + 7)
            rows = np.sort(rng.choice(rows, SCORED_ROWS, replace=False))
        if outputs.teacher is None:
            proba = outputs.proba[rows].astype(np.float64)
        else:
            proba = np.empty((rows.size, outputs.model.n_classes), dtype=np.float64)
            for start in range(0, rows.size, STEP_ROWS):
                reporter.check()
                reporter("Asking the ensemble", start / rows.size)
                part = rows[start : start + STEP_ROWS]
                proba[start : start + part.size] = outputs.teacher.predict_proba(ctx.X[part])
            reporter("Asking the ensemble", 1.0)
        first, p_first, second, p_second = top_two(proba)
        scores = np.full(ctx.n_rows, np.nan)
        scores[rows] = -(p_first - p_second)
        scored = np.zeros(ctx.n_rows, dtype=bool)
        scored[rows] = True
        picks = top_k(scores, scored, k, seed)
        at = np.searchsorted(rows, picks)
        info: dict[str, Any] = {
            "scored_by": "network" if outputs.teacher is None else "ensemble",
            "scored_rows": int(rows.size),
            "top_two": [
                [
                    int(first[i]),
                    round(float(p_first[i]), 4),
                    int(second[i]),
                    round(float(p_second[i]), 4),
                ]
                for i in at
            ],
        }
        return QueryResult(picks, scores, info=info)
