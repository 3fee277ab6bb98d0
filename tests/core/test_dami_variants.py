"""DAMI+ : K-Center over vec(A(x)) weighted by 1 - margin, checked against a brute-force rule."""

import numpy as np
import pytest

from dami_gui.core.model import MLPConfig, train_mlp
from dami_gui.core.strategies import ModelOutputs, QueryContext, get_strategy
from dami_gui.core.strategies.dami_variants import margin_uncertainty

SMALL = MLPConfig(hidden=(16, 16), min_epochs=20, min_steps=60)


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 200)
    X = (rng.normal(size=(200, 4)) + 2.0 * np.eye(3, 4)[y]).astype(np.float32)
    labeled = np.zeros(200, dtype=bool)
    labeled[::10] = True
    model, _ = train_mlp(X[labeled], y[labeled], 3, SMALL, 0)
    return X, y, labeled, model


def brute_force_picks(flat, u, labeled, k):
    """Farthest-first traversal on the explicitly scaled rows u_i * vec(A(x_i))."""
    Z = flat.astype(np.float64) * u[:, None]
    centers = list(np.flatnonzero(labeled))
    picks = []
    for _ in range(k):
        D = np.sqrt(((Z[:, None] - Z[None, centers]) ** 2).sum(-1)).min(1)
        D[centers] = -1
        row = int(np.argmax(D))
        picks.append(row)
        centers.append(row)
    return picks


def test_margin_uncertainty():
    p = np.array([[0.7, 0.2, 0.1], [0.4, 0.4, 0.2], [1.0, 0.0, 0.0]])
    np.testing.assert_allclose(margin_uncertainty(p), [0.5, 1.0, 0.0])
    assert margin_uncertainty(np.ones((2, 1))).tolist() == [0.0, 0.0]


def test_picks_are_k_center_on_uncertainty_weighted_interpretations(fitted):
    X, _, labeled, model = fitted
    ctx = QueryContext(X, labeled, ModelOutputs(model, X))
    res = get_strategy("dami-plus").query(ctx, 6, seed=0)
    flat = ctx.outputs.interpretation().flat()
    u = margin_uncertainty(ctx.outputs.proba)
    assert res.indices.tolist() == brute_force_picks(flat, u, labeled, 6)
    # Scores: each candidate's initial distance to the nearest labeled row, in the weighted space.
    Z = flat.astype(np.float64) * u[:, None]
    D = np.sqrt(((Z[:, None] - Z[None, labeled]) ** 2).sum(-1)).min(1)
    np.testing.assert_allclose(res.scores[~labeled], D[~labeled], rtol=1e-3, atol=1e-4)
    assert np.isnan(res.scores[labeled]).all()


def test_uncertainty_decides_between_equally_unusual_rows(fitted):
    """Same interpretations, different certainty: the row the model is unsure of comes first."""
    X, _, labeled, model = fitted
    outputs = ModelOutputs(model, X)
    proba = np.tile([0.98, 0.01, 0.01], (len(X), 1))  # certain everywhere...
    unsure = np.flatnonzero(~labeled)[[3, 50]]
    proba[unsure] = [0.34, 0.33, 0.33]  # ...except two rows
    outputs._proba = proba.astype(np.float32)
    res = get_strategy("dami-plus").query(QueryContext(X, labeled, outputs), 2, seed=0)
    assert set(res.indices.tolist()) == set(unsure.tolist())


def test_certain_everywhere_falls_back_to_plain_dami(fitted):
    X, _, labeled, model = fitted
    outputs = ModelOutputs(model, X)
    outputs._proba = np.eye(3, dtype=np.float32)[np.zeros(len(X), dtype=int)]  # u = 0
    res = get_strategy("dami-plus").query(QueryContext(X, labeled, outputs), 5, seed=3)
    plain = get_strategy("dami").query(QueryContext(X, labeled, ModelOutputs(model, X)), 5, seed=3)
    assert res.info["used_fallback"]
    assert res.indices.tolist() == plain.indices.tolist()
