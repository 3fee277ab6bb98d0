"""DAMI+ : central rows of new groups of dp/dx = (diag(p) - p p^T) A(x) around the labeled rows."""

import numpy as np
import pytest
import torch

from dami_gui.core.geometry.kmeans import central_rows
from dami_gui.core.model import MLPConfig, train_mlp
from dami_gui.core.strategies import ModelOutputs, QueryContext, dami_variants, get_strategy

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


def explicit_jacobian(outputs):
    A = outputs.interpretation().A.astype(np.float64)
    P = np.asarray(outputs.proba, dtype=np.float64)
    M = np.einsum("nc,ck->nck", P, np.eye(P.shape[1])) - P[:, :, None] * P[:, None, :]
    return np.einsum("nck,nkd->ncd", M, A).reshape(len(A), -1)


@pytest.mark.parametrize("materialize", [True, False])
def test_picks_are_central_rows_of_the_probabilities_local_models(fitted, materialize, monkeypatch):
    if not materialize:
        monkeypatch.setattr(dami_variants, "MATERIALIZE_BYTES", 0)  # the block-by-block path
    X, _, labeled, model = fitted
    ctx = QueryContext(X, labeled, ModelOutputs(model, X))
    res = get_strategy("dami-plus").query(ctx, 6, seed=0)
    J = explicit_jacobian(ctx.outputs).astype(np.float32)
    expected = central_rows(J, np.flatnonzero(labeled), 6, candidates=~labeled, seed=0)
    assert res.indices.tolist() == expected.order.tolist()
    assert not labeled[res.indices].any() and not res.info["used_fallback"]
    # Scores: each candidate's distance to the nearest labeled row's dp/dx.
    Jd = J.astype(np.float64)
    D = np.sqrt(((Jd[:, None] - Jd[None, labeled]) ** 2).sum(-1)).min(1)
    # (float32 expanded distances: below ~1e-3 of the norms they round to 0, see kcenter)
    np.testing.assert_allclose(res.scores[~labeled], D[~labeled], rtol=1e-3, atol=1e-3)
    assert np.isnan(res.scores[labeled]).all()


def test_an_unsure_group_gives_its_middle_row_where_k_center_takes_its_edge(fitted):
    X, _, labeled, model = fitted
    outputs = ModelOutputs(model, X)
    proba = np.tile([0.98, 0.01, 0.01], (len(X), 1))  # certain everywhere...
    group = np.flatnonzero(~labeled)[:40]
    proba[group] = [0.34, 0.33, 0.33]  # ...except one group of rows
    outputs._proba = proba.astype(np.float32)
    res = get_strategy("dami-plus").query(QueryContext(X, labeled, outputs), 1, seed=0)
    pick = int(res.indices[0])
    assert pick in set(group.tolist())
    J = explicit_jacobian(outputs)
    spread = ((J[group] - J[group].mean(0)) ** 2).sum(1)
    assert ((J[pick] - J[group].mean(0)) ** 2).sum() <= np.median(spread)


def test_certain_everywhere_falls_back_to_plain_dami(fitted):
    X, _, labeled, model = fitted
    outputs = ModelOutputs(model, X)
    outputs._proba = np.eye(3, dtype=np.float32)[np.zeros(len(X), dtype=int)]  # J = 0
    res = get_strategy("dami-plus").query(QueryContext(X, labeled, outputs), 5, seed=3)
    plain = get_strategy("dami").query(QueryContext(X, labeled, ModelOutputs(model, X)), 5, seed=3)
    assert res.info["used_fallback"]
    assert res.indices.tolist() == plain.indices.tolist()


def test_nothing_labeled_still_gives_distinct_rows_and_finite_scores(fitted):
    X, _, _, model = fitted
    none = np.zeros(len(X), dtype=bool)
    res = get_strategy("dami-plus").query(QueryContext(X, none, ModelOutputs(model, X)), 4)
    assert len(set(res.indices.tolist())) == 4
    assert np.isfinite(res.scores[res.indices]).all()


def test_the_binary_case_is_the_boundary_normal_weighted_by_p_times_1_minus_p(fitted):
    """Two classes: dp/dx = p(1-p) [a1 - a2, a2 - a1], the doubt-weighted boundary normal."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(60, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    model, _ = train_mlp(X, y, 2, SMALL, 0)
    outputs = ModelOutputs(model, X)
    ctx = QueryContext(X, np.zeros(60, bool), outputs)
    J = dami_variants.probability_jacobian(ctx, outputs.interpretation())
    got = J.vectors(torch.arange(60)).numpy().reshape(60, 2, 3)
    A, p = outputs.interpretation().A, outputs.proba[:, 0]
    normal = (p * (1 - p))[:, None] * (A[:, 0] - A[:, 1])
    np.testing.assert_allclose(got[:, 0], normal, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(got[:, 1], -normal, rtol=1e-4, atol=1e-6)
