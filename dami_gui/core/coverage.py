"""How much of the pool the labels cover after each round, and a plain-words hint on stopping.

Per round (see :class:`RoundCoverage`): the share of pool rows whose nearest center in
interpretation space is a labeled row (the rest are nearest to one of the new queries, i.e. in
territory the labels do not reach yet); the number of exact linear regions; how many of the
queries sit in an exact region that holds no labeled row ("new regions found"); how many rows
changed their nearest center since the last round; and the share of rows whose predicted class
changed.

The stopping rule (:func:`stopping_hint`) says "you could stop" when, over the last two rounds,
(1) predictions changed for at most :data:`STABLE_PREDICTIONS` of the pool in each round,
(2) coverage moved by at most :data:`FLAT_COVERAGE` in all, and (3) the accuracy (the
ground-truth one when there is one, else the cross-validated estimate, when available) rose by
at most :data:`FLAT_ACCURACY` in all. Labels are then no longer changing the model's behaviour
on the pool, which is what the stopping criteria of small-text and the literature on stabilising
predictions (Bloodgood & Vijay-Shanker, 2009) look for.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from dami_gui.core.errors import ParameterError
from dami_gui.core.records import RoundResult

STABLE_PREDICTIONS = 0.01
FLAT_COVERAGE = 0.02
FLAT_ACCURACY = 0.01


@dataclass
class RoundCoverage:
    """Coverage figures of one round; the "changed" ones are None in the first round."""

    round: int
    labels: int
    labeled_share: float
    n_exact_regions: int
    new_regions: int
    changed_region: int | None
    prediction_change: float | None
    accuracy: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RoundCoverage:
        values: dict[str, Any] = {f.name: data.get(f.name) for f in fields(cls)}
        return cls(**values)


def _partition(result: RoundResult) -> tuple[np.ndarray, np.ndarray]:
    """The round's ``partition`` and ``centers``, which a round read back from a project lacks."""
    if result.partition is None or result.centers is None:
        raise ParameterError(
            "result", "a round that still holds its partition and centers", result.index
        )
    return np.asarray(result.partition), np.asarray(result.centers)


def _center_rows(result: RoundResult) -> np.ndarray:
    partition, centers = _partition(result)
    rows: np.ndarray = centers[partition]
    return rows


def round_coverage(result: RoundResult, previous: RoundResult | None = None) -> RoundCoverage:
    """Coverage of ``result``; ``previous`` (the round before) gives the "changed" figures.

    The round's centers are its labeled rows (the first ``labeled_count``) then its queries.
    """
    partition, centers = _partition(result)
    labeled_rows = centers[: result.labeled_count]
    labeled_share = float(np.mean(partition < result.labeled_count))
    covered = set(result.region_ids[labeled_rows].tolist())
    new = sum(int(result.region_ids[q]) not in covered for q in result.queries)
    changed = prediction_change = None
    if previous is not None and _comparable(result, previous):
        changed = int((_center_rows(result) != _center_rows(previous)).sum())
        prediction_change = float((result.proba.argmax(1) != previous.proba.argmax(1)).mean())
    accuracy = (
        result.test_accuracy if result.test_accuracy is not None else result.accuracy_estimate
    )
    return RoundCoverage(
        round=result.index,
        labels=result.labeled_count,
        labeled_share=labeled_share,
        n_exact_regions=int(np.unique(result.region_ids).size),
        new_regions=int(new),
        changed_region=changed,
        prediction_change=prediction_change,
        accuracy=accuracy,
    )


def _comparable(result: RoundResult, previous: RoundResult) -> bool:
    """Both rounds still hold their per-row arrays (a reopened project keeps only the last's)."""
    return (
        previous.partition is not None
        and result.partition is not None
        and np.size(previous.partition) == np.size(result.partition)
        and np.shape(previous.proba) == np.shape(result.proba)
    )


def coverage_history(rounds: list[RoundResult]) -> list[RoundCoverage]:
    """Coverage of every round: as recorded when the round was computed, else computed now."""
    history = []
    for i, r in enumerate(rounds):
        stored = r.info.get("coverage") if isinstance(r.info, dict) else None
        if stored:
            history.append(RoundCoverage.from_dict(stored))
        else:
            history.append(round_coverage(r, rounds[i - 1] if i else None))
    return history


@dataclass
class StoppingHint:
    """Whether labeling more looks worthwhile, in one plain sentence."""

    could_stop: bool
    message: str


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def stopping_hint(history: list[RoundCoverage]) -> StoppingHint:
    """Apply the documented rule to the last three rounds (two changes)."""
    if len(history) < 3:
        return StoppingHint(
            False, "Too early to tell: keep labeling; a hint appears after three rounds."
        )
    first, *last_two = history[-3:]
    changes = [h.prediction_change for h in last_two if h.prediction_change is not None]
    if len(changes) < len(last_two):
        return StoppingHint(
            False, "Not enough to tell: the last rounds cannot be compared; keep labeling."
        )
    moving = [change for change in changes if change > STABLE_PREDICTIONS]
    if moving:
        return StoppingHint(
            False,
            f"Keep labeling: the last labels still changed the prediction for {_pct(max(moving))} "
            "of the rows.",
        )
    coverage_move = last_two[-1].labeled_share - first.labeled_share
    if abs(coverage_move) > FLAT_COVERAGE:
        return StoppingHint(
            False,
            f"Keep labeling: the share of rows close to a labeled row moved by "
            f"{_pct(abs(coverage_move))} over the last two rounds.",
        )
    if first.accuracy is not None and last_two[-1].accuracy is not None:
        gain = last_two[-1].accuracy - first.accuracy
        if gain > FLAT_ACCURACY:
            return StoppingHint(
                False,
                f"Keep labeling: accuracy still rose by {_pct(gain)} over the last two rounds.",
            )
    accuracy_known = first.accuracy is not None and last_two[-1].accuracy is not None
    return StoppingHint(
        True,
        "You could stop: over the last two rounds predictions changed for at most "
        f"{_pct(max(changes))} of the rows"
        + (
            ", coverage stayed flat and accuracy stopped rising."
            if accuracy_known
            else " and coverage stayed flat."
        )
        + " Label more only if you need a higher accuracy.",
    )
