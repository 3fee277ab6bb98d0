"""Big pools do not keep A: it is formed block by block from the kept activation patterns.

Every consumer of the block-wise A (DAMI+'s passes, its tie rule, the map's partition) must see
the numbers the kept A holds, so a small pool forced through the block-wise path must give the
same picks and partition as the kept-A path, and the same A, scores and distances to float32
rounding: the blocks are products of other shapes than the kept A's, which some CPUs (AVX2, or
more than one thread) round differently in the last bits (see ``floats.py``).
"""

import numpy as np
import pytest
import torch

from dami_gui.core.errors import ParameterError
from dami_gui.core.geometry import kmeans
from dami_gui.core.geometry.points import LocalModelPoints, Matrix
from dami_gui.core.interpret import LocalModels, interpret
from dami_gui.core.model import MLPConfig, init_model, train_mlp
from dami_gui.core.strategies import ModelOutputs, QueryContext, dami_variants, get_strategy

from .floats import assert_float32_close

SMALL = MLPConfig(hidden=(16, 16), min_epochs=20, min_steps=60)


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    X = (rng.normal(size=(300, 4)) + 2.0 * np.eye(3, 4)[y]).astype(np.float32)
    labeled = np.zeros(300, dtype=bool)
    labeled[::15] = True
    model, _ = train_mlp(X[labeled], y[labeled], 3, SMALL, 0)
    return X, labeled, model


def block_wise(monkeypatch, keep_bytes=0):
    """Force every pool onto the big-pool path: A kept for ``keep_bytes`` only (the first rows;
    300 rows x 3 classes x 4 features take 14,400 bytes), no explicit dp/dx."""
    monkeypatch.setattr("dami_gui.core.strategies.base.KEEP_A_BYTES", keep_bytes)
    monkeypatch.setattr(dami_variants, "MATERIALIZE_BYTES", 0)


@pytest.mark.parametrize("keep_rows", [0, 50])
@pytest.mark.parametrize("hidden", [(16, 16), (32, 8, 16), (6,)])
def test_blocks_and_rows_are_the_kept_A(hidden, keep_rows, monkeypatch):
    monkeypatch.setattr("dami_gui.core.interpret.A_ROWS", 7)  # several products per block
    model = init_model(5, 3, MLPConfig(hidden=hidden), seed=3)
    X = np.random.default_rng(4).normal(size=(150, 5)).astype(np.float32)
    kept = interpret(model, X, keep_patterns=True, chunk_rows=64)
    assert kept.patterns is not None
    models = LocalModels(model, kept.patterns, keep_rows=keep_rows)
    for start, stop in [(0, 150), (0, 1), (3, 40), (64, 150), (149, 150)]:
        assert_float32_close(models.block(start, stop).numpy(), kept.A[start:stop])
    rows = np.array([149, 0, 77, 77, 12])
    assert_float32_close(models.rows(torch.from_numpy(rows)).numpy(), kept.A[rows])
    assert_float32_close(models.full(), kept.A)
    if keep_rows:  # the kept rows are formed once and handed out as they are
        kept_part = models.rows(torch.arange(keep_rows)).numpy()
        np.testing.assert_array_equal(models.block(0, keep_rows).numpy(), kept_part)


def test_patterns_of_another_network_are_refused():
    model = init_model(5, 3, MLPConfig(hidden=(16, 16)), seed=3)
    with pytest.raises(ParameterError, match="patterns"):
        LocalModels(model, np.zeros((10, 3), dtype=np.uint8))


def test_a_big_pool_keeps_patterns_not_A(fitted, monkeypatch):
    X, _, model = fitted
    monkeypatch.setattr("dami_gui.core.strategies.base.KEEP_A_BYTES", X.size * 3 * 4 - 1)
    outputs = ModelOutputs(model, X)
    models = outputs.local_models()
    assert isinstance(models, LocalModels)
    assert outputs.local_models() is models  # the kept rows' A is formed once per round
    assert outputs._interpretation is not None and outputs._interpretation.A is None
    np.testing.assert_array_equal(outputs.regions(), interpret(model, X).region_ids)
    monkeypatch.setattr("dami_gui.core.strategies.base.KEEP_A_BYTES", X.size * 3 * 4)
    assert isinstance(ModelOutputs(model, X).local_models(), np.ndarray)


def test_vec_A_points_give_the_kept_matrix_numbers(fitted):
    X, _, model = fitted
    kept = interpret(model, X, keep_patterns=True)
    assert kept.patterns is not None
    lazy = LocalModelPoints(LocalModels(model, kept.patterns))
    flat = Matrix(torch.from_numpy(kept.flat()))
    assert_float32_close(lazy.sq_norms(), flat.sq_norms())
    V = flat.vectors(torch.tensor([3, 5]))
    assert_float32_close(lazy.block_dots(10, 90, V), flat.block_dots(10, 90, V))


@pytest.mark.parametrize("keep_bytes", [0, 7200])
@pytest.mark.parametrize("sampled", [False, True])
def test_dami_plus_picks_and_scores_are_the_kept_paths(fitted, sampled, keep_bytes, monkeypatch):
    # blocks of 40 to 70 rows: every pass crosses block (and kept / formed) boundaries
    monkeypatch.setattr("dami_gui.core.geometry.points.BLOCK_FLOATS", 12 * 70)
    X, labeled, model = fitted
    if sampled:  # the big-pool sample (coreset) path, on a small pool
        monkeypatch.setattr(kmeans, "SAMPLE_ABOVE", 50)
        monkeypatch.setattr(kmeans, "SAMPLE_ROWS", 120)
    monkeypatch.setattr(dami_variants, "MATERIALIZE_BYTES", 0)
    strategy = get_strategy("dami-plus")
    ctx = QueryContext(X, labeled, ModelOutputs(model, X))
    kept = strategy.query(ctx, 7, seed=2)
    kept_map = strategy.map_partition(ctx, kept)
    block_wise(monkeypatch, keep_bytes)
    ctx = QueryContext(X, labeled, ModelOutputs(model, X))
    lazy = strategy.query(ctx, 7, seed=2)
    assert ctx.outputs is not None and ctx.outputs._interpretation is not None
    assert ctx.outputs._interpretation.A is None  # the block-wise path was taken
    assert ctx.outputs.local_models().keep_rows == keep_bytes // 48
    assert lazy.info["sampled"] == sampled
    assert lazy.indices.tolist() == kept.indices.tolist()
    assert_float32_close(lazy.scores, kept.scores)
    lazy_map = strategy.map_partition(ctx, lazy)
    np.testing.assert_array_equal(lazy_map.partition, kept_map.partition)
    assert_float32_close(lazy_map.center_distance, kept_map.center_distance)


def test_the_tie_rule_reads_the_block_wise_A_too(fitted, monkeypatch):
    X, labeled, model = fitted
    certain = np.eye(3, dtype=np.float32)[np.zeros(len(X), dtype=int)]  # J = 0 everywhere
    kept_outputs = ModelOutputs(model, X)
    kept_outputs._proba = certain
    kept = get_strategy("dami-plus").query(QueryContext(X, labeled, kept_outputs), 5, seed=3)
    block_wise(monkeypatch)
    outputs = ModelOutputs(model, X)
    outputs._proba = certain
    lazy = get_strategy("dami-plus").query(QueryContext(X, labeled, outputs), 5, seed=3)
    assert lazy.info["used_fallback"] and kept.info["used_fallback"]
    assert lazy.indices.tolist() == kept.indices.tolist()
