"""The workers' numpy kernels against the core's torch: probabilities, A(x), dp/dx, regions."""

import subprocess
import sys

import numpy as np
import pytest
import torch

from dami_gui.core.geometry import kcenter
from dami_gui.core.geometry.points import ProbabilityJacobian
from dami_gui.core.interpret import interpret
from dami_gui.core.model import init_model, predict_proba, train_mlp
from dami_gui.distributed import kernels
from dami_gui.distributed.engine import net_of


@pytest.fixture(scope="module")
def trained():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(400, 7)).astype(np.float32)
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64) + (X[:, 2] > 1)
    model, _ = train_mlp(X[:80], y[:80], 3, seed=1)
    return model, X


def test_probabilities_and_regions_equal_torch(trained):
    model, X = trained
    net = net_of(model)
    logits, masks = kernels.forward(net, X)
    assert np.allclose(kernels.probabilities(logits), predict_proba(model, X), atol=1e-6)
    ref = interpret(model, X, keep_patterns=True)
    assert np.allclose(logits, ref.logits, atol=1e-5)
    bits = np.packbits(np.concatenate(masks, axis=1).astype(bool), axis=1)
    assert np.array_equal(bits, ref.patterns)


def test_local_models_and_dp_dx_equal_torch(trained):
    model, X = trained
    net = net_of(model)
    ref = interpret(model, X)
    _, masks = kernels.forward(net, X)
    A = kernels.local_models(net, masks)
    assert np.abs(A - ref.A).max() < 1e-5
    P = predict_proba(model, X)
    J_torch = ProbabilityJacobian(torch.from_numpy(ref.A), torch.from_numpy(P)).materialize().X
    J = kernels.represent(net, X)
    assert J.shape == (X.shape[0], 3 * 7)
    assert np.abs(J - J_torch.numpy()).max() < 1e-5
    # chunk by chunk gives the same rows
    joined = np.concatenate([V for _, _, V in kernels.chunks(net, X)])
    assert np.array_equal(joined, J)


def test_an_untrained_network_with_three_layers_too():
    model = init_model(4, 2, seed=5)
    X = np.random.default_rng(0).normal(size=(50, 4)).astype(np.float32)
    _, masks = kernels.forward(net_of(model), X)
    assert np.abs(kernels.local_models(net_of(model), masks) - interpret(model, X).A).max() < 1e-5


def test_round_off_rule_is_the_cores():
    assert kernels.RELATIVE_ZERO == kcenter.RELATIVE_ZERO


def test_nearest_distances():
    rng = np.random.default_rng(1)
    V, C = rng.normal(size=(30, 4)).astype(np.float32), rng.normal(size=(5, 4)).astype(np.float32)
    d, arg = kernels.nearest(V, np.einsum("ij,ij->i", V, V), C)
    full = ((V[:, None, :] - C[None]) ** 2).sum(-1)
    assert np.array_equal(arg, full.argmin(1))
    assert np.allclose(d, full.min(1), atol=1e-5)
    d0, a0 = kernels.nearest(V, np.ones(30, np.float32), C[:0])
    assert np.isinf(d0).all() and (a0 == -1).all()


def test_the_workers_modules_need_no_torch():
    code = (
        "import sys, dami_gui.distributed.kernels, dami_gui.distributed.tasks, "
        "dami_gui.distributed.features\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_no_rows(trained):
    model, X = trained
    assert kernels.represent(net_of(model), X[:0]).shape == (0, 3 * 7)
