"""The rows the student learns the teacher from: a sample of the pool, and rows made like it.

A student reproduces its teacher where it has seen the teacher's answer. The pool is where the
rows to predict come from, so a seeded sample of at most ``transfer_rows`` pool rows is the
transfer set. A small pool (a few hundred rows) leaves wide gaps between its rows, where the
student would guess; there the set is filled up to ``augment_to`` rows made like the pool's
(MUNGE, Bucila et al. 2006, "Model compression"): a pool row with each value, with probability
one half, drawn near its nearest neighbour's value (a normal distribution around it whose spread
is the distance between the two values). Such rows stay among the data, between neighbours,
which is where new rows to predict will fall.
"""

from __future__ import annotations

import numpy as np
import torch

#: Rows compared at once in the nearest-neighbour search (bounds its memory).
_BLOCK = 1024


def sample_rows(n_rows: int, size: int, seed: int) -> np.ndarray:
    """Sorted indices of a seeded sample of ``size`` of ``n_rows`` rows (all when fewer)."""
    if n_rows <= size:
        return np.arange(n_rows)
    return np.sort(np.random.default_rng(seed).choice(n_rows, size, replace=False))


def nearest_neighbours(X: np.ndarray) -> np.ndarray:
    """Each row's nearest other row (Euclidean; the first of equals), by blocks of rows."""
    points = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
    n = points.shape[0]
    out = np.empty(n, dtype=np.int64)
    for start in range(0, n, _BLOCK):
        block = torch.cdist(points[start : start + _BLOCK], points)
        rows = torch.arange(block.shape[0])
        block[rows, rows + start] = torch.inf  # not itself
        out[start : start + _BLOCK] = block.argmin(1).numpy()
    return out


def made_like(X: np.ndarray, n_rows: int, seed: int, swap: float = 0.5) -> np.ndarray:
    """``n_rows`` rows made like the rows of ``X`` (MUNGE; see the module), float32."""
    X = np.asarray(X, dtype=np.float32)
    if n_rows <= 0 or X.shape[0] < 2:
        return np.empty((0, X.shape[1]), dtype=np.float32)
    rng = np.random.default_rng(seed)
    neighbour = nearest_neighbours(X)
    base = rng.integers(0, X.shape[0], n_rows)
    own, near = X[base], X[neighbour[base]]
    spread = np.abs(own - near)
    drawn = near + spread * rng.standard_normal(own.shape).astype(np.float32)
    take = rng.random(own.shape) < swap
    return np.where(take, drawn, own).astype(np.float32)
