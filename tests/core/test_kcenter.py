"""Greedy K-Center in blocks must match a brute-force farthest-first traversal."""

import numpy as np
import pytest

from dami_gui.core.errors import ParameterError
from dami_gui.core.geometry import kcenter, points
from dami_gui.core.geometry.kcenter import k_center_greedy, nearest_center


def brute_force(X, centers, k, candidates):
    X = X.astype(np.float64)
    D = np.sqrt(((X[:, None, :] - X[None, :, :]) ** 2).sum(-1))  # full N x N: fine when small
    chosen = list(centers)
    order = []
    for _ in range(k):
        delta = D[:, chosen].min(1) if chosen else np.full(len(X), np.inf)
        delta = np.where(candidates, delta, -1.0)
        delta[order] = -1.0
        row = int(np.argmax(delta))
        order.append(row)
        chosen.append(row)
    assignment = D[:, chosen].argmin(1)
    return np.array(order), assignment


@pytest.mark.parametrize("seed", range(5))
def test_matches_brute_force(seed, monkeypatch):
    monkeypatch.setattr(points, "BLOCK_FLOATS", 37)  # force many small blocks
    monkeypatch.setattr(kcenter, "CENTER_BLOCK", 3)
    rng = np.random.default_rng(seed)
    n, d = 120, 6
    X = rng.normal(size=(n, d)).astype(np.float32)
    centers = rng.choice(n, size=7, replace=False)
    candidates = np.ones(n, dtype=bool)
    candidates[centers] = False
    candidates[rng.choice(n, 10, replace=False)] = False
    res = k_center_greedy(X, centers, 15, candidates=candidates, seed=seed)
    order, assignment = brute_force(X, centers, 15, candidates)
    np.testing.assert_array_equal(res.order, order)
    np.testing.assert_array_equal(res.assignment, assignment)
    np.testing.assert_array_equal(res.centers, np.concatenate([centers, order]))
    D0 = np.sqrt(((X[:, None] - X[centers][None]) ** 2).sum(-1)).min(1)
    np.testing.assert_allclose(res.initial_distance, D0, rtol=1e-3, atol=1e-3)


def test_without_initial_centers_first_pick_is_seeded_then_farthest():
    X = np.random.default_rng(1).normal(size=(50, 3)).astype(np.float32)
    a = k_center_greedy(X, np.array([], dtype=int), 5, seed=3)
    b = k_center_greedy(X, np.array([], dtype=int), 5, seed=3)
    np.testing.assert_array_equal(a.order, b.order)
    order, _ = brute_force(X, [int(a.order[0])], 4, np.ones(50, bool))
    np.testing.assert_array_equal(a.order[1:], order)


def test_identical_rows_fall_back_to_the_fallback_space_then_to_random():
    X = np.ones((30, 4), dtype=np.float32)  # a collapsed representation: every row the same
    fallback = (np.arange(30, dtype=np.float32) ** 1.5)[:, None]
    res = k_center_greedy(X, np.array([0]), 3, fallback=fallback, seed=0)
    assert res.used_fallback
    cand = np.arange(30) != 0
    np.testing.assert_array_equal(res.order, brute_force(fallback, [0], 3, cand)[0])
    assert res.picked_by == (kcenter.BY_FALLBACK,) * 3
    res2 = k_center_greedy(X, np.array([0]), 29, seed=0)  # no fallback: seeded random, distinct
    assert sorted(res2.order.tolist()) == list(range(1, 30))
    assert res2.picked_by == (kcenter.BY_CHANCE,) * 29


def test_each_pick_says_which_rule_took_it():
    # two distinct open rows, the rest copies of the center: two picks by the rule, then ties
    X = np.zeros((6, 2), dtype=np.float32)
    X[4], X[5] = (3.0, 0.0), (0.0, 4.0)
    res = k_center_greedy(X, np.array([0]), 4, seed=0)
    assert sorted(res.order[:2].tolist()) == [4, 5]
    assert res.picked_by == (kcenter.BY_RULE,) * 2 + (kcenter.BY_CHANCE,) * 2
    assert k_center_greedy(X, np.array([0]), 2).picked_by == (kcenter.BY_RULE,) * 2
    # with no center at all, the first pick is a seeded random row, then the rule
    first = k_center_greedy(X, np.array([], dtype=int), 3, seed=0)
    assert first.picked_by[0] == kcenter.BY_CHANCE and first.picked_by[1] == kcenter.BY_RULE


