"""Implicit point sets: every view of them equals the explicit matrix they stand for."""

import numpy as np
import pytest
import torch

from dami_gui.core.geometry import points
from dami_gui.core.geometry.kcenter import k_center_greedy
from dami_gui.core.geometry.kmeans import central_rows
from dami_gui.core.geometry.points import Matrix, ProbabilityJacobian
from dami_gui.core.interpret import interpret
from dami_gui.core.model import MLPConfig, train_mlp


def explicit_jacobian(A, P):
    """(diag(p) - p p^T) A(x) per row, flattened, in float64."""
    A, P = A.astype(np.float64), P.astype(np.float64)
    M = np.einsum("nc,ck->nck", P, np.eye(P.shape[1])) - P[:, :, None] * P[:, None, :]
    return np.einsum("nck,nkd->ncd", M, A).reshape(len(A), -1)


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 150)
    X = (rng.normal(size=(150, 4)) + 2.0 * np.eye(3, 4)[y]).astype(np.float32)
    model, _ = train_mlp(X[:30], y[:30], 3, MLPConfig(hidden=(12, 12), min_steps=60), 0)
    A = interpret(model, X).A
    with torch.no_grad():
        P = torch.softmax(model(torch.from_numpy(X)), 1).numpy()
    return model, X, A, P


def test_it_is_the_jacobian_of_the_predicted_probabilities(fitted):
    model, X, A, P = fitted
    J = ProbabilityJacobian(torch.from_numpy(A), torch.from_numpy(P))
    for row in (0, 17, 99):
        x = torch.from_numpy(X[row])
        auto = torch.autograd.functional.jacobian(lambda v: torch.softmax(model(v[None]), 1)[0], x)
        got = J.vectors(torch.tensor([row]))[0].reshape(3, 4)
        np.testing.assert_allclose(got.numpy(), auto.numpy(), rtol=1e-4, atol=1e-6)


def test_every_view_equals_the_explicit_matrix(fitted, monkeypatch):
    monkeypatch.setattr(points, "BLOCK_FLOATS", 50)  # many blocks
    _, _, A, P = fitted
    E = explicit_jacobian(A, P)
    J = ProbabilityJacobian(torch.from_numpy(A), torch.from_numpy(P))
    np.testing.assert_allclose(J.sq_norms().numpy(), (E * E).sum(1), rtol=1e-4, atol=1e-7)
    V = torch.from_numpy(E[[3, 8]].astype(np.float32))
    np.testing.assert_allclose(J.block_dots(10, 40, V).numpy(), E[10:40] @ E[[3, 8]].T, atol=1e-6)
    out = torch.empty(len(E))
    np.testing.assert_allclose(J.dots(V[0], out).numpy(), E @ E[3], atol=1e-6)
    w = np.linspace(0.1, 1, len(E)).astype(np.float32)
    M = Matrix(torch.from_numpy(E.astype(np.float32)), torch.from_numpy(w))
    np.testing.assert_allclose(M.vectors(torch.tensor([5]))[0].numpy(), w[5] * E[5], rtol=1e-5)
    np.testing.assert_allclose(M.dots(V[0], out).numpy(), w * (E @ E[3]), rtol=1e-4, atol=1e-7)


def test_k_center_and_central_rows_see_the_same_points_as_the_explicit_matrix(fitted):
    _, _, A, P = fitted
    E = explicit_jacobian(A, P).astype(np.float32)
    J = ProbabilityJacobian(torch.from_numpy(A), torch.from_numpy(P))
    labeled = np.arange(0, 150, 15)
    a, b = k_center_greedy(J, labeled, 8), k_center_greedy(E, labeled, 8)
    np.testing.assert_array_equal(a.order, b.order)
    np.testing.assert_allclose(a.initial_distance, b.initial_distance, rtol=1e-3, atol=1e-4)
    a, b = central_rows(J, labeled, 5, seed=2), central_rows(E, labeled, 5, seed=2)
    np.testing.assert_array_equal(a.order, b.order)


def test_materialized_jacobian_is_the_same_points(fitted):
    _, _, A, P = fitted
    J = ProbabilityJacobian(torch.from_numpy(A), torch.from_numpy(P))
    M = J.materialize()
    np.testing.assert_allclose(M.X.numpy(), explicit_jacobian(A, P), atol=1e-6)
    labeled = np.arange(0, 150, 10)
    np.testing.assert_array_equal(
        central_rows(M, labeled, 6, seed=1).order, central_rows(J, labeled, 6, seed=1).order
    )


def test_dots_without_forming_J_equal_the_explicit_formula_in_float64(monkeypatch):
    """J . v = sum_c p_c (A_c . v_c) - p^T (A V^T) p, checked against (diag(p) - p p^T) A."""
    monkeypatch.setattr(points, "BLOCK_FLOATS", 700)  # several blocks, one partial
    rng = np.random.default_rng(5)
    A = rng.normal(size=(257, 4, 6)).astype(np.float32)
    P = rng.dirichlet(np.full(4, 0.5), 257).astype(np.float32)
    E = explicit_jacobian(A, P)
    J = ProbabilityJacobian(torch.from_numpy(A), torch.from_numpy(P))
    for v in (rng.normal(size=24), E[11], np.zeros(24)):
        got = J.dots(torch.from_numpy(v.astype(np.float32)), torch.empty(257)).numpy()
        np.testing.assert_allclose(got, E @ v.astype(np.float32), rtol=1e-5, atol=1e-6)


def test_blocks_formed_in_the_reused_buffer_are_the_explicit_rows(monkeypatch):
    monkeypatch.setattr(points, "BLOCK_FLOATS", 100)
    rng = np.random.default_rng(6)
    A = rng.normal(size=(50, 3, 5)).astype(np.float32)
    P = rng.dirichlet(np.ones(3), 50).astype(np.float32)
    E = explicit_jacobian(A, P)
    J = ProbabilityJacobian(torch.from_numpy(A), torch.from_numpy(P))
    for start, stop in [(0, 6), (6, 12), (40, 50), (3, 4)]:
        np.testing.assert_allclose(J.block(start, stop).numpy(), E[start:stop], atol=1e-6)
    np.testing.assert_allclose(J.materialize().X.numpy()[7], E[7], atol=1e-6)
