"""The contract every query strategy honours (after scikit-activeml's template test)."""

import numpy as np
import pytest
import torch

from dami_gui.core.errors import ParameterError
from dami_gui.core.model import MLPConfig, init_model, train_mlp
from dami_gui.core.strategies import (
    DEFAULT_STRATEGY,
    ModelOutputs,
    QueryContext,
    available,
    describe,
    get_strategy,
    why_picked,
)

ALL = available()
SMALL = MLPConfig(hidden=(16, 16), min_epochs=20, min_steps=60)


def blobs(n=150, d=5, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    X = rng.normal(size=(n, d)) + 3.0 * np.eye(classes, d)[y]
    return X.astype(np.float32), y


def context(X, y, labeled_rows, seed=0, model=None, candidates=None):
    labeled = np.zeros(len(X), dtype=bool)
    labeled[labeled_rows] = True
    if model is None:
        model, _ = train_mlp(X[labeled], y[labeled], int(y.max()) + 1, SMALL, seed)
    return QueryContext(X, labeled, ModelOutputs(model, X), candidates=candidates)


@pytest.fixture(scope="module")
def pool():
    X, y = blobs()
    labeled_rows = np.arange(0, 150, 10)
    model, _ = train_mlp(X[labeled_rows], y[labeled_rows], 3, SMALL, 0)
    return X, y, labeled_rows, model


def test_registry_lists_dami_first_and_every_baseline():
    assert ALL[:2] == [DEFAULT_STRATEGY, "dami"] and DEFAULT_STRATEGY == "dami-plus"
    assert set(ALL) == {
        "dami",
        "dami-plus",
        "dami-blend",
        "random",
        "entropy",
        "margin",
        "least-confidence",
        "coreset",
        "badge",
        "teacher-margin",
    }
    with pytest.raises(ParameterError, match=r"'strategy'.*one of dami"):
        get_strategy("nope")


@pytest.mark.parametrize("name", ALL)
def test_contract_distinct_unlabeled_rows_and_per_row_scores(name, pool):
    X, y, labeled_rows, model = pool
    ctx = context(X, y, labeled_rows, model=model)
    res = get_strategy(name).query(ctx, 12, seed=1)
    assert res.indices.dtype == np.int64 and len(res.indices) == 12
    assert len(set(res.indices.tolist())) == 12
    assert not np.isin(res.indices, labeled_rows).any()
    assert res.scores.shape == (len(X),)
    assert np.isfinite(res.scores[res.indices]).all()
    if res.partition is not None:
        assert res.partition.shape == (len(X),)
        assert res.partition.min() >= 0 and res.partition.max() < len(res.centers)
        np.testing.assert_array_equal(res.centers[len(labeled_rows) :], res.indices)


@pytest.mark.parametrize("name", ALL)
def test_contract_same_seed_same_result(name, pool):
    X, y, labeled_rows, model = pool
    a = get_strategy(name).query(context(X, y, labeled_rows, model=model), 10, seed=7)
    b = get_strategy(name).query(context(X, y, labeled_rows, model=model), 10, seed=7)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_array_equal(a.scores, b.scores)


@pytest.mark.parametrize("name", ALL)
def test_contract_batch_larger_than_pool_takes_every_candidate(name, pool):
    X, y, labeled_rows, model = pool
    candidates = np.zeros(len(X), dtype=bool)
    candidates[[1, 2, 3, 5, 8]] = True
    res = get_strategy(name).query(
        context(X, y, labeled_rows, model=model, candidates=candidates), 50
    )
    assert sorted(res.indices.tolist()) == [1, 2, 3, 5, 8]
    everything = context(X, y, labeled_rows, model=model)
    res = get_strategy(name).query(everything, 10_000)
    assert len(res.indices) == len(X) - len(labeled_rows) == len(set(res.indices.tolist()))


@pytest.mark.parametrize("name", ALL)
def test_contract_single_class_labeled(name):
    X, y = blobs(seed=3)
    labeled_rows = np.flatnonzero(y == 0)[:6]
    model, _ = train_mlp(X[labeled_rows], y[labeled_rows], 3, SMALL, 0)
    res = get_strategy(name).query(context(X, y, labeled_rows, model=model), 8, seed=0)
    assert len(set(res.indices.tolist())) == 8 and not np.isin(res.indices, labeled_rows).any()


@pytest.mark.parametrize("name", ALL)
def test_contract_duplicate_rows(name):
    base, yb = blobs(n=10, seed=4)
    X = np.repeat(base, 12, axis=0)  # every row 12 times
    y = np.repeat(yb, 12)
    labeled_rows = np.array([0, 12, 24])
    res = get_strategy(name).query(context(X, y, labeled_rows), 20, seed=2)
    assert len(set(res.indices.tolist())) == 20 and not np.isin(res.indices, labeled_rows).any()
    if name in {"dami", "coreset"}:
        # K-Center never takes a copy of a row it already covers while new rows remain.
        first = res.indices[:7] // 12  # which of the 10 distinct rows each pick copies
        assert len(set(first.tolist())) == 7 and not ({0, 1, 2} & set(first.tolist()))


@pytest.mark.parametrize("name", ALL)
def test_contract_untrained_model_where_all_rows_share_one_region(name):
    X, y = blobs(n=60, seed=5)
    model = init_model(X.shape[1], 3, SMALL, seed=0)
    with torch.no_grad():  # every hidden unit always on: one linear region for the whole pool
        for lin in model.linears[:-1]:
            lin.weight.zero_()
            lin.bias.fill_(1.0)
    ctx = context(X, y, np.array([0, 1]), model=model)
    assert np.unique(ctx.outputs.regions()).size == 1
    a = get_strategy(name).query(ctx, 9, seed=11)
    b = get_strategy(name).query(context(X, y, np.array([0, 1]), model=model), 9, seed=11)
    assert len(set(a.indices.tolist())) == 9 and not np.isin(a.indices, [0, 1]).any()
    np.testing.assert_array_equal(a.indices, b.indices)


@pytest.mark.parametrize("name", ALL)
def test_contract_no_labeled_rows_at_all(name):
    X, y = blobs(n=40, seed=6)
    model = init_model(X.shape[1], 3, SMALL, seed=0)
    res = get_strategy(name).query(context(X, y, np.array([], dtype=int), model=model), 5, seed=0)
    assert len(set(res.indices.tolist())) == 5


@pytest.mark.parametrize("name", ALL)
def test_contract_says_why_it_picked_a_row_in_its_own_name(name):
    title, _ = describe(name)
    text = why_picked(name)
    assert text.startswith(f"{title}: ") and len(text) > len(title) + 20
    assert text == type(get_strategy(name)).why_picked()


def test_a_strategy_this_version_does_not_know_is_named_not_refused():
    assert why_picked("from-a-newer-version") == "Picked by the 'from-a-newer-version' strategy."


@pytest.mark.parametrize("name", ALL)
def test_contract_map_partition_is_the_nearest_center_in_interpretation_space(name, pool):
    X, y, labeled_rows, model = pool
    ctx = context(X, y, labeled_rows, model=model)
    strategy = get_strategy(name)
    res = strategy.query(ctx, 12, seed=3)
    partition, centers, distance = strategy.map_partition(ctx, res)
    np.testing.assert_array_equal(centers, np.concatenate([labeled_rows, res.indices]))
    assert partition.shape == distance.shape == (len(X),)
    assert partition.min() >= 0 and partition.max() < len(centers)
    flat = ctx.outputs.interpretation().flat().astype(np.float64)
    to_centers = np.sqrt(((flat[:, None] - flat[None, centers]) ** 2).sum(-1))
    nearest = to_centers.min(1)
    np.testing.assert_allclose(distance, nearest, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(
        to_centers[np.arange(len(X)), partition], nearest, rtol=1e-3, atol=1e-4
    )
    if strategy.partitions_interpretations:  # its own K-Center assignment, not a second one
        assert partition is res.partition


@pytest.mark.parametrize("name", ALL)
def test_contract_map_partition_of_an_empty_batch_is_the_labeled_rows(name, pool):
    X, y, labeled_rows, model = pool
    candidates = np.zeros(len(X), dtype=bool)
    ctx = context(X, y, labeled_rows, model=model, candidates=candidates)
    strategy = get_strategy(name)
    res = strategy.query(ctx, 5)
    assert res.indices.size == 0
    partition, centers, _ = strategy.map_partition(ctx, res)
    np.testing.assert_array_equal(centers, labeled_rows)
    assert partition.max() < len(labeled_rows)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "5"])
