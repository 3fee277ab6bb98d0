"""The map shown the moment a data set opens: the first two principal components."""

from __future__ import annotations

from typing import Any

import numpy as np

from dami_gui.core.embedding.base import as_matrix, normalise


def pca_layout(X: Any) -> np.ndarray:
    """Project ``X`` on its first two principal components; (N, 2) float32, deterministic.

    Fast (one d × d eigendecomposition), so it is the map shown the moment a data set opens. The
    sign of each axis is fixed (largest loading positive) so the same data always give the same
    picture. With fewer than two features, or all rows equal, the missing axes are zero.
    """
    X = as_matrix(X)
    n, d = X.shape
    out = np.zeros((n, 2), dtype=np.float64)
    if n == 0 or d == 0:
        return out.astype(np.float32)
    Xc = X - X.mean(axis=0)
    cov = (Xc.T @ Xc) / max(n - 1, 1)
    values, vectors = np.linalg.eigh(cov)
    order = np.argsort(values)[::-1][:2]
    for j, k in enumerate(order):
        v = vectors[:, k]
        if v[np.argmax(np.abs(v))] < 0:
            v = -v
        out[:, j] = Xc @ v
    return normalise(out)