def test_initial_distances_are_taken_in_bounded_blocks(monkeypatch):
    shapes = []
    real = points.Matrix.block_dots

    def spy(self, start, stop, V):
        shapes.append((stop - start, V.shape[0]))
        return real(self, start, stop, V)

    monkeypatch.setattr(points, "BLOCK_FLOATS", 1000)
    monkeypatch.setattr(kcenter, "CENTER_BLOCK", 100)
    monkeypatch.setattr(points.Matrix, "block_dots", spy)
    X = np.random.default_rng(0).normal(size=(3000, 5)).astype(np.float32)
    res = k_center_greedy(X, np.arange(500), 4)
    assert len(res.order) == 4
    assert shapes and max(r * c for r, c in shapes) <= 1000  # never 3000 x 500, let alone N x N
    D = np.sqrt(((X[:, None] - X[None, :500]) ** 2).sum(-1)).min(1)
    np.testing.assert_allclose(res.initial_distance, D, rtol=1e-3, atol=1e-3)


def test_nearest_center_and_parameter_errors():
    X = np.array([[0.0], [1.0], [10.0], [11.0]], dtype=np.float32)
    assign, dist = nearest_center(X, np.array([0, 2]))
    np.testing.assert_array_equal(assign, [0, 0, 1, 1])
    np.testing.assert_allclose(dist, [0, 1, 0, 1], atol=1e-5)
    with pytest.raises(ParameterError, match="'k'"):
        k_center_greedy(X, np.array([0]), -1)
    with pytest.raises(ParameterError, match="centers"):
        k_center_greedy(X, np.array([9]), 1)


def test_weighted_rows_match_brute_force_on_the_scaled_rows():
    rng = np.random.default_rng(8)
    X = rng.normal(size=(80, 5)).astype(np.float32)
    w = rng.uniform(0.0, 2.0, 80).astype(np.float32)
    centers = np.array([3, 17, 41])
    cand = np.ones(80, bool)
    cand[centers] = False
    res = k_center_greedy(X, centers, 9, weights=w)
    order, assignment = brute_force(X * w[:, None], centers, 9, cand)
    np.testing.assert_array_equal(res.order, order)
    np.testing.assert_array_equal(res.assignment, assignment)


def test_the_blas_path_and_the_torch_path_pick_the_same_rows():
    """A C-ordered float32 pool takes numpy's BLAS; a Fortran-ordered one the torch path
    (which is also the accelerator path): both must agree with brute force."""
    rng = np.random.default_rng(7)
    X = rng.normal(size=(150, 9)).astype(np.float32)
    centers = rng.choice(150, size=5, replace=False)
    candidates = np.ones(150, dtype=bool)
    candidates[centers] = False
    expected, assignment = brute_force(X, centers, 20, candidates)
    for pool in (X, np.asfortranarray(X)):
        res = k_center_greedy(pool, centers, 20, seed=1)
        np.testing.assert_array_equal(res.order, expected)
        np.testing.assert_array_equal(res.assignment, assignment)
    assert points.Matrix(points.as_tensor(X, None))._X_np is not None
    assert points.Matrix(points.as_tensor(np.asfortranarray(X), None))._X_np is None


def test_d2_draws_follow_the_squared_distance_and_never_take_a_duplicate():
    # One center at 0; candidates at distances 1, 2 and 3, and one duplicate of the center.
    X = np.array([[0.0], [1.0], [2.0], [3.0], [0.0]], dtype=np.float32)
    firsts = [
        int(k_center_greedy(X, np.array([0]), 1, seed=s, rule="d2").order[0]) for s in range(700)
    ]
    counts = np.bincount(firsts, minlength=5)
    assert counts[0] == 0 and counts[4] == 0  # the center and its duplicate (δ = 0)
    np.testing.assert_allclose(counts[1:4] / 700, np.array([1, 4, 9]) / 14, atol=0.05)
    a = k_center_greedy(X, np.array([0]), 3, seed=5, rule="d2")
    b = k_center_greedy(X, np.array([0]), 3, seed=5, rule="d2")
    np.testing.assert_array_equal(a.order, b.order)
    assert sorted(a.order.tolist()) == [1, 2, 3]  # the duplicate only after the others
    with pytest.raises(ParameterError, match="'rule'"):
        k_center_greedy(X, np.array([0]), 1, rule="random")
