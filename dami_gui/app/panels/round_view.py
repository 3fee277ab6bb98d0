"""Read-only views of the last round for display, derived once per round and shared by the views.

The session holds the state; this module only turns a :class:`RoundResult` into what the screen
shows: the predicted class and confidence of each row, the number of a query in selection order,
and the exact activation regions ranked by size (region 1 is the largest). It never copies the
labels, which the views read from the session each time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dami_gui.core.records import RoundResult
from dami_gui.core.session import Session

#: How many of the largest exact regions get a colour on the map; the rest are grey.
TOP_REGIONS = 12


@dataclass
class RoundView:
    """What the views need from one round, computed once."""

    result: RoundResult
    prediction: np.ndarray  # (N,) int64 argmax class
    confidence: np.ndarray  # (N,) float32 probability of the predicted class
    region_rank: np.ndarray  # (N,) int64, 0 = largest exact region, -1 where not known
    n_regions: int
    query_number: dict[int, int]  # row -> 1-based position in selection order

    @classmethod
    def of(cls, result: RoundResult) -> RoundView:
        proba = np.asarray(result.proba)
        n_rows = len(np.asarray(result.scores))
        if proba.ndim == 2 and proba.shape[1] > 0 and len(proba) == n_rows:
            prediction = proba.argmax(axis=1).astype(np.int64)
            confidence = proba.max(axis=1).astype(np.float32)
        else:
            prediction = np.full(n_rows, -1, dtype=np.int64)
            confidence = np.full(n_rows, np.nan, dtype=np.float32)
        region_ids = np.asarray(result.region_ids)
        if region_ids.shape != (n_rows,):  # not kept (a round reopened after the CSV changed)
            return cls(
                result=result,
                prediction=prediction,
                confidence=confidence,
                region_rank=np.full(n_rows, -1, dtype=np.int64),
                n_regions=0,
                query_number={int(r): i + 1 for i, r in enumerate(np.asarray(result.queries))},
            )
        _, inverse, counts = np.unique(region_ids, return_inverse=True, return_counts=True)
        # rank regions by size, ties broken by first appearance order of np.unique (deterministic)
        order = np.argsort(-counts, kind="stable")
        rank_of = np.empty_like(order)
        rank_of[order] = np.arange(order.size)
        query_number = {int(row): i + 1 for i, row in enumerate(np.asarray(result.queries))}
        return cls(
            result=result,
            prediction=prediction,
            confidence=confidence,
            region_rank=rank_of[inverse].astype(np.int64),
            n_regions=int(counts.size),
            query_number=query_number,
        )

    def group(self, row: int) -> int | None:
        """1-based DAMI group (nearest center) of ``row``, or None without a partition."""
        if self.result.partition is None:
            return None
        return int(self.result.partition[row]) + 1


_CACHE: dict[int, RoundView] = {}


def round_view(session: Session) -> RoundView | None:
    """The :class:`RoundView` of the session's last round (cached), or None before round 1."""
    result = session.last_round
    if result is None:
        return None
    key = id(result)
    view = _CACHE.get(key)
    if view is None or view.result is not result:
        if len(_CACHE) > 8:
            _CACHE.clear()
        view = RoundView.of(result)
        _CACHE[key] = view
    return view
