"""Families of groups: a few colours a person can read instead of one colour per group.

The map colours the pool by the network's linear regions: the DAMI groups of a round (each row's
nearest center in explanation space) or the exact regions. With dozens of groups one colour each
reads as confetti. :func:`group_families` puts the groups into at most ``cap`` *families* and
gives each group a *shade* inside its family, so the map shows a dozen hues, every row keeps its
exact group (the app's hover names it), and the colour says "family + shade":

* a group's family is first the class the model predicts for most of its rows, so that when
  there are at most ``cap`` classes, family = predicted class and the app can use the class's
  own hue;
* with more classes than ``cap``, the closest classes (by the size-weighted mean of their groups'
  vectors) are merged until ``cap`` families remain;
* inside a family, groups are put in a chain from the largest one, each next group the nearest
  (by its vector) to the one before, so that similar groups get neighbouring shades.

Everything is deterministic: ties go to the lower index. No colour here (the core has no notion
of colour); the app turns (family, shade) into a colour.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dami_gui.core.errors import ParameterError
from dami_gui.core.validation import check_int

#: The most families (hues) the map shows at once.
MAX_FAMILIES = 12


@dataclass(frozen=True)
class Families:
    """Each group's family and shade, and what each family holds.

    ``family[g]`` is group ``g``'s family (0 … ``n_families``-1) and ``shade[g]`` its position
    in the family's chain (0 … size-1, distinct inside a family); both are -1 for a group with
    no row. ``classes[f]`` lists the predicted classes whose groups family ``f`` holds (ascending;
    -1 stands for rows without a prediction); ``groups[f]`` its groups in shade order;
    ``rows[f]`` how many rows it covers. ``group_size[g]`` is the rows of group ``g``.
    """

    family: np.ndarray
    shade: np.ndarray
    classes: tuple[tuple[int, ...], ...]
    groups: tuple[tuple[int, ...], ...]
    rows: tuple[int, ...]
    group_size: np.ndarray

    @property
    def n_families(self) -> int:
        return len(self.classes)


def group_means(group: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """The mean of ``values`` (N × D) over the rows of each group (NaN for a group with no row).

    One pass per column (``np.bincount``), so a million rows cost a fraction of a second and no
    float64 copy of the whole table is made.
    """
    group = np.asarray(group, dtype=np.int64)
    values = np.asarray(values)
    if values.ndim != 2 or len(values) != len(group):
        raise ParameterError(
            "values", f"a table with one row per group entry ({len(group)} rows)", values.shape
        )
    counts = np.bincount(group, minlength=n_groups)[:n_groups].astype(np.float64)
    out = np.empty((n_groups, values.shape[1]), dtype=np.float64)
    for j in range(values.shape[1]):
        column = np.asarray(values[:, j], dtype=np.float64)
        out[:, j] = np.bincount(group, weights=column, minlength=n_groups)[:n_groups]
    with np.errstate(invalid="ignore", divide="ignore"):
        out /= counts[:, None]
    return out


def _chain(members: list[int], vectors: np.ndarray, size: np.ndarray) -> list[int]:
    """``members`` ordered from the largest group, each next the nearest to the one before."""
    if len(members) <= 1:
        return list(members)
    ids = np.asarray(sorted(members), dtype=np.int64)
    v = np.nan_to_num(vectors[ids])
    start = int(np.argmax(size[ids]))  # the first of the largest
    order = [start]
    left = np.ones(len(ids), dtype=bool)
    left[start] = False
    norms = (v * v).sum(axis=1)
    for _ in range(len(ids) - 1):
        d = norms - 2.0 * (v @ v[order[-1]])  # squared distance, less the last one's norm
        d[~left] = np.inf
        nxt = int(np.argmin(d))  # ties: the lower group index
        order.append(nxt)
        left[nxt] = False
    return [int(ids[i]) for i in order]


def _merge_closest(
    keys: list[int], centres: np.ndarray, weights: np.ndarray, cap: int
) -> list[list[int]]:
    """Merge the closest of ``keys`` (weighted-centroid linkage) until ``cap`` clusters remain."""
    clusters = [[k] for k in keys]
    c = np.nan_to_num(centres.astype(np.float64))
    w = weights.astype(np.float64).copy()
    while len(clusters) > cap:
        d = ((c[:, None, :] - c[None, :, :]) ** 2).sum(axis=2)
        d[np.tril_indices(len(clusters))] = np.inf
        i, j = np.unravel_index(int(np.argmin(d)), d.shape)  # ties: the first pair
        total = w[i] + w[j]
        share = 0.5 if total <= 0 else w[i] / total
        c[i] = share * c[i] + (1 - share) * c[j]
        w[i] = total
        clusters[i] = sorted(clusters[i] + clusters[j])
        del clusters[j]
        c = np.delete(c, j, axis=0)
        w = np.delete(w, j)
    return clusters


def group_families(
    group: np.ndarray,
    prediction: np.ndarray,
    vectors: np.ndarray,
    cap: int = MAX_FAMILIES,
) -> Families:
    """Families and shades for the groups of one colouring (see the module docstring).

    ``group`` (N,) is each row's group id (0 … G-1, G = ``len(vectors)``); ``prediction`` (N,)
    the model's predicted class of each row (-1: none); ``vectors`` (G × D) describes each
    group (e.g. its mean input, :func:`group_means`; NaN rows are allowed for empty groups).
    At most ``cap`` families come back.
    """
    cap = check_int("cap", cap, minimum=1)
    group = np.asarray(group, dtype=np.int64).reshape(-1)
    prediction = np.asarray(prediction, dtype=np.int64).reshape(-1)
    vectors = np.asarray(vectors, dtype=np.float64)
    if vectors.ndim == 1:
        vectors = vectors[:, None]
    n_groups = len(vectors)
    if len(prediction) != len(group):
        raise ParameterError(
            "prediction", f"one class per row ({len(group)} entries)", f"{len(prediction)} entries"
        )
    if len(group) and (group.min() < 0 or group.max() >= n_groups):
        raise ParameterError(
            "group",
            f"ids in 0 … {n_groups - 1} (one row of vectors per group)",
            f"ids {int(group.min())} … {int(group.max())}",
        )
    size = np.bincount(group, minlength=n_groups)[:n_groups]
    n_classes = int(prediction.max()) + 1 if len(prediction) and prediction.max() >= 0 else 0
    # votes[g, c + 1]: rows of group g predicted as class c (column 0: no prediction)
    cell = group * (n_classes + 1) + np.clip(prediction, -1, None) + 1
    votes = np.bincount(cell, minlength=n_groups * (n_classes + 1))
    votes = votes[: n_groups * (n_classes + 1)].reshape(n_groups, n_classes + 1)
    predicted = votes[:, 1:].sum(axis=1) > 0
    majority = np.where(predicted, votes[:, 1:].argmax(axis=1) if n_classes else -1, -1)
    occupied = size > 0

    keys = sorted({int(k) for k in majority[occupied]})  # the classes (and -1) that have groups
    if len(keys) > cap:
        where = np.flatnonzero(occupied)
        key_of = np.searchsorted(np.asarray(keys), majority[where])  # keys are sorted
        centres = np.zeros((len(keys), vectors.shape[1]))
        np.add.at(centres, key_of, size[where, None] * np.nan_to_num(vectors[where]))
        weights = np.bincount(key_of, weights=size[where], minlength=len(keys)).astype(float)
        centres /= np.maximum(weights, 1)[:, None]
        clusters = _merge_closest(keys, centres, weights, cap)
    else:
        clusters = [[k] for k in keys]
    clusters.sort(key=lambda ks: (ks[0] < 0, ks[0] if ks[0] >= 0 else 0))  # classes first
    family_of_key = {k: f for f, ks in enumerate(clusters) for k in ks}
    first = np.array([family_of_key.get(int(k), -1) for k in majority], dtype=np.int64)
    first[~occupied] = -1

    family = np.full(n_groups, -1, dtype=np.int64)
    shade = np.full(n_groups, -1, dtype=np.int64)
    chains: list[tuple[int, ...]] = []
    rows: list[int] = []
    for f in range(len(clusters)):
        members = [int(g) for g in np.flatnonzero(first == f)]
        chain = _chain(members, vectors, size)
        for position, member in enumerate(chain):
            family[member] = f
            shade[member] = position
        chains.append(tuple(chain))
        rows.append(int(size[members].sum()))
    return Families(
        family=family,
        shade=shade,
        classes=tuple(tuple(ks) for ks in clusters),
        groups=tuple(chains),
        rows=tuple(rows),
        group_size=size.astype(np.int64),
    )
