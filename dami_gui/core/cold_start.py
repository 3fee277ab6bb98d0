"""The first rows to label when no model can be trained yet: rows that cover the pool.

A user's first step is an unlabeled table and a first batch to label. With no label (or labels of a
single class) there is no classifier to train and interpret, so the batch is chosen on the
preprocessed features alone: k-means++ seeding and Lloyd's iterations
(:func:`~dami_gui.core.geometry.kmeans.central_rows`), then the most central row of each cluster.
The rows are typical of the pool's main groups rather than its outliers, and the groups cover the
pool. Labeled rows, when there are some, are fixed centers: the batch then covers what they leave
uncovered. The same features, batch size and seed give the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from dami_gui.core.errors import ParameterError
from dami_gui.core.geometry.kmeans import central_rows
from dami_gui.core.progress import CancelToken, ProgressCallback, Reporter

__all__ = ["ColdStartBatch", "cold_start_batch"]


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
