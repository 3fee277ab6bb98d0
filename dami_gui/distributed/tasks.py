"""The work done on one partition of the pool: each function is one Dask task.

A partition is first turned into a :class:`Part` (its features and label codes, kept in the
worker's memory for the whole selection); every later pass forms the representation chunk by
chunk from the features (:mod:`~dami_gui.distributed.kernels`) and returns something small:
a few numbers, the rows it sampled, per-center sums. A :class:`State` holds what a pass leaves
per row for the next one (squared norms and distances, float32: 8 bytes a row).

Randomness comes from ``numpy.random.default_rng((seed, step, partition))``, so the result is
the same for the same seed and the same partitioning.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dami_gui.core.data.dataset import class_codes
from dami_gui.core.data.preprocessing import Preprocessing
from dami_gui.distributed.kernels import Net, chunks, dimension, nearest, represent


@dataclass
class Part:
    """One partition ready for learning: features (n, d) float32, label codes (-1: none), the
    global row number of its first row and its index among the partitions."""

    X: np.ndarray
    y: np.ndarray
    offset: int
    index: int

    @property
    def open(self) -> np.ndarray:
        """Rows that may be picked: those without a label."""
        return self.y < 0


@dataclass
class State:
    """Per row: |v|^2, the squared distance to the nearest fixed center (inf: none) and to the
    nearest center so far (fixed or sampled)."""

    sq: np.ndarray
    fixed: np.ndarray
    current: np.ndarray


def prepare(
    frame: pd.DataFrame,
    preprocessing: Preprocessing,
    label_column: str | None,
    classes: list[str],
    offset: int,
    index: int,
) -> Part:
    """The partition's features (the preprocessing replayed) and label codes."""
    frame = frame.reset_index(drop=True)
    X = preprocessing.transform(frame)
    y, _ = class_codes(frame, label_column, classes)
    return Part(X, y.astype(np.int32), offset, index)


