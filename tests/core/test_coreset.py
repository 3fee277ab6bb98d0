"""Big pools: the weighted sample, its seeding and iterations, checked against plain versions."""

import numpy as np
import pytest
import torch

from dami_gui.core.errors import Cancelled
from dami_gui.core.geometry import coreset, kcenter, kmeans, points
from dami_gui.core.geometry.kmeans import central_rows, lloyd
from dami_gui.core.geometry.points import Matrix, ProbabilityJacobian
from dami_gui.core.progress import CancelToken, Reporter


def blobs(seed=0, n_per=60, centers=5):
    """``centers`` blobs (sd 0.3) of ``n_per`` rows, all 10 * sqrt(2) apart (a simplex)."""
    rng = np.random.default_rng(seed)
    X = np.concatenate(
        [
            rng.normal(scale=0.3, size=(n_per, centers)) + 10 * np.eye(centers)[i]
            for i in range(centers)
        ]
    )
    return X.astype(np.float32)


def test_fixed_distances_equal_brute_force_in_float64(monkeypatch):
    monkeypatch.setattr(points, "BLOCK_FLOATS", 40)
    monkeypatch.setattr(coreset, "CENTER_BLOCK", 3)
    rng = np.random.default_rng(1)
    A = rng.normal(size=(97, 3, 4)).astype(np.float32)
    P = rng.dirichlet(np.ones(3), 97).astype(np.float32)
    J = ProbabilityJacobian(torch.from_numpy(A), torch.from_numpy(P))
    E = J.materialize().X.numpy().astype(np.float64)
    fixed = np.array([4, 50, 51, 90, 12])
    sq, min_sq = coreset.fixed_distances(J, fixed, Reporter())
    ref = ((E[:, None, :] - E[fixed][None]) ** 2).sum(-1).min(1)
    np.testing.assert_allclose(sq.numpy(), (E * E).sum(1), rtol=1e-5)
    np.testing.assert_allclose(min_sq.numpy(), ref, rtol=1e-4, atol=1e-6)
    assert (min_sq.numpy()[fixed] == 0).all()
    assert J.sq_norms() is sq  # kept: no second pass
    _, none = coreset.fixed_distances(
        Matrix(torch.from_numpy(E.astype(np.float32))), [], Reporter()
    )
    assert torch.isinf(none).all()


def test_the_draw_is_the_lightweight_coreset_distribution():
    rng = np.random.default_rng(2)
    d2 = rng.exponential(size=300)
    d2[:40] = 0.0  # rows on a center: drawn by the uniform half only
    rows, w = coreset.draw(torch.tensor(d2, dtype=torch.float32), 5000, np.random.default_rng(3))
    d2 = d2.astype(np.float32).astype(np.float64)
    q = 0.5 / 300 + 0.5 * d2 / d2.sum()
    expected, times = np.unique(np.random.default_rng(3).choice(300, 5000, p=q), return_counts=True)
    np.testing.assert_array_equal(rows, expected)
    np.testing.assert_allclose(w, times / (5000 * q[expected]))
    assert abs(w.sum() - 300) < 0.05 * 300  # the weights stand for the pool's rows
    uniform_rows, uniform_w = coreset.draw(torch.full((10,), float("inf")), 50, rng)
    np.testing.assert_allclose(uniform_w.sum(), 10.0)
    assert uniform_rows.size <= 10


def reference_seeding(X, fixed_sq, w, open_rows, k, rng):
    """Weighted k-means++ in float64, drawing exactly as the code does."""
    X = X.astype(np.float64)
    min_sq, open_rows, picks = fixed_sq.astype(np.float64).copy(), open_rows.copy(), []
    for _ in range(k):
        if not picks and not np.isfinite(min_sq).any():
            mass = np.where(open_rows, w, 0.0)
        else:
            mass = w * np.where(open_rows, min_sq, 0.0)
        cumulative = np.cumsum(mass)
        if cumulative[-1] <= 0:
            return None
        row = int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))
        picks.append(row)
        open_rows[row] = False
        min_sq = np.minimum(min_sq, ((X - X[row]) ** 2).sum(1))
    return np.array(picks)


@pytest.mark.parametrize("seed", range(4))
def test_weighted_seeding_matches_a_float64_version(seed):
    X = blobs(seed)
    rng = np.random.default_rng(seed)
    w = rng.uniform(0.5, 3.0, len(X))
    open_rows = rng.random(len(X)) > 0.2
    fixed_sq = np.full(len(X), np.inf) if seed == 0 else ((X - X[3]) ** 2).sum(1)
    got = coreset.weighted_d2_seeding(
        Matrix(torch.from_numpy(X)),
        torch.tensor(fixed_sq, dtype=torch.float32),
        torch.tensor(w, dtype=torch.float32),
        torch.from_numpy(open_rows),
        6,
        np.random.default_rng(10 + seed),
    )
    ref = reference_seeding(X, fixed_sq, w, open_rows, 6, np.random.default_rng(10 + seed))
    np.testing.assert_array_equal(got, ref)
    assert open_rows[got].all() and len(set(got.tolist())) == 6


def test_seeding_gives_up_when_the_open_rows_duplicate_the_centers():
    X = np.repeat(np.eye(2, dtype=np.float32), 5, axis=0)  # two distinct rows, five times each
    got = coreset.weighted_d2_seeding(
        Matrix(torch.from_numpy(X)),
        torch.full((10,), float("inf")),
        torch.ones(10),
        torch.ones(10, dtype=torch.bool),
        3,
        np.random.default_rng(0),
    )
    assert got is None


