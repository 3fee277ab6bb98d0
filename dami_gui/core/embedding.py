"""2-D maps of the pool for display: PCA at once, UMAP when it is ready.

Both functions take the standardised feature matrix ``X`` (N × d) and return an ``(N, 2)`` float32
array scaled to roughly unit spread, so that a view can switch from one to the other without the
points flying across the screen.

UMAP (umap-learn) has two costs. Its numba functions are compiled the first time they run in a
process (about 20 s), which :func:`warm_up_umap` pays in advance on a tiny input. Then the fit
itself: a nearest-neighbour search and a spectral initialisation, which cannot be interrupted, and
an optimisation loop over epochs, which can. :func:`umap_layout` reports progress and checks the
cancel token once per epoch through the tqdm bar that umap drives in that loop.
"""

from __future__ import annotations

import re
import threading
import warnings
from typing import Any

import numpy as np

from dami_gui.core.errors import Cancelled, DataError
from dami_gui.core.progress import CancelToken, ProgressCallback
from dami_gui.core.validation import check_int

__all__ = ["pca_layout", "umap_layout", "warm_up_umap"]

_warm_lock = threading.Lock()
_warm = False


def _as_matrix(X: Any) -> np.ndarray:
    matrix = np.asarray(X, dtype=np.float64)
    if matrix.ndim != 2:
        raise DataError(
            f"The map needs a table of numbers (rows × columns); got {matrix.ndim} axes."
        )
    if not np.all(np.isfinite(matrix)):
        matrix = np.where(np.isfinite(matrix), matrix, 0.0)
    return matrix


def _normalise(Y: np.ndarray) -> np.ndarray:
    """Centre the layout and scale it so that its larger axis has unit standard deviation."""
    Y = np.asarray(Y, dtype=np.float64)
    if len(Y) == 0:
        return Y.astype(np.float32).reshape(0, 2)
    Y = Y - Y.mean(axis=0)
    scale = float(Y.std(axis=0).max())
    if scale > 0:
        Y = Y / scale
    return Y.astype(np.float32)


def pca_layout(X: Any) -> np.ndarray:
    """Project ``X`` on its first two principal components; (N, 2) float32, deterministic.

    Fast (one d × d eigendecomposition), so it is the map shown the moment a data set opens. The
    sign of each axis is fixed (largest loading positive) so the same data always give the same
    picture. With fewer than two features, or all rows equal, the missing axes are zero.
    """
    X = _as_matrix(X)
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
    return _normalise(out)


class _TqdmHook:
    """A file-like object for umap's tqdm bar: turns each refresh into progress and a cancel check.

    tqdm writes strings like ``"\\r12/200"`` (we set ``bar_format``); we parse the counts. A
    :class:`Cancelled` raised from ``write`` propagates out of tqdm's iteration and so out of
    umap's epoch loop. It is raised once; later writes (tqdm's ``close``) are ignored.
    """

    _COUNTS = re.compile(r"(\d+)/(\d+)")

    def __init__(
        self, progress: ProgressCallback | None, cancel: CancelToken | None, start: float
    ) -> None:
        self.progress = progress
        self.cancel = cancel
        self.start = start
        self.raised = False
        self.epochs_seen = 0

    def write(self, text: str) -> int:
        if self.raised:
            return len(text)
        if self.cancel is not None and self.cancel.cancelled:
            self.raised = True
            raise Cancelled()
        found = self._COUNTS.findall(text)
        if found and self.progress is not None:
            n, total = (int(v) for v in found[-1])
            self.epochs_seen = n
            if total > 0:
                fraction = self.start + (1.0 - self.start) * n / total
                self.progress("Arranging the map (UMAP)", min(fraction, 1.0))
        return len(text)

    def flush(self) -> None:
        """Nothing is buffered."""


def umap_layout(
    X: Any,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    n_neighbors: int = 15,
    n_epochs: int | None = None,
) -> np.ndarray:
    """UMAP embedding of ``X`` in 2-D; (N, 2) float32, same seed → same map.

    ``progress(stage, fraction)`` is called before the neighbour search and once per epoch of the
    optimisation; ``cancel.check()`` is honoured before the fit and at every epoch (raising
    :class:`~dami_gui.core.errors.Cancelled`). The neighbour search and the spectral initialisation
    in between cannot be interrupted. Fewer than four rows fall back to :func:`pca_layout`.
    """
    X = _as_matrix(X)
    n = len(X)
    n_neighbors = check_int("n_neighbors", n_neighbors, minimum=1)
    if n_epochs is not None:
        n_epochs = check_int("n_epochs", n_epochs, minimum=0)
    if cancel is not None:
        cancel.check()
    if n < 4:
        return pca_layout(X)
    if progress is not None:
        progress("Finding neighbours for the map (UMAP)", 0.0)

    import umap  # heavy import (numba, pynndescent): only when a UMAP map is asked for

    hook = _TqdmHook(progress, cancel, start=0.3)
    reducer = umap.UMAP(
        n_components=2,
        n_neighbors=max(2, min(n_neighbors, n - 1)),
        random_state=seed,
        n_epochs=n_epochs,
        init="spectral" if n > 20 else "random",
        tqdm_kwds={
            "disable": False,
            "file": hook,
            "mininterval": 0,
            "miniters": 1,
            "bar_format": "{n}/{total}",
        },
    )
    with warnings.catch_warnings():
        # umap warns that a random_state disables its parallelism; that is the point here.
        warnings.simplefilter("ignore")
        Y = reducer.fit_transform(X.astype(np.float32))
    if cancel is not None:
        cancel.check()
    if progress is not None:
        progress("Arranging the map (UMAP)", 1.0)
    return _normalise(Y)


def warm_up_umap() -> None:
    """Compile umap's numba functions on a tiny input, so the first real map does not pay for it.

    Safe to call from several threads: the work is done once per process.
    """
    global _warm
    with _warm_lock:
        if _warm:
            return
        rng = np.random.default_rng(0)
        umap_layout(rng.normal(size=(64, 4)), seed=0, n_epochs=5)
        _warm = True
