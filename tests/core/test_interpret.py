"""The closed-form local linear model must equal autograd's Jacobian and reproduce the logits."""

import numpy as np
import pytest
import torch

from dami_gui.core.interpret import hash_patterns, interpret, region_sizes
from dami_gui.core.model import MLPConfig, init_model

from .floats import assert_float32_close


@pytest.mark.parametrize(
    ("d", "hidden", "C"),
    [(3, (5,), 2), (7, (16, 16), 4), (12, (32, 8, 16), 3), (4, (64, 64), 10), (9, (6, 6, 6, 6), 5)],
)
def test_A_is_the_jacobian_and_reproduces_the_logits(d, hidden, C):
    model = init_model(d, C, MLPConfig(hidden=hidden), seed=d)
    X = np.random.default_rng(0).normal(size=(40, d)).astype(np.float32)
    res = interpret(model, X, chunk_rows=7)  # several chunks, one partial
    with torch.no_grad():
        logits = model(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(res.logits, logits, rtol=1e-5, atol=1e-5)
    recon = np.einsum("ncd,nd->nc", res.A, X) + res.c
    np.testing.assert_allclose(recon, logits, rtol=1e-4, atol=1e-4)
    for i in range(0, 40, 9):
        jac = torch.autograd.functional.jacobian(model, torch.from_numpy(X[i : i + 1]))
        np.testing.assert_allclose(res.A[i], jac[0, :, 0, :].numpy(), rtol=1e-4, atol=1e-5)


def test_equal_patterns_share_A_and_region_id_and_different_patterns_do_not():
    model = init_model(2, 3, MLPConfig(hidden=(8, 8)), seed=1)
    rng = np.random.default_rng(2)
    X = rng.normal(size=(2000, 2)).astype(np.float32)
    res = interpret(model, X, keep_patterns=True)
    patterns = [bytes(p) for p in res.patterns]
    by_pattern: dict[bytes, list[int]] = {}
    for i, p in enumerate(patterns):
        by_pattern.setdefault(p, []).append(i)
    assert 1 < len(by_pattern) < len(X)  # some regions hold several rows
    ids_of = {}
    for p, rows in by_pattern.items():
        assert len(set(res.region_ids[rows].tolist())) == 1
        for r in rows[1:]:
            np.testing.assert_allclose(res.A[r], res.A[rows[0]], rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(res.c[r], res.c[rows[0]], rtol=1e-5, atol=1e-5)
        ids_of[p] = int(res.region_ids[rows[0]])
    assert len(set(ids_of.values())) == len(ids_of)
    assert res.n_regions == len(by_pattern)
    _, counts = region_sizes(res.region_ids)
    assert counts.sum() == len(X) and (np.diff(counts) <= 0).all()


def test_hash_patterns_distinguishes_single_bits_and_is_deterministic():
    packed = np.zeros((65, 9), dtype=np.uint8)
    for i in range(64):
        packed[i + 1, i // 8] = 1 << (i % 8)
    ids = hash_patterns(packed)
    assert len(set(ids.tolist())) == 65
    np.testing.assert_array_equal(ids, hash_patterns(packed.copy()))


def test_interpret_without_A_gives_same_regions_and_chunks_bound_memory():
    model = init_model(5, 3, MLPConfig(hidden=(16, 16)), seed=3)
    X = np.random.default_rng(4).normal(size=(500, 5)).astype(np.float32)
    full = interpret(model, X, chunk_rows=64)
    light = interpret(model, X, with_A=False)
    assert light.A is None
    np.testing.assert_array_equal(full.region_ids, light.region_ids)
    np.testing.assert_allclose(full.c, light.c, rtol=1e-6)


@pytest.mark.parametrize(("hidden", "chunk"), [((16, 16), 7), ((32, 8, 16), 64), ((6,), 1000)])
def test_A_equals_the_plain_product_with_fresh_tensors(hidden, chunk, monkeypatch):
    """The chunk's products run in reused buffers, A_ROWS rows at a time; the values are those
    of the plain products of the whole chunk, to float32 rounding (products of other shapes are
    rounded differently on some CPUs), and the patterns behind them are the same."""
    monkeypatch.setattr("dami_gui.core.interpret.A_ROWS", 5)
    model = init_model(5, 3, MLPConfig(hidden=hidden), seed=3)
    X = np.random.default_rng(4).normal(size=(150, 5)).astype(np.float32)
    res = interpret(model, X, chunk_rows=chunk, keep_patterns=True)
    assert res.patterns is not None
    weights = [lin.weight.detach() for lin in model.linears]
    with torch.no_grad():
        for start in range(0, 150, chunk):
            h, masks = torch.from_numpy(X[start : start + chunk]), []
            for W, b in zip(weights[:-1], [lin.bias for lin in model.linears][:-1], strict=True):
                pre = h @ W.T + b
                masks.append(pre > 0)
                h = pre * masks[-1]
            G = weights[-1].unsqueeze(0) * masks[-1].unsqueeze(1).to(torch.float32)
            for layer in range(len(masks) - 1, 0, -1):
                G = (G @ weights[layer]) * masks[layer - 1].unsqueeze(1).to(torch.float32)
            bits = np.packbits(torch.cat(masks, dim=1).numpy(), axis=1)
            np.testing.assert_array_equal(res.patterns[start : start + chunk], bits)
            assert_float32_close(res.A[start : start + chunk], (G @ weights[0]).numpy())
