"""The numbers a worker computes, in plain numpy: no torch on the workers.

The trained MLP travels to the workers as its weights (:class:`Net`, numpy arrays), and every
quantity the in-memory engine takes from torch is formed here from them, chunk by chunk:

* the logits and the activation masks (the row's linear region);
* the probabilities p (a softmax);
* the local linear model of the logits, ``A(x) = W_L D_{L-1} W_{L-1} ... D_1 W_1`` (as in
  :mod:`dami_gui.core.interpret`, taken from the output side);
* DAMI+'s representation, the local linear model of the probabilities,
  ``J(x) = dp/dx = (diag(p) - p p^T) A(x)`` (as :class:`~dami_gui.core.geometry.points.
  ProbabilityJacobian`: ``p ⊙ (A - p^T A)`` row by row).

``tests/distributed`` checks each against torch (to about 1e-6). A chunk holds about
:data:`CHUNK_FLOATS` floats of A, so a worker's memory is its share of the features plus a few
chunks, whatever the pool's size.

With ``net=None`` the representation is the features themselves (the first batch, when no model
can be trained yet).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

#: Floats of A (rows x classes x features) formed at once on a worker.
CHUNK_FLOATS = 4 * 1024 * 1024

#: A squared distance below this share of |x|^2 + |c|^2 is round-off of the expanded form and
#: counts as 0 (the value of ``dami_gui.core.geometry.kcenter.RELATIVE_ZERO``; a test checks that
#: they agree: importing it would bring torch onto the workers).
RELATIVE_ZERO = 1e-5


@dataclass(frozen=True)
class Net:
    """The ReLU MLP as numpy arrays: ``weights[l]`` is (out, in), ``biases[l]`` (out,)."""

    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]

    @property
    def n_classes(self) -> int:
        return int(self.weights[-1].shape[0])

    @property
    def n_features(self) -> int:
        return int(self.weights[0].shape[1])


def forward(net: Net, X: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Logits (n, C) and the hidden layers' activation masks (n, width) as float32 0/1."""
    h = np.asarray(X, dtype=np.float32)
    masks: list[np.ndarray] = []
    for W, b in zip(net.weights[:-1], net.biases[:-1], strict=True):
        pre = h @ W.T + b
        mask = (pre > 0).astype(np.float32)
        masks.append(mask)
        h = pre * mask
    logits: np.ndarray = h @ net.weights[-1].T + net.biases[-1]
    return logits, masks


def probabilities(logits: np.ndarray) -> np.ndarray:
    """Softmax of the logits, row by row (float32)."""
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: np.ndarray = (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
    return out


def local_models(net: Net, masks: list[np.ndarray]) -> np.ndarray:
    """A(x) (n, C, d) from the masks: ``G = W_L D_{L-1}``, ``G = G W_l D_{l-1}``, ``A = G W_1``.

    Each product is one (n C) x width matrix product (a stacked ``matmul`` over n small
    matrices took 2.2 times as long)."""
    n, C = masks[0].shape[0], net.n_classes
    G = net.weights[-1][None, :, :] * masks[-1][:, None, :]
    for layer in range(len(masks) - 1, 0, -1):
        W = net.weights[layer]
        G = (G.reshape(n * C, W.shape[0]) @ W).reshape(n, C, W.shape[1])
        G *= masks[layer - 1][:, None, :]
    W = net.weights[0]
    A: np.ndarray = (G.reshape(n * C, W.shape[0]) @ W).reshape(n, C, W.shape[1])
    return A


def jacobian(A: np.ndarray, P: np.ndarray) -> np.ndarray:
    """dp/dx = p ⊙ (A - p^T A) per row, flattened (n, C*d)."""
    q = np.einsum("nc,ncd->nd", P, A)
    J = (A - q[:, None, :]) * P[:, :, None]
    return J.reshape(J.shape[0], J.shape[1] * J.shape[2])


def dimension(net: Net | None, n_features: int) -> int:
    """Length of one row's representation."""
    return n_features if net is None else net.n_classes * net.n_features


def chunk_rows(net: Net | None, n_features: int) -> int:
    """Rows per chunk (see :data:`CHUNK_FLOATS`)."""
    if net is None:
        return 65536
    widest = max(max(W.shape[0] for W in net.weights[:-1]), n_features)
    return int(max(256, min(65536, CHUNK_FLOATS // max(net.n_classes * widest, 1))))


def represent(net: Net | None, X: np.ndarray) -> np.ndarray:
    """The rows' representation: dp/dx (see module), or the features when ``net`` is None."""
    if net is None:
        return np.asarray(X, dtype=np.float32)
    logits, masks = forward(net, X)
    return jacobian(local_models(net, masks), probabilities(logits))


def chunks(net: Net | None, X: np.ndarray) -> Iterator[tuple[int, int, np.ndarray]]:
    """(start, stop, representation of rows start..stop) over ``X``, chunk by chunk."""
    step = chunk_rows(net, X.shape[1])
    for start in range(0, X.shape[0], step):
        stop = min(X.shape[0], start + step)
        yield start, stop, represent(net, X[start:stop])


def squared_distances(V: np.ndarray, v_sq: np.ndarray, C: np.ndarray) -> np.ndarray:
    """|v - c|^2 (rows of ``V`` x rows of ``C``), 0 where it is round-off (as in K-Center)."""
    c_sq = np.einsum("ij,ij->i", C, C)
    d = (v_sq[:, None] + c_sq[None, :]) - 2.0 * (V @ C.T)
    d[d <= RELATIVE_ZERO * (v_sq[:, None] + c_sq[None, :])] = 0.0
    return d


def nearest(V: np.ndarray, v_sq: np.ndarray, C: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's squared distance to its nearest row of ``C`` and that row's index (inf, -1 if
    ``C`` is empty)."""
    if C.shape[0] == 0:
        return np.full(V.shape[0], np.inf, np.float32), np.full(V.shape[0], -1, np.int64)
    best = np.full(V.shape[0], np.inf, np.float32)
    arg = np.full(V.shape[0], -1, np.int64)
    block = 1024
    for c0 in range(0, C.shape[0], block):
        d = squared_distances(V, v_sq, C[c0 : c0 + block])
        j = d.argmin(1)
        dj = d[np.arange(d.shape[0]), j]
        better = dj < best
        best[better] = dj[better]
        arg[better] = j[better] + c0
    return best, arg
