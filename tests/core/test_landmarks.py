"""The map of a big pool: UMAP on landmark rows, the other rows placed by nearest landmarks."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

from dami_gui.core.embedding import landmarks, umap_layout
from dami_gui.core.embedding.landmarks import exact_neighbours, landmark_layout, place
from dami_gui.core.errors import Cancelled
from dami_gui.core.progress import CancelToken


def blobs(n: int = 1200, d: int = 5, seed: int = 0, labels: bool = False):
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(4, d)) * 5
    y = rng.integers(0, 4, n)
    X = (centers[y] + rng.normal(size=(n, d))).astype(np.float64)
    return (X, y) if labels else X


def reference_place(X, L, Y, k):
    """Membership-weighted mean of the k nearest landmarks' positions, in float64."""
    from umap.umap_ import smooth_knn_dist

    d = np.sqrt(((X[:, None, :] - L[None]) ** 2).sum(-1))
    idx = np.argsort(d, axis=1, kind="stable")[:, :k]
    dist = np.take_along_axis(d, idx, 1).astype(np.float32)
    sigma, rho = smooth_knn_dist(dist, float(k), local_connectivity=0.0)
    w = np.exp(-np.maximum(dist - rho[:, None], 0.0) / sigma[:, None]).astype(np.float64)
    return (w[..., None] * Y[idx]).sum(1) / w.sum(1, keepdims=True), idx


def test_exact_neighbours_are_the_nearest_in_order():
    rng = np.random.default_rng(1)
    X, L = rng.normal(size=(30, 3)).astype(np.float32), rng.normal(size=(50, 3))
    idx, dist = exact_neighbours(X, L.astype(np.float32), 6)
    d = np.sqrt(((X[:, None, :].astype(np.float64) - L[None]) ** 2).sum(-1))
    np.testing.assert_array_equal(idx, np.argsort(d, axis=1)[:, :6])
    np.testing.assert_allclose(dist, np.sort(d, axis=1)[:, :6], rtol=1e-4, atol=1e-5)


