"""The first rows to label when no model can be trained yet: rows that cover the pool.

A user's first step is an unlabeled table and a first batch to label. With no label (or labels of a
single class) there is no classifier to train and interpret, so the batch is chosen on the
preprocessed features alone: k-means++ seeding and Lloyd's iterations
(:func:`~dami_gui.core.geometry.kmeans.central_rows`), then the most central row of each cluster.
The rows are typical of the pool's main groups rather than its outliers, and the groups cover the
pool. Labeled rows, when there are some, are fixed centers: the batch then covers what they leave
uncovered. The same features, batch size and seed give the same rows.

:func:`cold_start_round` is that batch as a round of a :class:`~dami_gui.core.session.Session`
(the command line's ``dami select`` and the app take the same path): the round records its
queries and, per pick, how many pool rows its group holds (``info["group_size"]``), and says it
is a cold start (``info["cold_start"]``); it holds no model, no probabilities and no regions, so
nothing shows model output before there is a model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from dami_gui.core.coverage import RoundCoverage
from dami_gui.core.errors import ParameterError
from dami_gui.core.progress import CancelToken, ProgressCallback, Reporter, as_reporter
from dami_gui.core.records import RoundResult

if TYPE_CHECKING:  # the geometry (torch) is loaded when a batch is computed, not to read labels
    import torch

__all__ = [
    "COLD_START_WHY",
    "ColdStartBatch",
    "can_train",
    "cold_start_batch",
    "cold_start_round",
    "cold_start_why",
]

#: Why a cold-start round picked its rows (the app's "Why this row?").
COLD_START_WHY = (
    "a typical row of an unexplored part of the pool. No model can be trained before rows of "
    "two classes are labeled, so this first batch is the most typical row of each group of "
    "similar rows (k-means on the columns)"
)


def can_train(labels: np.ndarray) -> bool:
    """Whether a classifier can be trained on ``labels`` (class codes, -1 unlabeled): rows of at
    least two classes are labeled. Otherwise a round is a cold start."""
    labels = np.asarray(labels)
    return bool(np.unique(labels[labels >= 0]).size >= 2)


def cold_start_why(info: dict[str, Any], position: int) -> str:
    """Why the ``position``-th pick (0-based) of a cold-start round whose info is ``info`` was
    picked, with the size of the group it stands for when the round recorded it."""
    sizes, n_rows = info.get("group_size"), info.get("pool_rows")
    text = COLD_START_WHY
    if isinstance(sizes, list) and 0 <= position < len(sizes):
        size = sizes[position]
        if isinstance(size, int) and not isinstance(size, bool) and size > 0:
            share = (
                f" ({size / n_rows:.0%} of the pool)" if isinstance(n_rows, int) and n_rows else ""
            )
            text += f"; its group holds {size:,} rows{share}"
    return text[:1].upper() + text[1:] + "."


@dataclass
class ColdStartBatch:
    """The rows to label first, largest group first, and how many pool rows each stands for."""

    rows: np.ndarray  # int64 row numbers
    group_size: np.ndarray  # int64, one per picked row (0 when the rows could not be told apart)


def cold_start_batch(
    X: np.ndarray,
    batch_size: int,
    seed: int = 0,
    labeled: np.ndarray | None = None,
    candidates: np.ndarray | None = None,
    device: torch.device | None = None,
    progress: ProgressCallback | Reporter | None = None,
    cancel: CancelToken | None = None,
) -> ColdStartBatch:
    """``min(batch_size, #candidates)`` rows of ``X`` that cover the pool (see the module).

    ``X``: the preprocessed features (rows x features); ``labeled``: a boolean mask of rows
    already labeled, which stay fixed centers and are never picked; ``candidates``: a boolean
    mask of rows that may be picked (default: every row not labeled).
    """
    X = np.asarray(X)
    if X.ndim != 2:
        raise ParameterError("X", "a 2-D array (rows x features)", f"shape {X.shape}")
    n = X.shape[0]
    if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer):
        raise ParameterError("batch_size", "an integer >= 1", batch_size)
    if batch_size < 1:
        raise ParameterError("batch_size", "an integer >= 1", batch_size)
    from dami_gui.core.geometry.kmeans import central_rows

    fixed = _mask(labeled, n, "labeled", default=False)
    open_rows = _mask(candidates, n, "candidates", default=True) & ~fixed
    result = central_rows(
        np.ascontiguousarray(X, dtype=np.float32),
        np.flatnonzero(fixed),
        int(batch_size),
        candidates=open_rows,
        seed=seed,
        device=device,
        progress=progress,
        cancel=cancel,
    )
    sizes = result.cluster_size
    if sizes.size != result.order.size:
        sizes = np.zeros(result.order.size, dtype=np.int64)
    return ColdStartBatch(result.order.astype(np.int64), sizes.astype(np.int64))


def _mask(mask: np.ndarray | None, n: int, name: str, default: bool) -> np.ndarray:
    if mask is None:
        return np.full(n, default, dtype=bool)
    mask = np.asarray(mask)
    if mask.dtype != bool or mask.shape != (n,):
        raise ParameterError(name, f"a boolean mask of {n} rows", f"{mask.dtype} {mask.shape}")
    return mask


def cold_start_round(
    index: int,
    X: np.ndarray,
    labels: np.ndarray,
    skipped: np.ndarray,
    n_classes: int,
    *,
    strategy: str,
    batch_size: int,
    seed: int,
    info: dict[str, Any] | None = None,
    device: torch.device | None = None,
    progress: ProgressCallback | Reporter | None = None,
    cancel: CancelToken | None = None,
) -> RoundResult:
    """Round ``index`` when no model can be trained (:func:`can_train` is False): the rows of
    :func:`cold_start_batch` as its queries, no model, no probabilities, no regions.

    ``labels`` and ``skipped`` are the session's labels and skips when the round starts (labeled
    rows stay fixed centers; skipped rows are never picked); ``strategy`` is the session's, which
    the next rounds use; ``info`` goes into the round's info (e.g. the network's settings).
    """
    reporter = as_reporter(progress, cancel)
    labeled = np.asarray(labels) >= 0
    batch = cold_start_batch(
        X,
        batch_size,
        seed,
        labeled=labeled,
        candidates=~np.asarray(skipped, dtype=bool) & ~labeled,
        device=device,
        progress=reporter.sub(0.0, 1.0, "Choosing typical rows of the pool"),
        cancel=cancel,
    )
    n = int(np.asarray(X).shape[0])
    scores = np.zeros(n, dtype=np.float64)
    scores[batch.rows] = batch.group_size / max(n, 1)  # the share of the pool it stands for
    coverage = RoundCoverage(
        round=index,
        labels=int(labeled.sum()),
        labeled_share=float("nan"),
        n_exact_regions=0,
        new_regions=0,
        changed_region=None,
        prediction_change=None,
        accuracy=None,
    )
    reporter("Done", 1.0)
    return RoundResult(
        index=index,
        strategy=strategy,
        batch_size=batch_size,
        seed=seed,
        labeled_count=int(labeled.sum()),
        queries=batch.rows,
        scores=scores,
        partition=None,
        centers=None,
        region_ids=np.zeros(0, dtype=np.int64),
        proba=np.zeros((0, n_classes), dtype=np.float32),
        accuracy_estimate=None,
        test_accuracy=None,
        model_state={},
        model_spec={},
        info={
            **(info or {}),
            "cold_start": True,
            "group_size": [int(v) for v in batch.group_size],
            "pool_rows": n,
            "coverage": coverage.to_dict(),
        },
    )
