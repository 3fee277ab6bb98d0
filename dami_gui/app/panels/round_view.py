"""Read-only views of the last round for display, derived once per round and shared by the views.

The session holds the state; this module only turns a :class:`RoundResult` into what the screen
shows: the predicted class and confidence of each row, the number of a query in selection order,
and the exact activation regions ranked by size (region 1 is the largest). It never copies the
labels, which the views read from the session each time.

:func:`round_view` gives the cheap part (:class:`RoundView`); :class:`RoundCache` the costly part
that only the explanation panels need: the rebuilt network and every row's region id. When a
round has no region ids (an older round of a reopened project) they are computed in a task and
``RoundCache.ready`` says when they arrive.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, Signal

from dami_gui.app.tasks import TaskSlot
from dami_gui.core.interpret import interpret
from dami_gui.core.model import MLP
from dami_gui.core.progress import CancelToken, ProgressCallback
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


class RoundCache(QObject):
    """The last round's network and region ids, rebuilt once per round; ``ready`` when late ids
    (computed in a task) arrive."""

    ready = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.result: RoundResult | None = None
        self._model: MLP | None = None
        self._region_ids: np.ndarray | None = None
        self._slot = TaskSlot(self)  # the region ids of the current round, when computed late

    def _sync(self, session: Session | None) -> RoundResult | None:
        result = session.last_round if session is not None else None
        if result is self.result:
            return result
        self._slot.cancel()  # the ids of an earlier round are not wanted any more
        self.result, self._model, self._region_ids = result, None, None
        if result is None or session is None:
            return result
        ids = np.asarray(result.region_ids)
        if ids.shape == (session.n_rows,):
            self._region_ids = ids
        elif result.has_model:
            X, spec, state = session.dataset.X, result.model_spec, result.model_state

            def task(progress: ProgressCallback, cancel: CancelToken) -> np.ndarray:
                model = MLP.from_spec(spec, state)
                found = interpret(model, X, with_A=False, progress=progress, cancel=cancel)
                return found.region_ids

            self._slot.start(task, "finding the linear regions", on_finished=self._ids_ready)
        return result

    def _ids_ready(self, ids: np.ndarray) -> None:
        self._region_ids = ids
        self.ready.emit()

    def model(self, session: Session | None) -> MLP | None:
        """The last round's network; None before round 1 and after a cold start (no model)."""
        result = self._sync(session)
        if result is None or not result.has_model:
            return None
        if self._model is None:
            self._model = result.model()
        return self._model

    def region_ids(self, session: Session | None) -> np.ndarray | None:
        """Every row's exact region under the last round's network, or None while computing (or
        when the round has no network)."""
        self._sync(session)
        return self._region_ids
