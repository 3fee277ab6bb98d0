"""The point sets K-Center and k-means run on, given implicitly so nothing N x D is copied.

Both algorithms need only four things of their points: the squared norms, the explicit vectors
of a few rows (the centers), the dot products of a block of rows with a few vectors, and the dot
products of every row with one vector (one K-Center pick). :class:`Matrix` serves them from a
matrix, optionally with one weight per row (the points are then ``w_i x_i``, never formed);
:class:`ProbabilityJacobian` from the local linear models of the logits and the probabilities,
forming ``dp/dx`` one block of rows at a time.

All blocks hold about :data:`BLOCK_FLOATS` floats, so memory stays that of the inputs whatever
the number of rows.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import torch

#: Floats in one block of rows (or rows x centers) when a pass is taken in blocks.
BLOCK_FLOATS = 8 * 1024 * 1024


def as_tensor(X: np.ndarray | torch.Tensor, device: torch.device | None) -> torch.Tensor:
    """``X`` as a float32 tensor on ``device`` (None: the CPU), sharing memory when it can."""
    t = torch.as_tensor(X, dtype=torch.float32)
    return t.to(device) if device is not None else t


class Points:
    """Rows of a representation, seen through what K-Center and k-means need of them."""

    n: int
    dim: int
    device: torch.device

    _sq: torch.Tensor | None = None

    def sq_norms(self) -> torch.Tensor:
        """|p_i|^2 for every row (N,); one pass, then kept (K-Center's seeding, k-means and the
        scores all ask for it)."""
        if self._sq is None:
            self._sq = self._sq_norms()
        return self._sq

    def keep_sq_norms(self, sq: torch.Tensor) -> None:
        """Remember |p_i|^2 taken elsewhere (in a pass that needed the rows anyway), so that
        :meth:`sq_norms` does not take a pass of its own."""
        self._sq = sq

    def _sq_norms(self) -> torch.Tensor:
        out = torch.empty(self.n, dtype=torch.float32, device=self.device)
        step = self.block_rows(0)
        for start in range(0, self.n, step):
            stop = min(self.n, start + step)
            block = self.block(start, stop)
            out[start:stop] = torch.einsum("ij,ij->i", block, block)
        return out

    def vectors(self, rows: torch.Tensor) -> torch.Tensor:
        """The explicit points of ``rows`` (m, dim)."""
        raise NotImplementedError

    def block(self, start: int, stop: int) -> torch.Tensor:
        """The explicit points of rows start..stop (a view where it can be)."""
        raise NotImplementedError

    def block_dots(self, start: int, stop: int, V: torch.Tensor) -> torch.Tensor:
        """p_i . v_j for rows start..stop and the rows of ``V`` (stop - start, m)."""
        return self.block(start, stop) @ V.T

    def dots(self, v: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """p_i . v for every row, written into ``out`` (N,) and returned."""
        step = self.block_rows(1)
        for start in range(0, self.n, step):
            stop = min(self.n, start + step)
            out[start:stop] = self.block_dots(start, stop, v[None, :])[:, 0]
        return out

    def block_rows(self, extra_columns: int) -> int:
        """Rows per block when each row also carries ``extra_columns`` floats of results."""
        return max(1, BLOCK_FLOATS // max(self.dim + extra_columns, 1))


class Matrix(Points):
    """The rows of ``X`` (N, D), each scaled by ``weights`` when given (the scaled copy is never
    made). On the CPU, one pick's product is numpy's ``einsum``: for this tall, thin float32
    product on one thread its vector loops stream ``X`` 1.2-2.7 times slower than a plain sum
    over it, where OpenBLAS's ``sgemv`` took 2-3 times and torch's ``mv`` 3-5 times (measured
    on the development machine; see docs/benchmarks.md)."""

    def __init__(self, X: torch.Tensor, weights: torch.Tensor | None = None) -> None:
        self.X = X
        self.w = weights
        self.n, self.dim = X.shape
        self.device = X.device
        on_cpu = X.device.type == "cpu" and X.is_contiguous()
        self._X_np = X.numpy() if on_cpu else None

    def _sq_norms(self) -> torch.Tensor:
        out = torch.empty(self.n, dtype=self.X.dtype, device=self.device)
        step = self.block_rows(0)
        for start in range(0, self.n, step):
            block = self.X[start : start + step]
            out[start : start + step] = torch.einsum("ij,ij->i", block, block)
        return out if self.w is None else out * self.w * self.w  # |w x|^2 without forming w x

    def vectors(self, rows: torch.Tensor) -> torch.Tensor:
        V = self.X[rows]
        return V if self.w is None else V * self.w[rows, None]

    def block(self, start: int, stop: int) -> torch.Tensor:
        V = self.X[start:stop]
        return V if self.w is None else V * self.w[start:stop, None]

    def block_dots(self, start: int, stop: int, V: torch.Tensor) -> torch.Tensor:
        dot = self.X[start:stop] @ V.T
        return dot if self.w is None else dot * self.w[start:stop, None]

    def dots(self, v: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        if self._X_np is not None and out.device.type == "cpu" and out.is_contiguous():
            np.einsum("ij,j->i", self._X_np, v.contiguous().numpy(), out=out.numpy())
        else:
            torch.mv(self.X, v, out=out)
        return out if self.w is None else out.mul_(self.w)


class ModelBlocks(Protocol):
    """Local linear models A(x) (N, C, d) served a block of rows at a time, kept or formed on
    demand (:class:`dami_gui.core.interpret.LocalModels`)."""

    n: int
    classes: int
    features: int
    device: torch.device

    def block(self, start: int, stop: int) -> torch.Tensor:
        """A of rows start..stop (rows, C, d); valid until the next call."""
        ...

    def rows(self, rows: torch.Tensor) -> torch.Tensor:
        """A of the given rows (m, C, d)."""
        ...


class KeptModels:
    """:class:`ModelBlocks` over an A that is kept whole (views, no copies)."""

    def __init__(self, A: torch.Tensor) -> None:
        self.A = A
        self.n, self.classes, self.features = A.shape
        self.device = A.device

    def block(self, start: int, stop: int) -> torch.Tensor:
        return self.A[start:stop]

    def rows(self, rows: torch.Tensor) -> torch.Tensor:
        return self.A[rows]


class LocalModelPoints(Points):
    """vec(A(x)) per row (plain DAMI's representation) from :class:`ModelBlocks`, a block at a
    time: the same blocks, products and norms as :class:`Matrix` on the flattened A, so the
    same numbers, without the N x C*d array."""

    def __init__(self, models: ModelBlocks) -> None:
        self.models = models
        self.n = models.n
        self.dim = models.classes * models.features
        self.device = models.device

    def vectors(self, rows: torch.Tensor) -> torch.Tensor:
        return self.models.rows(rows).reshape(-1, self.dim)

    def block(self, start: int, stop: int) -> torch.Tensor:
        return self.models.block(start, stop).reshape(stop - start, self.dim)


class ProbabilityJacobian(Points):
    """J(x) = dp/dx = (diag(p) - p p^T) A(x), flattened: the local linear model of the predicted
    probabilities, from the logits' ``A`` (N, C, d) and the probabilities ``P`` (N, C).

    Row by row, J = p ⊙ (A - q) with q = p^T A (the probability-weighted mean class row), so a
    block of J costs two passes over the same block of A; q is taken per block too, so nothing
    N x d or N x C x d is stored besides A itself. Blocks are formed in one reused buffer (a
    fresh 32 MB tensor per block costs its page faults again, about as much as forming it):
    a block is valid until the next call to :meth:`block`.

    One row's products with one vector v = vec(V) (:meth:`dots`) need no J at all: with
    M = A V^T (C x C), J . v = sum_c p_c M_cc - p^T M p, one product over A with C columns.

    ``A``: the kept A, or :class:`ModelBlocks` that form it block by block (big pools).
    """

    def __init__(self, A: torch.Tensor | ModelBlocks, P: torch.Tensor) -> None:
        self.A = KeptModels(A) if isinstance(A, torch.Tensor) else A
        self.P = P
        self.n, self.classes, self.features = self.A.n, self.A.classes, self.A.features
        self.dim = self.classes * self.features
        self.device = self.A.device
        self._buffer: torch.Tensor | None = None

    @staticmethod
    def _jacobian(
        A: torch.Tensor, P: torch.Tensor, out: torch.Tensor | None = None
    ) -> torch.Tensor:
        """p ⊙ (A - q) per row, flattened (rows, C*d), with q = p^T A."""
        q = torch.einsum("nc,ncd->nd", P, A)
        J = torch.sub(A, q[:, None, :], out=out) if out is not None else A - q[:, None, :]
        J *= P[:, :, None]
        return J.reshape(J.shape[0], -1)

    def vectors(self, rows: torch.Tensor) -> torch.Tensor:
        return self._jacobian(self.A.rows(rows), self.P[rows])

    def block(self, start: int, stop: int) -> torch.Tensor:
        rows = stop - start
        if self._buffer is None or self._buffer.shape[0] < rows:
            self._buffer = torch.empty(
                (max(rows, self.block_rows(0)), self.classes, self.features),
                dtype=self.P.dtype,
                device=self.device,
            )
        return self._jacobian(self.A.block(start, stop), self.P[start:stop], self._buffer[:rows])

    def dots(self, v: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        V = v.reshape(self.classes, self.features)
        step = self.block_rows(self.classes)
        for start in range(0, self.n, step):
            stop = min(self.n, start + step)
            A, P = self.A.block(start, stop), self.P[start:stop]
            M = (A.reshape(-1, self.features) @ V.T).reshape(stop - start, self.classes, -1)
            own = torch.einsum("nc,ncc->n", P, M)  # sum_c p_c (A_c . v_c)
            out[start:stop] = own - torch.einsum("nc,nck,nk->n", P, M, P)
        return out

    def materialize(self) -> Matrix:
        """J as an explicit (N, C*d) matrix (as much memory again as A), for speed: every pass
        is then one product over J instead of forming it block by block each time."""
        J = torch.empty(self.n, self.dim, dtype=self.P.dtype, device=self.device)
        step = self.block_rows(0)
        for start in range(0, self.n, step):
            stop = min(self.n, start + step)
            J[start:stop] = self.block(start, stop)
        self._buffer = None
        return Matrix(J)