def test_batch_size_errors_name_the_parameter(bad, pool):
    X, y, labeled_rows, model = pool
    with pytest.raises(
        ParameterError, match=r"'batch_size' parameter must be an integer >= 1\. Got"
    ):
        get_strategy("dami").query(context(X, y, labeled_rows, model=model), bad)


def test_dami_uses_the_local_linear_models(pool):
    X, y, labeled_rows, model = pool
    ctx = context(X, y, labeled_rows, model=model)
    res = get_strategy("dami").query(ctx, 5)
    flat = ctx.outputs.interpretation().flat()
    D = np.sqrt(((flat[:, None] - flat[None, labeled_rows]) ** 2).sum(-1)).min(1)
    unlabeled = np.setdiff1d(np.arange(len(X)), labeled_rows)
    assert res.indices[0] == unlabeled[np.argmax(D[unlabeled])]
    np.testing.assert_allclose(res.scores[unlabeled], D[unlabeled], rtol=1e-3, atol=1e-4)


def test_uncertainty_scores_pick_the_most_uncertain(pool):
    X, y, labeled_rows, model = pool
    ctx = context(X, y, labeled_rows, model=model)
    p = ctx.outputs.proba
    unlabeled = np.setdiff1d(np.arange(len(X)), labeled_rows)
    top = np.sort(p, 1)[:, ::-1]
    expected = {
        "least-confidence": 1 - top[:, 0],
        "margin": -(top[:, 0] - top[:, 1]),
        "entropy": -(p * np.log(np.clip(p, 1e-12, 1))).sum(1),
    }
    for name, score in expected.items():
        res = get_strategy(name).query(ctx, 3)
        assert set(res.indices) == set(unlabeled[np.argsort(-score[unlabeled])[:3]])
