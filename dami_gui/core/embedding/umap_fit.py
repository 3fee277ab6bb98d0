"""UMAP maps: the full fit on pools of up to :data:`LANDMARKS` rows, landmarks above.

umap-learn has two costs. Its numba functions are compiled the first time they run in a process
(about 20 s for the small-data path, about 45 s more for the nearest-neighbour descent that every
pool of 4,096 rows or more goes through), which :func:`warm_up_umap` pays in advance. Then the
fit itself: a nearest-neighbour search and a spectral initialisation, which cannot be
interrupted, and an optimisation loop over epochs, which can. :func:`umap_layout` reports
progress and checks the cancel token once per epoch through the tqdm bar that umap drives in that
loop; on a big pool it fits the landmarks and places the other rows
(:mod:`dami_gui.core.embedding.landmarks`), with progress by stage.
"""

from __future__ import annotations

import threading
import warnings
from typing import Any

import numpy as np

from dami_gui.core.embedding.base import TqdmHook, as_matrix, keeps_torch_threads, normalise
from dami_gui.core.embedding.landmarks import LANDMARKS, landmark_layout
from dami_gui.core.embedding.pca import pca_layout
from dami_gui.core.progress import CancelToken, ProgressCallback
from dami_gui.core.validation import check_int

#: Rows of the warm-up: enough for umap's nearest-neighbour descent (4,096 and more), and a few
#: more to place, so that a real map compiles nothing.
WARM_UP_ROWS = 4096 + 256

_warm_lock = threading.Lock()
_warm = False


@keeps_torch_threads
def umap_layout(
    X: Any,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    n_neighbors: int = 15,
    n_epochs: int | None = None,
    landmarks: int | None = None,
) -> np.ndarray:
    """UMAP embedding of ``X`` in 2-D; (N, 2) float32, same seed → same map.

    Pools of more than ``landmarks`` rows (None: :data:`LANDMARKS`) are fitted on that many
    landmark rows and the rest placed by their nearest landmarks
    (:func:`~dami_gui.core.embedding.landmarks.landmark_layout`); smaller pools get the full fit.
    ``progress(stage, fraction)`` is called before the neighbour search and once per epoch of the
    optimisation (and per block of placed rows); ``cancel.check()`` is honoured before the fit
    and at every epoch (and block), raising :class:`~dami_gui.core.errors.Cancelled`. The
    neighbour search and the spectral initialisation in between cannot be interrupted. Fewer than
    four rows fall back to :func:`pca_layout`.
    """
    X = as_matrix(X)
    n = len(X)
    n_neighbors = check_int("n_neighbors", n_neighbors, minimum=1)
    if n_epochs is not None:
        n_epochs = check_int("n_epochs", n_epochs, minimum=0)
    if cancel is not None:
        cancel.check()
    if n < 4:
        return pca_layout(X)
    limit = LANDMARKS if landmarks is None else landmarks
    if n > limit:
        return landmark_layout(X, seed, progress, cancel, n_neighbors, n_epochs, limit)
    if progress is not None:
        progress("Finding neighbours for the map (UMAP)", 0.0)

    import umap  # heavy import (numba, pynndescent): only when a UMAP map is asked for

    hook = TqdmHook(progress, cancel, start=0.3)
    reducer = umap.UMAP(
        n_components=2,
        n_neighbors=max(2, min(n_neighbors, n - 1)),
        random_state=seed,
        n_epochs=n_epochs,
        init="spectral" if n > 20 else "random",
        tqdm_kwds=hook.tqdm_kwds(),
    )
    with warnings.catch_warnings():
        # umap warns that a random_state disables its parallelism; that is the point here.
        warnings.simplefilter("ignore")
        Y = reducer.fit_transform(X.astype(np.float32))
    if cancel is not None:
        cancel.check()
    if progress is not None:
        progress("Arranging the map (UMAP)", 1.0)
    return normalise(Y)


def umap_is_warm() -> bool:
    """Whether umap's code is compiled in this process already (:func:`warm_up_umap` done)."""
    return _warm


def warm_up_umap() -> None:
    """Compile umap's numba functions in advance, so the first real map does not pay for it.

    Two tiny maps: 64 rows (umap's small-data path, for pools under 4,096 rows) and
    :data:`WARM_UP_ROWS` rows through the landmark path with 4,096 landmarks, which compiles the
    nearest-neighbour descent, its search (the placement's queries), the fuzzy set, the spectral
    initialisation and the epochs of every bigger map. Safe to call from several threads: the
    work is done once per process.
    """
    global _warm
    with _warm_lock:
        if _warm:
            return
        rng = np.random.default_rng(0)
        umap_layout(rng.normal(size=(64, 4)), seed=0, n_epochs=5)
        umap_layout(rng.normal(size=(WARM_UP_ROWS, 4)), seed=0, n_epochs=5, landmarks=4096)
        _warm = True
