"""A weighted sample that stands for a big pool in k-means around fixed centers.

On a big pool, k-means++ seeding takes one pass over the rows per seed and Lloyd's iterations one
pass each (up to 30): at 1M rows of dp/dx (2 GB) that is minutes on one thread. A *lightweight
coreset* (Bachem, Lucic and Krause, "Scalable k-Means Clustering via Lightweight Coresets",
KDD 2018) replaces the pool by m rows drawn i.i.d. with probability

    q_i = 1/2 * 1/N + 1/2 * d_i^2 / sum_j d_j^2,

where d_i is row i's distance to the nearest fixed center (their construction uses the distance
to the data's mean; here the labeled rows are the centers every group is formed against), each
weighted 1 / (m q_i). For every set of centers the weighted cost of the sample is an unbiased
estimate of the pool's, and with m = O(d k log k / eps^2) it is within 1 +- eps of it with high
probability; the d^2 half puts the draws where the uncovered mass is, the uniform half keeps
every region represented. k-means++ seeding (D² draws, each weighted) and Lloyd's iterations then
run on the m rows; the caller refines on the whole pool (see :mod:`dami_gui.core.geometry.kmeans`).

This module holds the three steps that differ from the exact algorithm: one fused pass for the
squared norms and the distances to the fixed centers, the draw, and the weighted D² seeding.
"""

from __future__ import annotations

import numpy as np
import torch

from dami_gui.core.geometry.kcenter import CENTER_BLOCK, RELATIVE_ZERO
from dami_gui.core.geometry.points import Points
from dami_gui.core.progress import Reporter


def fixed_distances(
    points: Points, centers: np.ndarray, reporter: Reporter
) -> tuple[torch.Tensor, torch.Tensor]:
    """|x_i|^2 and the squared distance of every row to its nearest fixed center (inf when there
    is none), in one pass over the rows (each block of dp/dx is formed once for both).

    Per block of centers only the nearest one's distance is formed (``|c|^2 - 2 x.c`` in one
    fused product, its minimum, then ``+ |x|^2``), and it counts as 0 when it is round-off of
    the expanded form (below :data:`RELATIVE_ZERO` of ``|x|^2 + |c|^2``), as in K-Center.
    """
    n, device = points.n, points.device
    sq = torch.empty(n, dtype=torch.float32, device=device)
    min_sq = torch.full((n,), float("inf"), device=device)
    rows = torch.as_tensor(np.asarray(centers, dtype=np.int64), device=device)
    C = points.vectors(rows) if rows.numel() else None
    csq = _sq(C) if C is not None else torch.empty(0, device=device)
    cblock = max(1, min(rows.numel(), CENTER_BLOCK))
    step = points.block_rows(cblock if C is not None else 0)
    for r0 in range(0, n, step):
        reporter.check()
        r1 = min(n, r0 + step)
        V = points.block(r0, r1)
        row_sq = sq[r0:r1]
        row_sq[:] = _sq(V)
        if C is not None:
            for c0 in range(0, rows.numel(), cblock):
                c1 = min(rows.numel(), c0 + cblock)
                part, arg = torch.addmm(csq[None, c0:c1], V, C[c0:c1].T, alpha=-2.0).min(1)
                d = part.add_(row_sq)
                d.masked_fill_(d <= RELATIVE_ZERO * (row_sq + csq[c0:c1][arg]), 0.0)
                torch.minimum(min_sq[r0:r1], d, out=min_sq[r0:r1])
        reporter(None, r1 / n)
    if C is not None:
        min_sq[rows] = 0.0  # a center is at distance 0 from itself, whatever the round-off
    points.keep_sq_norms(sq)
    return sq, min_sq


def _sq(V: torch.Tensor) -> torch.Tensor:
    """|v|^2 per row (a norm kernel: an order of magnitude faster than einsum on one thread)."""
    norms: torch.Tensor = torch.linalg.vector_norm(V, dim=1)
    return norms.square_()


def draw(
    min_sq: torch.Tensor, size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``size`` i.i.d. draws with probability q_i (see module); the distinct rows drawn (sorted)
    and their weights (times drawn / (size q_i)), whose sum estimates the number of rows.

    With no fixed center (inf everywhere) or no distance left (every row on a center), q is
    uniform.
    """
    n = min_sq.numel()
    d2 = min_sq.to(torch.float64).cpu().numpy()
    total = float(d2.sum()) if np.isfinite(d2).all() else 0.0
    q = np.full(n, 1.0 / n)
    if total > 0.0:
        q = 0.5 * q + 0.5 * d2 / total
    rows, times = np.unique(rng.choice(n, size=size, p=q), return_counts=True)
    return rows, times / (size * q[rows])


def weighted_d2_seeding(
    sample: Points,
    fixed_sq: torch.Tensor,
    weights: torch.Tensor,
    open_mask: torch.Tensor,
    k: int,
    rng: np.random.Generator,
) -> np.ndarray | None:
    """k-means++ on weighted rows: ``k`` open rows of ``sample``, each drawn with probability
    proportional to its weight times its squared distance to the nearest center (the fixed ones,
    ``fixed_sq``, then those drawn before); with no fixed center the first draw is by weight.

    One pass of dot products over the sample per draw, as :func:`k_center_greedy` with
    ``rule="d2"``. Returns the drawn rows (indices into ``sample``), or None when the open rows
    run out of distance before ``k`` draws (they all duplicate a center): the caller then turns
    to the exact algorithm and its tie rule.
    """
    sq = sample.sq_norms()
    min_sq = fixed_sq.clone()
    open_mask = open_mask.clone()
    dot = torch.empty_like(sq)
    picks: list[int] = []
    w = weights.to(torch.float64).cpu().numpy()
    for _ in range(k):
        if not picks and not torch.isfinite(min_sq).any():
            mass = np.where(open_mask.cpu().numpy(), w, 0.0)
        else:
            mass = w * torch.where(open_mask, min_sq, 0.0).to(torch.float64).cpu().numpy()
        cumulative = np.cumsum(mass)
        if not cumulative.size or cumulative[-1] <= 0.0:
            return None
        row = int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))
        row = min(row, cumulative.size - 1)
        picks.append(row)
        open_mask[row] = False
        v = sample.vectors(torch.tensor([row], device=sq.device))[0]
        d = sample.dots(v, dot).mul_(-2.0).add_(sq).add_(sq[row])
        d.masked_fill_(d <= RELATIVE_ZERO * (sq + sq[row]), 0.0)
        d[row] = 0.0
        torch.minimum(min_sq, d, out=min_sq)
    return np.asarray(picks, dtype=np.int64)
