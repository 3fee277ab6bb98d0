"""UMAP for big pools: fitted on a seeded sample of landmark rows, every other row placed into
that layout by its nearest landmarks.

A full UMAP fit grows faster than the pool (measured for issue 14 on 20-d data, 2 cores: 44 s
for 50k rows, 220 s for 200k, of which 67 s of spectral initialisation with no progress). Here
the fit runs on at most :data:`LANDMARKS` rows drawn at random with the seed, and each other row
is placed as umap's ``transform`` starts: at the membership-weighted mean of the positions of
its ``n_neighbors`` nearest landmarks, the weights ``exp(-(d - rho) / sigma)`` of umap's fuzzy
simplicial set (``sigma`` and ``rho`` from ``smooth_knn_dist`` with the local connectivity that
``transform`` uses), a row on a landmark going to that landmark's place. ``transform`` then runs
30 more epochs over the placed rows; we do not (they cost 3.3 times the rest at 1M rows for a
trustworthiness gain of 0.003, issue 14; our own figures are in docs/big-pools.md). The nearest
landmarks come from the NN-descent index built for the fit, queried in blocks (below 4,096
landmarks, umap's small-data limit, from exact distances, as umap does).

Stages, each a slice of the progress bar proportional to its expected share of the time
(:func:`stage_slices`, from timings on the development machine): the landmarks' neighbours,
umap's initialisation, its epochs (one report each) and the placement (one report per block of
:data:`PLACE_BLOCK` rows). The cancel token is checked between stages, at every epoch and at
every block; the neighbour search and the spectral initialisation cannot be interrupted.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from dami_gui.core.embedding.base import TqdmHook, keeps_torch_threads, normalise
from dami_gui.core.progress import CancelToken, ProgressCallback

#: Landmark rows the UMAP fit runs on; a pool of at most this many rows gets the full fit.
LANDMARKS = 50_000

#: umap's small-data limit: fewer landmarks are fitted and searched with exact distances.
SMALL_DATA = 4096

#: Rows placed per query of the landmarks' index (one progress report and cancel check each).
PLACE_BLOCK = 16_384

#: Seconds per landmark (neighbours, initialisation, 200 epochs) and per placed row: a 1M-row,
#: 20-d pool on one thread of the development machine took 8.7 s, 2.4 s, 29.2 s and 27.5 s
#: (benchmarks/big_map.py); only their ratios matter.
SECONDS_PER_LANDMARK = {"neighbours": 1.7e-4, "initialisation": 0.5e-4, "epochs": 5.8e-4}
SECONDS_PER_PLACED_ROW = 2.9e-5

STAGES = {
    "neighbours": "Finding neighbours for the map (UMAP)",
    "initialisation": "Laying out the map (UMAP)",
    "epochs": "Arranging the map (UMAP)",
    "placement": "Placing every row on the map",
}


def choose_landmarks(n: int, count: int, seed: int) -> np.ndarray:
    """``count`` distinct rows of ``n`` drawn uniformly with the seed, sorted."""
    return np.sort(np.random.default_rng(seed).choice(n, size=min(count, n), replace=False))


def stage_slices(
    landmarks: int, placed: int, n_epochs: int | None
) -> dict[str, tuple[float, float]]:
    """Where each stage starts and stops on a 0..1 bar: its share of the expected time."""
    epochs = 200 if n_epochs is None else n_epochs
    cost = {
        "neighbours": SECONDS_PER_LANDMARK["neighbours"] * landmarks,
        "initialisation": SECONDS_PER_LANDMARK["initialisation"] * landmarks,
        "epochs": SECONDS_PER_LANDMARK["epochs"] * landmarks * epochs / 200,
        "placement": SECONDS_PER_PLACED_ROW * placed,
    }
    total = sum(cost.values()) or 1.0
    slices, start = {}, 0.0
    for name, seconds in cost.items():
        slices[name] = (start, start + seconds / total)
        start += seconds / total
    return slices


def exact_neighbours(
    block: np.ndarray, landmarks: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest rows of ``landmarks`` to each row of ``block`` and their Euclidean
    distances, nearest first, by brute force (umap's own way below 4,096 rows)."""
    landmarks = landmarks.astype(np.float32)
    d2 = (block * block).sum(1)[:, None] + (landmarks * landmarks).sum(1)[None, :]
    d2 -= 2.0 * (block @ landmarks.T)
    idx = np.argpartition(d2, k - 1, axis=1)[:, :k] if k < landmarks.shape[0] else None
    if idx is None:
        idx = np.broadcast_to(np.arange(landmarks.shape[0]), d2.shape).copy()
    near = np.take_along_axis(d2, idx, 1)
    order = np.argsort(near, axis=1, kind="stable")
    idx = np.take_along_axis(idx, order, 1)
    dist = np.sqrt(np.maximum(np.take_along_axis(near, order, 1), 0.0))
    return idx.astype(np.int32), dist


