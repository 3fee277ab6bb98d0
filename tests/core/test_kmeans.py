"""Central rows of new clusters around fixed (labeled) centers, checked against a plain version."""

import numpy as np
import pytest

from dami_gui.core.errors import Cancelled, ParameterError
from dami_gui.core.geometry import kcenter
from dami_gui.core.geometry.kmeans import central_rows
from dami_gui.core.progress import CancelToken


def reference(X, fixed, seeds, candidates, max_iter=30):
    """Lloyd's k-means in float64 with ``fixed`` rows as fixed centers, from ``seeds``."""
    X = X.astype(np.float64)
    C = X[seeds].copy()
    fixed_d = ((X[:, None] - X[fixed][None]) ** 2).sum(-1).min(1) if len(fixed) else None
    assign = None
    for _ in range(max_iter):
        d = ((X[:, None] - C[None]) ** 2).sum(-1)
        new = np.where(d.min(1) < fixed_d, d.argmin(1), -1) if fixed_d is not None else d.argmin(1)
        if assign is not None and np.array_equal(new, assign):
            break
        assign = new
        for j in range(len(C)):
            if (assign == j).any():
                C[j] = X[assign == j].mean(0)
    d = ((X[:, None] - C[None]) ** 2).sum(-1)
    d[~candidates] = np.inf
    sizes = np.bincount(assign[assign >= 0], minlength=len(C))
    picks = []
    for j in np.argsort(-sizes, kind="stable"):
        col = d[:, j].copy()
        col[picks] = np.inf
        picks.append(int(col.argmin()))
    return np.array(picks), np.sort(sizes)[::-1]


@pytest.mark.parametrize("seed", range(4))
def test_matches_a_plain_float64_version_in_small_blocks(seed, monkeypatch):
    monkeypatch.setattr(kcenter, "CENTER_BLOCK", 3)
    monkeypatch.setattr("dami_gui.core.geometry.points.BLOCK_FLOATS", 53)
    rng = np.random.default_rng(seed)
    X = (rng.normal(size=(160, 5)) + 4 * rng.integers(0, 3, (160, 1))).astype(np.float32)
    fixed = rng.choice(160, 6, replace=False)
    candidates = np.ones(160, dtype=bool)
    candidates[fixed] = False
    candidates[rng.choice(160, 12, replace=False)] = False
    res = central_rows(X, fixed, 7, candidates=candidates, seed=seed)
    picks, sizes = reference(X, fixed, res.seeds, candidates)
    np.testing.assert_array_equal(res.order, picks)
    np.testing.assert_array_equal(res.cluster_size, sizes)
    assert candidates[res.order].all() and len(set(res.order.tolist())) == 7


def test_picks_the_central_row_of_each_uncovered_group():
    rng = np.random.default_rng(1)
    blobs = [rng.normal(loc=(10 * i, 0), scale=1.0, size=(50, 2)) for i in range(4)]
    X = np.concatenate(blobs).astype(np.float32)
    fixed = np.array([3])  # one labeled row, in the first blob
    res = central_rows(X, fixed, 3, seed=0)
    groups = sorted(int(r) // 50 for r in res.order)
    assert groups == [1, 2, 3]
    for r in res.order:
        blob = X[(r // 50) * 50 : (r // 50 + 1) * 50]
        nearest = np.argmin(((blob - blob.mean(0)) ** 2).sum(1))
        assert r == (r // 50) * 50 + nearest


def test_weights_equal_scaling_the_rows_and_a_seed_is_reproducible():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(120, 4)).astype(np.float32)
    w = rng.uniform(0.1, 1.0, 120).astype(np.float32)
    fixed = np.arange(5)
    a = central_rows(X, fixed, 6, weights=w, seed=4)
    b = central_rows(X * w[:, None], fixed, 6, seed=4)
    np.testing.assert_array_equal(a.order, b.order)
    np.testing.assert_array_equal(a.order, central_rows(X, fixed, 6, weights=w, seed=4).order)


def test_asking_for_more_than_the_candidates_returns_them_all_and_errors_name_the_parameter():
    X = np.random.default_rng(3).normal(size=(30, 3)).astype(np.float32)
    candidates = np.zeros(30, dtype=bool)
    candidates[[4, 9, 17]] = True
    res = central_rows(X, np.array([0, 1]), 10, candidates=candidates)
    assert sorted(res.order.tolist()) == [4, 9, 17]
    assert central_rows(X, np.array([0]), 0).order.size == 0
    with pytest.raises(ParameterError, match="'max_iterations'"):
        central_rows(X, np.array([0]), 2, max_iterations=-1)


def test_cancel_stops_it():
    X = np.random.default_rng(4).normal(size=(200, 3)).astype(np.float32)
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        central_rows(X, np.array([0]), 5, cancel=token)