def test_placement_is_the_membership_weighted_mean_of_the_nearest_landmarks(monkeypatch):
    monkeypatch.setattr(landmarks, "PLACE_BLOCK", 7)  # several blocks, one partial
    rng = np.random.default_rng(2)
    L = rng.normal(size=(40, 4)).astype(np.float32)
    Y = rng.normal(size=(40, 2)).astype(np.float32)
    X = np.concatenate([rng.normal(size=(25, 4)), L[[5]].astype(np.float64)])  # last: on a landmark
    done: list[int] = []
    got = place(X, np.arange(26), Y, L, 8, done.append)
    ref, _ = reference_place(X[:25], L.astype(np.float64), Y.astype(np.float64), 8)
    np.testing.assert_allclose(got[:25], ref, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(got[25], Y[5])  # a row on a landmark sits on it
    assert done == [7, 14, 21, 26]


@pytest.mark.slow
def test_the_landmark_map_has_the_shape_repeats_for_a_seed_and_moves_by_stage(monkeypatch):
    monkeypatch.setattr(landmarks, "PLACE_BLOCK", 100)
    X, y = blobs(labels=True)
    calls: list[tuple[str, float]] = []
    report = lambda s, f: calls.append((s, f))  # noqa: E731
    Y = umap_layout(X, seed=3, n_epochs=30, landmarks=300, progress=report)
    assert Y.shape == (1200, 2) and Y.dtype == np.float32 and np.isfinite(Y).all()
    assert Y.std(axis=0).max() == pytest.approx(1.0, rel=1e-4)
    np.testing.assert_array_equal(Y, umap_layout(X, seed=3, n_epochs=30, landmarks=300))
    assert not np.array_equal(Y, umap_layout(X, seed=4, n_epochs=30, landmarks=300))
    fractions = [f for _, f in calls]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0 and fractions == sorted(fractions)
    stages = list(dict.fromkeys(s for s, _ in calls))
    assert stages == list(landmarks.STAGES.values())
    placing = [f for s, f in calls if s == landmarks.STAGES["placement"]]
    assert len(placing) >= 10  # 900 rows in blocks of 100, and the stage's start and end
    assert sum(s == landmarks.STAGES["epochs"] for s, _ in calls) >= 30  # one per epoch
    # the placed rows keep the clusters apart: each row's nearest map neighbour shares its blob
    nearest = np.argsort(((Y[:, None, :] - Y[None]) ** 2).sum(-1), axis=1)[:, 1]
    assert (y[nearest] == y).mean() > 0.95


@pytest.mark.slow
def test_cancel_stops_the_placement_at_the_next_block(monkeypatch):
    monkeypatch.setattr(landmarks, "PLACE_BLOCK", 50)
    X = blobs(900)
    token = CancelToken()
    placed: list[float] = []

    def report(stage: str, fraction: float) -> None:
        if stage == landmarks.STAGES["placement"]:
            placed.append(fraction)
            if len(placed) == 4:
                token.cancel()

    with pytest.raises(Cancelled):
        landmark_layout(X, seed=0, progress=report, cancel=token, n_epochs=20, landmarks=200)
    assert len(placed) == 4  # no block after the one that saw the cancel

    token = CancelToken()
    epochs: list[float] = []

    def during_epochs(stage: str, fraction: float) -> None:
        if stage == landmarks.STAGES["epochs"]:
            epochs.append(fraction)
            token.cancel()

    with pytest.raises(Cancelled):
        landmark_layout(X, seed=0, progress=during_epochs, cancel=token, n_epochs=50, landmarks=200)
    assert len(epochs) <= 2


@pytest.mark.slow
def test_small_pools_keep_the_full_fit_bit_for_bit():
    """At or below the landmark count: the same umap call as before the landmarks existed."""
    import umap

    X = blobs(500)
    Y = umap_layout(X, seed=1, n_epochs=40)
    reducer = umap.UMAP(
        n_components=2, n_neighbors=15, random_state=1, n_epochs=40, init="spectral"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = reducer.fit_transform(X.astype(np.float32)).astype(np.float64)
    raw -= raw.mean(axis=0)
    np.testing.assert_array_equal(Y, (raw / raw.std(axis=0).max()).astype(np.float32))
    np.testing.assert_array_equal(Y, umap_layout(X, seed=1, n_epochs=40, landmarks=500))


def test_stage_slices_cover_the_bar_in_order():
    s = landmarks.stage_slices(50_000, 950_000, None)
    assert list(s) == ["neighbours", "initialisation", "epochs", "placement"]
    assert s["neighbours"][0] == 0.0 and s["placement"][1] == pytest.approx(1.0)
    bounds = list(s.values())
    assert all(a[1] == pytest.approx(b[0]) for a, b in itertools.pairwise(bounds))
    assert all(stop > start for start, stop in s.values())


@pytest.mark.slow
def test_after_the_warm_up_the_nn_descent_path_places_rows_as_exact_neighbours_would():
    """4,096 landmarks and more go through NN-descent (compiled by the warm-up) and its search."""
    from dami_gui.core.embedding import warm_up_umap

    warm_up_umap()
    X = blobs(4400, d=4, seed=5)
    calls: list[str] = []
    Y = landmark_layout(
        X, seed=0, n_epochs=10, landmarks=4096, progress=lambda s, f: calls.append(s)
    )
    assert Y.shape == (4400, 2) and np.isfinite(Y).all()
    assert landmarks.STAGES["placement"] in calls
    from umap.umap_ import nearest_neighbors

    rows = landmarks.choose_landmarks(4400, 4096, 0)
    others = np.setdiff1d(np.arange(4400), rows)
    L = X[rows].astype(np.float32)
    rs = np.random.RandomState(0)
    _, _, index = nearest_neighbors(L, 15, "euclidean", {}, False, rs, n_jobs=1)
    Q = X[others].astype(np.float32)
    approx, _ = index.query(Q, k=15, epsilon=0.12)
    exact, _ = exact_neighbours(Q, L, 15)
    same = np.array([set(a) == set(b) for a, b in zip(approx, exact, strict=True)])
    recall = np.mean([len(set(a) & set(b)) / 15 for a, b in zip(approx, exact, strict=True)])
    assert recall > 0.95 and same.mean() > 0.8  # NN-descent's search is approximate
    layout = np.random.default_rng(0).normal(size=(4096, 2)).astype(np.float32)
    by_index = place(X, others, layout, index, 15)
    by_exact = place(X, others, layout, L, 15)
    np.testing.assert_allclose(by_index[same], by_exact[same], rtol=1e-3, atol=1e-4)


def test_numba_leaves_torch_its_thread_count():
    """numba's first parallel launch in a process sets the calling thread's OpenMP count to every
    core; the maps give torch back the count its caller chose (a fresh process: first launch).
    Without the guard this printed 1 then 2 on the 2-core development machine (it cannot fail
    on a single core)."""
    import subprocess
    import sys

    code = (
        "import numpy as np, torch\n"
        "torch.set_num_threads(1)\n"
        "print(torch.get_num_threads())\n"
        "from dami_gui.core.embedding.landmarks import place\n"
        "rng = np.random.default_rng(0)\n"
        "L = rng.normal(size=(20, 3)).astype(np.float32)\n"
        "place(rng.normal(size=(5, 3)), np.arange(5), L[:, :2], L, 4)\n"
        "print(torch.get_num_threads())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["1", "1"]
