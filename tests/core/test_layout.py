"""The map layouts: PCA at once (deterministic, scaled), UMAP with progress and cancel."""

from __future__ import annotations

import numpy as np
import pytest

from dami_gui.core.embedding import pca_layout, umap_layout, warm_up_umap
from dami_gui.core.errors import Cancelled
from dami_gui.core.progress import CancelToken


def blobs(n: int = 200, d: int = 6, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(3, d)) * 4
    return (centers[rng.integers(0, 3, n)] + rng.normal(size=(n, d))).astype(np.float32)


def test_pca_layout_is_deterministic_and_scaled():
    X = blobs()
    Y = pca_layout(X)
    assert Y.shape == (len(X), 2) and Y.dtype == np.float32
    np.testing.assert_allclose(Y.mean(axis=0), 0, atol=1e-5)
    assert Y.std(axis=0).max() == pytest.approx(1.0, rel=1e-4)
    np.testing.assert_array_equal(Y, pca_layout(X.copy()))
    # the first axis is the direction of largest spread: it separates the blobs
    assert Y[:, 0].std() >= Y[:, 1].std()


@pytest.mark.parametrize(
    "X",
    [np.zeros((5, 3)), np.ones((4, 1)), np.empty((0, 4)), np.array([[1.0, np.nan], [2.0, 3.0]])],
)
def test_pca_layout_edge_cases(X):
    Y = pca_layout(X)
    assert Y.shape == (len(X), 2)
    assert np.all(np.isfinite(Y))


@pytest.mark.slow
def test_umap_layout_reports_progress_cancels_and_repeats():
    """One test pays numba's compilation once (10-25 s): result, progress, cancel, same seed."""
    warm_up_umap()
    X = blobs(300)
    calls: list[tuple[str, float]] = []
    Y = umap_layout(X, seed=0, progress=lambda s, f: calls.append((s, f)), n_epochs=60)
    assert Y.shape == (300, 2) and Y.dtype == np.float32 and np.all(np.isfinite(Y))
    fractions = [f for _, f in calls]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert len(calls) > 50  # one report per epoch
    assert fractions == sorted(fractions)
    np.testing.assert_array_equal(Y, umap_layout(X, seed=0, n_epochs=60))

    token = CancelToken()
    seen: list[float] = []

    def cancel_halfway(stage: str, fraction: float) -> None:
        seen.append(fraction)
        if fraction > 0.6:
            token.cancel()

    with pytest.raises(Cancelled):
        umap_layout(X, seed=0, progress=cancel_halfway, cancel=token, n_epochs=200)
    assert seen[-1] < 0.7  # stopped at the next epoch, not at the end

    with pytest.raises(Cancelled):
        umap_layout(X, cancel=token)  # already cancelled: nothing is computed