def test_weighted_lloyd_equals_lloyd_on_the_rows_repeated_by_their_weights():
    X = blobs(3, n_per=20, centers=3)
    times = np.random.default_rng(4).integers(1, 4, len(X))
    fixed_sq = torch.full((len(X),), float("inf"))
    C0 = torch.from_numpy(X[[0, 25, 50, 51]].copy())
    M = Matrix(torch.from_numpy(X))
    C, assign, _ = lloyd(
        M, M.sq_norms(), fixed_sq, C0, 30, Reporter(), torch.tensor(times, dtype=torch.float32)
    )
    R = Matrix(torch.from_numpy(np.repeat(X, times, axis=0)))
    C_ref, assign_ref, _ = lloyd(
        R, R.sq_norms(), torch.full((R.n,), float("inf")), C0, 30, Reporter()
    )
    np.testing.assert_allclose(C.numpy(), C_ref.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(np.repeat(assign.numpy(), times), assign_ref.numpy())


def test_small_pools_keep_the_exact_algorithm(monkeypatch):
    X = blobs(5)
    fixed = np.array([1, 70])
    exact = central_rows(X, fixed, 4, seed=3, sample_above=1 << 40)
    default = central_rows(X, fixed, 4, seed=3)  # 300 rows: below SAMPLE_ABOVE
    assert not default.sampled and not exact.sampled
    np.testing.assert_array_equal(default.order, exact.order)
    np.testing.assert_array_equal(default.seeds, exact.seeds)
    assert kmeans.SAMPLE_ABOVE >= 50_000


def test_the_sampled_path_picks_the_central_row_of_each_uncovered_group(monkeypatch):
    monkeypatch.setattr(kmeans, "SAMPLE_ROWS", 0)
    monkeypatch.setattr(kmeans, "SAMPLE_PER_CLUSTER", 40)  # 160 draws from 300 rows
    X = blobs(6)
    fixed = np.array([3])  # one labeled row, in the first blob
    res = central_rows(X, fixed, 4, seed=0, sample_above=0)
    assert res.sampled
    assert sorted(int(r) // 60 for r in res.order) == [1, 2, 3, 4]
    for r in res.order:
        blob = X[(r // 60) * 60 : (r // 60 + 1) * 60]
        central = np.argsort(((blob - blob.mean(0)) ** 2).sum(1))[:3] + (r // 60) * 60
        assert r in central  # the most central rows of its blob (a sample's mean, one step)
    np.testing.assert_array_equal(
        res.order, central_rows(X, fixed, 4, seed=0, sample_above=0).order
    )
    np.testing.assert_allclose(
        res.initial_distance, np.sqrt(((X - X[3]) ** 2).sum(1)), rtol=1e-4, atol=1e-3
    )


def test_the_sampled_path_respects_candidates_reports_progress_and_cancels(monkeypatch):
    monkeypatch.setattr(kmeans, "SAMPLE_ROWS", 0)
    monkeypatch.setattr(kmeans, "SAMPLE_PER_CLUSTER", 30)
    X = blobs(7)
    candidates = np.ones(len(X), dtype=bool)
    candidates[60:120] = False  # a whole blob may not be picked
    seen: list[float] = []
    res = central_rows(
        X,
        [0],
        5,
        candidates=candidates,
        seed=1,
        sample_above=0,
        progress=lambda s, f: seen.append(f),
    )
    assert res.sampled and candidates[res.order].all() and len(set(res.order.tolist())) == 5
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(set(seen)) > 5
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        central_rows(X, [0], 5, seed=1, sample_above=0, cancel=token)


def test_candidates_that_duplicate_the_centers_go_to_the_exact_tie_rule():
    X = np.zeros((40, 3), dtype=np.float32)
    fallback = np.random.default_rng(8).normal(size=(40, 2)).astype(np.float32)
    res = central_rows(X, [0, 1], 3, seed=2, sample_above=0, fallback=fallback)
    assert not res.sampled and res.used_fallback
    ref = kcenter.k_center_greedy(X, [0, 1], 3, seed=2, fallback=fallback, rule="d2")
    np.testing.assert_array_equal(res.order, ref.order)


def test_dami_plus_says_whether_it_took_the_sampled_path(monkeypatch):
    from dami_gui.core.model import MLPConfig, train_mlp
    from dami_gui.core.strategies import ModelOutputs, QueryContext, get_strategy

    X = blobs(9)
    y = np.repeat(np.arange(5), 60)
    labeled = np.zeros(300, dtype=bool)
    labeled[::30] = True
    model, _ = train_mlp(X[labeled], y[labeled], 5, MLPConfig(hidden=(8,), min_steps=50), 0)
    ctx = QueryContext(X, labeled, ModelOutputs(model, X))
    small = get_strategy("dami-plus").query(ctx, 4, seed=0)
    assert small.info["sampled"] is False
    monkeypatch.setattr(kmeans, "SAMPLE_ABOVE", 100)
    big = get_strategy("dami-plus").query(ctx, 4, seed=0)
    assert big.info["sampled"] is True and not labeled[big.indices].any()
    np.testing.assert_allclose(big.scores[~labeled], small.scores[~labeled], rtol=1e-3, atol=1e-5)
