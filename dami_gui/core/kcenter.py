"""Greedy K-Center (farthest-first traversal), exact, in blocks with torch.

Keeps for every candidate row the distance δ to its nearest center, starting with the given
centers (the labeled rows); K times takes the candidate with the largest δ, makes it a center and
updates δ with one pass over the N x D representation. Distances are Euclidean, computed as
``|x|^2 - 2 x.c + |c|^2`` so a pick costs one matrix-vector product; no N x N matrix is ever
formed: the initial distances to many centers are taken block by block.

When every remaining candidate has δ = 0 (each one duplicates a center, e.g. an untrained or
collapsed model maps all rows to the same point), the representation carries no more
information; the remaining picks then come from the ``fallback`` representation (by default
the caller's choice, typically the input features) with the same rule, and if that too is
exhausted, uniformly at random with the seed. This is the documented, seeded tie rule.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .errors import ParameterError
from .progress import CancelToken, ProgressCallback, Reporter, as_reporter

#: Floats of an (rows x centers) block when taking initial distances to many centers.
BLOCK_FLOATS = 8 * 1024 * 1024

#: Squared distances below this fraction of |x|^2 + |c|^2 are float32 round-off of the expanded
#: form and count as 0, so exact duplicates tie at 0 as they should.
RELATIVE_ZERO = 1e-5


@dataclass
class KCenterResult:
    """Selected rows in pick order, the δ at pick time, and the final nearest-center assignment.

    ``initial_distance`` is each row's distance to the nearest initial center before any pick
    (inf when there were none); ``assignment`` gives, per row, the index into ``centers`` (initial
    centers first, then picks) of its nearest center after the last pick.
    """

    order: np.ndarray
    pick_distance: np.ndarray
    initial_distance: np.ndarray
    assignment: np.ndarray
    centers: np.ndarray
    used_fallback: bool
    final_distance: np.ndarray | None = None


def _as_tensor(X: np.ndarray | torch.Tensor, device: torch.device | None) -> torch.Tensor:
    t = torch.as_tensor(X, dtype=torch.float32)
    return t.to(device) if device is not None else t


def _block_sq_distances(
    x: torch.Tensor,
    xsq: torch.Tensor,
    c: torch.Tensor,
    csq: torch.Tensor,
    xw: torch.Tensor | None = None,
    cw: torch.Tensor | None = None,
) -> torch.Tensor:
    """Squared distances between a block of rows and a block of centers (rows x centers).

    With weights, between the scaled points ``w x``: ``xsq``/``csq`` are then ``w^2 |x|^2``.
    """
    scale = xsq[:, None] + csq[None, :]
    dot = x @ c.T
    if xw is not None:
        dot = dot * xw[:, None] * cw[None, :]
    d = scale - 2.0 * dot
    return torch.where(d <= RELATIVE_ZERO * scale, torch.zeros_like(d), d)


def _row_norms_sq(X: torch.Tensor) -> torch.Tensor:
    """|x|^2 per row, in chunks: ``(X * X).sum(1)`` would copy all of X (2 GB at 1M x 500)."""
    out = torch.empty(X.shape[0], dtype=X.dtype, device=X.device)
    step = max(1, BLOCK_FLOATS // max(X.shape[1], 1))
    for start in range(0, X.shape[0], step):
        block = X[start : start + step]
        out[start : start + step] = torch.einsum("ij,ij->i", block, block)
    return out


class _Distances:
    """Nearest-center distances and assignment over one representation.

    With ``weights``, the representation is the rows scaled by them (``w_i x_i``), computed
    from the unscaled ``X`` so that it is never copied.

    One pick is one matrix-vector product over ``X`` plus a few in-place vector operations on
    preallocated buffers. On the CPU the product goes through numpy's BLAS: for this tall, thin
    float32 product it streams ``X`` at the machine's read bandwidth, where torch's
    single-threaded ``mv`` ran 2-4 times slower (measured in ``benchmarks/speed.py``).
    """

    def __init__(self, X: torch.Tensor, weights: torch.Tensor | None = None) -> None:
        self.X = X
        self.w = weights
        self.sq = _row_norms_sq(X) if weights is None else _row_norms_sq(X) * weights * weights
        n = X.shape[0]
        self.min_sq = torch.full((n,), float("inf"), device=X.device)
        self.nearest = torch.full((n,), -1, dtype=torch.long, device=X.device)
        self._dot = torch.empty(n, dtype=X.dtype, device=X.device)
        self._scale = torch.empty(n, dtype=X.dtype, device=X.device)
        self._better = torch.empty(n, dtype=torch.bool, device=X.device)
        on_cpu = X.device.type == "cpu" and X.is_contiguous()
        self._X_np = X.numpy() if on_cpu else None
        self._dot_np = self._dot.numpy() if on_cpu else None

    def add_centers(self, rows: torch.Tensor, first_index: int, reporter: Reporter) -> None:
        """Fold many centers in at once, block by block over rows and centers."""
        if rows.numel() == 0:
            return
        C = self.X[rows]
        csq = self.sq[rows]
        n = self.X.shape[0]
        cblock = max(1, min(rows.numel(), 4096, BLOCK_FLOATS))
        rblock = max(1, BLOCK_FLOATS // cblock)
        for r0 in range(0, n, rblock):
            reporter.check()
            xr = self.X[r0 : r0 + rblock]
            xsq = self.sq[r0 : r0 + rblock]
            xw = None if self.w is None else self.w[r0 : r0 + rblock]
            for c0 in range(0, rows.numel(), cblock):
                cs = slice(c0, c0 + cblock)
                cw = None if self.w is None else self.w[rows[cs]]
                d = _block_sq_distances(xr, xsq, C[cs], csq[cs], xw, cw)
                best, arg = d.min(1)
                better = best < self.min_sq[r0 : r0 + rblock]
                self.min_sq[r0 : r0 + rblock] = torch.where(
                    better, best, self.min_sq[r0 : r0 + rblock]
                )
                self.nearest[r0 : r0 + rblock] = torch.where(
                    better, arg + first_index + c0, self.nearest[r0 : r0 + rblock]
                )
            reporter(None, min(1.0, (r0 + rblock) / n))

    def _dots(self, row: int) -> torch.Tensor:
        """x_i . x_row for every row i, in the reused buffer."""
        if self._X_np is not None:
            np.dot(self._X_np, self._X_np[row], out=self._dot_np)
        else:
            torch.mv(self.X, self.X[row], out=self._dot)
        return self._dot

    def add_center(self, row: int, index: int) -> None:
        d = self._dots(row)
        if self.w is not None:
            d.mul_(self.w).mul_(self.w[row])
        scale = torch.add(self.sq, self.sq[row], out=self._scale)
        d.mul_(-2.0).add_(scale)  # |x|^2 + |c|^2 - 2 x.c
        d.masked_fill_(d <= scale.mul_(RELATIVE_ZERO), 0.0)
        d[row] = 0.0
        better = torch.lt(d, self.min_sq, out=self._better)
        torch.minimum(self.min_sq, d, out=self.min_sq)
        self.nearest.masked_fill_(better, index)


def k_center_greedy(
    X: np.ndarray | torch.Tensor,
    centers: np.ndarray,
    k: int,
    candidates: np.ndarray | None = None,
    seed: int = 0,
    fallback: np.ndarray | torch.Tensor | None = None,
    device: torch.device | None = None,
    progress: ProgressCallback | Reporter | None = None,
    cancel: CancelToken | None = None,
    weights: np.ndarray | torch.Tensor | None = None,
) -> KCenterResult:
    """Pick ``min(k, #candidates)`` rows of ``X`` by farthest-first traversal.

    ``centers``: row indices that start as centers (the labeled rows). ``candidates``: bool mask
    of rows that may be picked (default: every row that is not a center). With no initial center,
    the first pick is a seeded random candidate, as in the usual greedy K-Center. ``weights``: a
    non-negative factor per row; distances are then taken between the scaled rows ``w_i x_i``.
    """
    reporter = as_reporter(progress, cancel)
    Xt = _as_tensor(X, device)
    n = Xt.shape[0]
    if not isinstance(k, int | np.integer) or k < 0:
        raise ParameterError("k", "an integer >= 0", k)
    centers = np.asarray(centers, dtype=np.int64).reshape(-1)
    if centers.size and (centers.min() < 0 or centers.max() >= n):
        raise ParameterError("centers", f"row indices in 0..{n - 1}", centers)
    if candidates is None:
        candidates = np.ones(n, dtype=bool)
        candidates[centers] = False
    candidates = np.asarray(candidates, dtype=bool)
    if candidates.shape != (n,):
        raise ParameterError("candidates", f"a boolean mask of {n} rows", candidates.shape)
    rng = np.random.default_rng(seed)
    k = int(min(k, candidates.sum()))

    wt = None if weights is None else _as_tensor(weights, device)
    dist = _Distances(Xt, wt)
    dist.add_centers(torch.from_numpy(centers).to(Xt.device), 0, reporter.sub(0.0, 0.3))
    initial = dist.min_sq.sqrt().cpu().numpy().astype(np.float64)

    open_mask = torch.from_numpy(candidates.copy()).to(Xt.device)
    order: list[int] = []
    picked_distance: list[float] = []
    fallback_dist: _Distances | None = None
    used_fallback = False
    center_rows = list(centers.tolist())
    for i in range(k):
        reporter.check()
        if not center_rows:
            open_rows = np.flatnonzero(candidates)
            row = int(rng.choice(open_rows))
            gap = float("inf")
        else:
            gap_sq, arg = torch.where(open_mask, dist.min_sq, -1.0).max(0)
            row, gap = int(arg), float(gap_sq.sqrt())
            if gap_sq <= 0.0:
                used_fallback = True
                if fallback_dist is None and fallback is not None:
                    fallback_dist = _Distances(_as_tensor(fallback, device))
                    fallback_dist.add_centers(
                        torch.tensor(center_rows, device=Xt.device), 0, Reporter()
                    )
                row = _fallback_pick(fallback_dist, open_mask, rng)
        order.append(row)
        picked_distance.append(gap)
        dist.add_center(row, len(center_rows))
        if fallback_dist is not None:
            fallback_dist.add_center(row, len(center_rows))
        center_rows.append(row)
        open_mask[row] = False
        reporter(None, 0.3 + 0.7 * (i + 1) / max(k, 1))
    return KCenterResult(
        order=np.asarray(order, dtype=np.int64),
        pick_distance=np.asarray(picked_distance, dtype=np.float64),
        initial_distance=initial,
        assignment=dist.nearest.cpu().numpy(),
        centers=np.asarray(center_rows, dtype=np.int64),
        used_fallback=used_fallback,
        final_distance=dist.min_sq.sqrt().cpu().numpy(),
    )


def _fallback_pick(
    fallback: _Distances | None, open_mask: torch.Tensor, rng: np.random.Generator
) -> int:
    """Farthest open row in the fallback representation, or a seeded random one if all tie at 0."""
    if fallback is not None:
        masked = torch.where(open_mask, fallback.min_sq, torch.full_like(fallback.min_sq, -1.0))
        gap_sq, arg = masked.max(0)
        if gap_sq > 0.0:
            return int(arg)
    open_rows = torch.nonzero(open_mask).flatten().cpu().numpy()
    return int(rng.choice(open_rows))


def nearest_center(
    X: np.ndarray | torch.Tensor, centers: np.ndarray, device: torch.device | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Index into ``centers`` of each row's nearest center, and the distance to it."""
    Xt = _as_tensor(X, device)
    dist = _Distances(Xt)
    dist.add_centers(
        torch.as_tensor(np.asarray(centers, dtype=np.int64), device=Xt.device), 0, Reporter()
    )
    return dist.nearest.cpu().numpy(), dist.min_sq.sqrt().cpu().numpy()