@keeps_torch_threads
def place(
    X: np.ndarray,
    rows: np.ndarray,
    landmark_layout: np.ndarray,
    index: Any,
    n_neighbors: int,
    report: Callable[[int], object] | None = None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """Positions (float32, len(rows) × 2) of the ``rows`` of ``X`` in a layout of the landmarks
    indexed by ``index``: pynndescent's NN-descent over the landmarks, or the landmark rows
    themselves (an array: exact neighbours, for fewer than :data:`SMALL_DATA` landmarks).
    ``report(done)`` is called after every block of :data:`PLACE_BLOCK` rows; the token is
    checked before each."""
    from umap.umap_ import smooth_knn_dist

    out = np.empty((len(rows), 2), dtype=np.float32)
    positions = np.asarray(landmark_layout, dtype=np.float32)
    for start in range(0, len(rows), PLACE_BLOCK):
        if cancel is not None:
            cancel.check()
        block = X[rows[start : start + PLACE_BLOCK]].astype(np.float32)
        if isinstance(index, np.ndarray):
            idx, dist = exact_neighbours(block, index, n_neighbors)
        else:
            idx, dist = index.query(block, k=n_neighbors, epsilon=0.12)
        dist = dist.astype(np.float32, order="C")
        sigmas, rhos = smooth_knn_dist(dist, float(n_neighbors), local_connectivity=0.0)
        excess = dist - rhos[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            weight = np.exp(-excess / sigmas[:, None])
        weight[(excess <= 0.0) | (sigmas[:, None] == 0.0)] = 1.0
        weight[idx < 0] = 0.0
        mean = np.einsum("nk,nkc->nc", weight, positions[np.maximum(idx, 0)])
        mean /= weight.sum(1, keepdims=True)
        on_landmark = weight == 1.0  # umap's transform puts such a row on that landmark
        first = on_landmark.argmax(1)
        hit = on_landmark.any(1)
        mean[hit] = positions[idx[hit, first[hit]]]
        out[start : start + len(block)] = mean
        if report is not None:
            report(start + len(block))
    return out


@keeps_torch_threads
def landmark_layout(
    X: np.ndarray,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    n_neighbors: int = 15,
    n_epochs: int | None = None,
    landmarks: int = LANDMARKS,
) -> np.ndarray:
    """UMAP of ``X`` (float64, finite, N × d) fitted on ``landmarks`` rows, the others placed by
    their nearest landmarks; (N, 2) float32 scaled like every map, same seed → same map."""
    import umap
    from umap.umap_ import nearest_neighbors

    n = len(X)
    rows = choose_landmarks(n, landmarks, seed)
    others = np.setdiff1d(np.arange(n), rows, assume_unique=True)
    slices = stage_slices(rows.size, others.size, n_epochs)
    k = max(2, min(n_neighbors, rows.size - 1))

    def at(stage: str, fraction: float = 0.0) -> None:
        if progress is not None:
            start, stop = slices[stage]
            progress(STAGES[stage], start + (stop - start) * fraction)

    XL = X[rows].astype(np.float32)
    at("neighbours")
    if rows.size >= SMALL_DATA:
        knn_indices, knn_dists, index = nearest_neighbors(
            XL, k, "euclidean", {}, False, np.random.RandomState(seed), n_jobs=1
        )
        known = {"precomputed_knn": (knn_indices, knn_dists, index)}
    else:  # umap takes exact distances itself; the placement too
        index, known = XL, {}
    if cancel is not None:
        cancel.check()
    at("initialisation")
    start, stop = slices["epochs"]
    hook = TqdmHook(progress, cancel, start, stop, stage=STAGES["epochs"])
    reducer = umap.UMAP(
        n_components=2,
        n_neighbors=k,
        random_state=seed,
        n_epochs=n_epochs,
        init="spectral" if rows.size > 20 else "random",
        tqdm_kwds=hook.tqdm_kwds(),
        **known,
    )
    with warnings.catch_warnings():
        # umap warns that a random_state disables its parallelism; that is the point here.
        warnings.simplefilter("ignore")
        YL = reducer.fit_transform(XL)
    if cancel is not None:
        cancel.check()
    at("placement")
    Y = np.empty((n, 2), dtype=np.float32)
    Y[rows] = YL
    Y[others] = place(
        X, others, YL, index, k, lambda done: at("placement", done / max(others.size, 1)), cancel
    )
    at("placement", 1.0)
    return normalise(Y)