def labeled(part: Part) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The labeled rows: global row numbers, features and codes."""
    rows = np.flatnonzero(part.y >= 0)
    return rows + part.offset, part.X[rows], part.y[rows].astype(np.int64)


def fixed_pass(part: Part, net: Net | None, fixed: np.ndarray) -> State:
    """|v|^2 and the squared distance to the nearest fixed center (the labeled rows, ``fixed``
    their representations) of every row; the labeled rows themselves are at 0."""
    n = part.X.shape[0]
    sq = np.empty(n, np.float32)
    to_fixed = np.empty(n, np.float32)
    for start, stop, V in chunks(net, part.X):
        v_sq = np.einsum("ij,ij->i", V, V)
        sq[start:stop] = v_sq
        to_fixed[start:stop] = nearest(V, v_sq, fixed)[0]
    to_fixed[part.y >= 0] = 0.0
    return State(sq, to_fixed, to_fixed.copy())


def open_mass(part: Part, state: State) -> tuple[float, int]:
    """Sum of the current squared distances over the open rows (inf counted as 0), and how many
    open rows have a distance left."""
    d = state.current[part.open]
    finite = np.isfinite(d)
    return float(d[finite].astype(np.float64).sum()), int((d > 0).sum())


def oversample(
    part: Part, state: State, net: Net | None, mass: float, ell: float, seed: int, step: int
) -> tuple[np.ndarray, np.ndarray]:
    """One round of k-means|| sampling: each open row with probability ``ell d^2 / mass``
    (capped at 1; every open row equally when nothing is fixed yet); the global rows drawn and
    their representations."""
    rng = np.random.default_rng((seed, step, part.index))
    u = rng.random(part.X.shape[0])
    d = state.current.astype(np.float64)
    if mass > 0 and np.isfinite(mass):
        p = np.where(np.isfinite(d), ell * d / mass, 0.0)
    else:  # nothing to measure against yet: uniform
        p = np.full(d.shape, ell / max(int(part.open.sum()), 1))
    rows = np.flatnonzero((u < np.minimum(p, 1.0)) & part.open & (d > 0))
    return rows + part.offset, represent(net, part.X[rows])


def update(part: Part, state: State, net: Net | None, new: np.ndarray) -> State:
    """The state with ``new`` centers added to the current ones."""
    current = state.current.copy()
    for start, stop, V in chunks(net, part.X):
        d = nearest(V, state.sq[start:stop], new)[0]
        np.minimum(current[start:stop], d, out=current[start:stop])
    return State(state.sq, state.fixed, current)


def weigh(part: Part, state: State, net: Net | None, C: np.ndarray) -> np.ndarray:
    """For each row of ``C`` (k-means|| candidates), the rows nearer to it than to any other
    candidate or fixed center: the weights of the local k-means++ (k,)."""
    counts = np.zeros(C.shape[0], np.int64)
    for start, stop, V in chunks(net, part.X):
        d, arg = nearest(V, state.sq[start:stop], C)
        joined = (d < state.fixed[start:stop]) & (arg >= 0)
        counts += np.bincount(arg[joined], minlength=C.shape[0])
    return counts


def lloyd_sums(
    part: Part, state: State, net: Net | None, C: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """One Lloyd step's share: per movable center, the sum (float64) and number of the rows
    nearer to it than to every other center, fixed or movable."""
    sums = np.zeros((C.shape[0], dimension(net, part.X.shape[1])), np.float64)
    counts = np.zeros(C.shape[0], np.int64)
    for start, stop, V in chunks(net, part.X):
        d, arg = nearest(V, state.sq[start:stop], C)
        joined = d < state.fixed[start:stop]
        np.add.at(sums, arg[joined], V[joined].astype(np.float64))
        counts += np.bincount(arg[joined], minlength=C.shape[0])
    return sums, counts


def central(
    part: Part, state: State, net: Net | None, C: np.ndarray, keep: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per movable center: how many rows join it, and its ``keep`` nearest open rows (squared
    distance, global row; fewer when the partition has fewer open rows), nearest first."""
    k = C.shape[0]
    sizes = np.zeros(k, np.int64)
    c_sq = np.einsum("ij,ij->i", C, C)
    found_d, found_r = [], []
    for start, _stop, V in chunks(net, part.X):
        v_sq = state.sq[start : start + V.shape[0]]
        d = np.maximum((v_sq[:, None] + c_sq[None, :]) - 2.0 * (V @ C.T), 0.0)
        arg = d.argmin(1)
        joined = d[np.arange(d.shape[0]), arg] < state.fixed[start : start + V.shape[0]]
        sizes += np.bincount(arg[joined], minlength=k)
        rows = np.flatnonzero(part.open[start : start + V.shape[0]])
        if rows.size == 0:
            continue
        d = d[rows]
        t = min(keep, rows.size)
        near = (
            np.argpartition(d, t - 1, axis=0)[:t]
            if t < rows.size
            else np.tile(np.arange(rows.size)[:, None], (1, k))
        )
        found_d.append(np.take_along_axis(d, near, axis=0).T)  # (k, t)
        found_r.append(rows[near].T + start + part.offset)
    if not found_d:
        return sizes, np.empty((k, 0), np.float32), np.empty((k, 0), np.int64)
    return (sizes, *nearest_first(np.hstack(found_d), np.hstack(found_r), keep))


def nearest_first(d: np.ndarray, r: np.ndarray, keep: int) -> tuple[np.ndarray, np.ndarray]:
    """Per center (row of ``d``), its ``keep`` nearest rows: by distance, then by row number
    (so that ties go the same way on every partitioning)."""
    order = np.stack([np.lexsort((r[i], d[i]))[:keep] for i in range(d.shape[0])])
    return np.take_along_axis(d, order, axis=1), np.take_along_axis(r, order, axis=1)


def take(part: Part, state: State | None, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Features and distance to the nearest fixed center of the given global rows of this
    partition."""
    local = np.asarray(rows, np.int64) - part.offset
    fixed = state.fixed[local] if state is not None else np.full(local.size, np.nan, np.float32)
    return part.X[local], fixed


def random_keys(part: Part, seed: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``random``: a seeded key per open row; the ``k`` smallest keys and their global rows."""
    rng = np.random.default_rng((seed, 0, part.index))
    keys = np.asarray(rng.random((part.X.shape[0],)))
    rows = np.flatnonzero(part.open)
    best = rows[np.argsort(keys[rows], kind="stable")[:k]]
    return keys[best], best + part.offset
