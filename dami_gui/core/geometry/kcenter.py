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

from dami_gui.core.errors import ParameterError
from dami_gui.core.geometry.points import LocalModelPoints, Matrix, Points, as_tensor
from dami_gui.core.progress import CancelToken, ProgressCallback, Reporter, as_reporter
from dami_gui.core.validation import check_int

#: Squared distances below this fraction of |x|^2 + |c|^2 are float32 round-off of the expanded
#: form and count as 0, so exact duplicates tie at 0 as they should.
RELATIVE_ZERO = 1e-5

#: Centers per block when taking the initial distances to many centers.
CENTER_BLOCK = 4096


@dataclass
class KCenterResult:
    """Selected rows in pick order, the δ at pick time, and the final nearest-center assignment.

    ``initial_distance`` is each row's distance to the nearest initial center before any pick
    (inf when there were none); ``assignment`` gives, per row, the index into ``centers`` (initial
    centers first, then picks) of its nearest center after the last pick, and ``final_distance``
    the distance to that center.
    """

    order: np.ndarray
    pick_distance: np.ndarray
    initial_distance: np.ndarray
    assignment: np.ndarray
    centers: np.ndarray
    used_fallback: bool
    final_distance: np.ndarray
    #: Per pick, the rule that took it: :data:`BY_RULE` (the representation told the row apart),
    #: :data:`BY_FALLBACK` (the fallback representation did) or :data:`BY_CHANCE` (neither: a
    #: seeded random open row, at distance 0 (up to rounding) from a center in both, or the first
    #: pick when there is no center at all).
    picked_by: tuple[str, ...] = ()


#: How a pick was taken (:attr:`KCenterResult.picked_by`).
BY_RULE, BY_FALLBACK, BY_CHANCE = "rule", "fallback", "chance"


def squared_distances(
    dot: torch.Tensor, row_sq: torch.Tensor, center_sq: torch.Tensor
) -> torch.Tensor:
    """|x|^2 + |c|^2 - 2 x.c from the dot products (rows x centers), round-off clipped to 0."""
    scale = row_sq[:, None] + center_sq[None, :]
    d = scale - 2.0 * dot
    return torch.where(d <= RELATIVE_ZERO * scale, torch.zeros_like(d), d)


def as_points(
    X: np.ndarray | torch.Tensor | Points,
    device: torch.device | None,
    weights: np.ndarray | torch.Tensor | None = None,
) -> Points:
    """``X`` as :class:`Points` (a matrix, scaled per row by ``weights`` when given)."""
    if isinstance(X, Points):
        if weights is not None:
            raise ParameterError(
                "weights", "None when the points are given as Points", type(weights).__name__
            )
        return X
    w = None if weights is None else as_tensor(weights, device)
    return Matrix(as_tensor(X, device), w)


class _Distances:
    """Nearest-center distances and assignment over one set of points.

    One pick is one pass of dot products over the points (:meth:`Points.dots`) plus a few
    in-place vector operations on preallocated buffers.
    """

    def __init__(self, points: Points) -> None:
        self.points = points
        self.sq = points.sq_norms()
        n, device = points.n, points.device
        self.min_sq = torch.full((n,), float("inf"), device=device)
        self.nearest = torch.full((n,), -1, dtype=torch.long, device=device)
        self._dot = torch.empty(n, dtype=self.sq.dtype, device=device)
        self._scale = torch.empty(n, dtype=self.sq.dtype, device=device)
        self._better = torch.empty(n, dtype=torch.bool, device=device)

    def add_centers(self, rows: torch.Tensor, first_index: int, reporter: Reporter) -> None:
        """Fold many centers in at once, block by block over rows and centers."""
        if rows.numel() == 0:
            return
        C = self.points.vectors(rows)
        csq = self.sq[rows]
        n = self.points.n
        cblock = max(1, min(rows.numel(), CENTER_BLOCK))
        rblock = self.points.block_rows(cblock)
        for r0 in range(0, n, rblock):
            reporter.check()
            r1 = min(n, r0 + rblock)
            for c0 in range(0, rows.numel(), cblock):
                cs = slice(c0, c0 + cblock)
                dot = self.points.block_dots(r0, r1, C[cs])
                d = squared_distances(dot, self.sq[r0:r1], csq[cs])
                best, arg = d.min(1)
                better = best < self.min_sq[r0:r1]
                self.min_sq[r0:r1] = torch.where(better, best, self.min_sq[r0:r1])
                self.nearest[r0:r1] = torch.where(
                    better, arg + first_index + c0, self.nearest[r0:r1]
                )
            reporter(None, min(1.0, r1 / n))

    def add_center(self, row: int, index: int) -> None:
        v = self.points.vectors(torch.tensor([row], device=self.points.device))[0]
        d = self.points.dots(v, self._dot)
        scale = torch.add(self.sq, self.sq[row], out=self._scale)
        d.mul_(-2.0).add_(scale)  # |x|^2 + |c|^2 - 2 x.c
        d.masked_fill_(d <= scale.mul_(RELATIVE_ZERO), 0.0)
        d[row] = 0.0
        better = torch.lt(d, self.min_sq, out=self._better)
        torch.minimum(self.min_sq, d, out=self.min_sq)
        self.nearest.masked_fill_(better, index)


def k_center_greedy(
    X: np.ndarray | torch.Tensor | Points,
    centers: np.ndarray,
    k: int,
    candidates: np.ndarray | None = None,
    seed: int = 0,
    fallback: np.ndarray | torch.Tensor | Points | None = None,
    device: torch.device | None = None,
    progress: ProgressCallback | Reporter | None = None,
    cancel: CancelToken | None = None,
    weights: np.ndarray | torch.Tensor | None = None,
    rule: str = "farthest",
) -> KCenterResult:
    """Pick ``min(k, #candidates)`` rows of ``X`` by farthest-first traversal.

    ``centers``: row indices that start as centers (the labeled rows). ``candidates``: bool mask
    of rows that may be picked (default: every row that is not a center). With no initial center,
    the first pick is a seeded random candidate, as in the usual greedy K-Center. ``weights``: a
    non-negative factor per row; distances are then taken between the scaled rows ``w_i x_i``.
    ``rule``: ``"farthest"`` takes the open row with the largest δ (K-Center); ``"d2"`` draws it
    with probability proportional to δ² (k-means++ seeding, with the same seeded generator), which
    still favours rows far from every center but no longer lets one outlier win every time.
    """
    reporter = as_reporter(progress, cancel)
    points = as_points(X, device, weights)
    n = points.n
    k = check_int("k", k, minimum=0)
    centers = np.asarray(centers, dtype=np.int64).reshape(-1)
    if centers.size and (centers.min() < 0 or centers.max() >= n):
        raise ParameterError("centers", f"row indices in 0..{n - 1}", centers)
    if candidates is None:
        candidates = np.ones(n, dtype=bool)
        candidates[centers] = False
    candidates = np.asarray(candidates, dtype=bool)
    if candidates.shape != (n,):
        raise ParameterError("candidates", f"a boolean mask of {n} rows", candidates.shape)
    if rule not in ("farthest", "d2"):
        raise ParameterError("rule", "'farthest' or 'd2'", rule)
    rng = np.random.default_rng(seed)
    k = int(min(k, candidates.sum()))

    dist = _Distances(points)
    dist.add_centers(torch.from_numpy(centers).to(points.device), 0, reporter.sub(0.0, 0.3))
    initial = dist.min_sq.sqrt().cpu().numpy().astype(np.float64)

    open_mask = torch.from_numpy(candidates.copy()).to(points.device)
    order: list[int] = []
    picked_distance: list[float] = []
    picked_by: list[str] = []
    fallback_dist: _Distances | None = None
    used_fallback = False
    center_rows = list(centers.tolist())
    for i in range(k):
        reporter.check()
        how = BY_RULE
        if not center_rows:  # nothing to tell the rows apart from: a seeded random row
            open_rows = np.flatnonzero(candidates)
            row = int(rng.choice(open_rows))
            gap = float("inf")
            how = BY_CHANCE
        else:
            if rule == "farthest":
                gap_sq, arg = torch.where(open_mask, dist.min_sq, -1.0).max(0)
                row = int(arg)
            else:
                row, gap_sq = _d2_draw(dist.min_sq, open_mask, rng)
            gap = float(gap_sq.sqrt())
            if gap_sq <= 0.0:
                used_fallback = True
                if fallback_dist is None and fallback is not None:
                    fallback_dist = _Distances(as_points(fallback, device))
                    fallback_dist.add_centers(
                        torch.tensor(center_rows, device=points.device), 0, Reporter()
                    )
                row, how = _fallback_pick(fallback_dist, open_mask, rng)
        order.append(row)
        picked_distance.append(gap)
        picked_by.append(how)
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
        picked_by=tuple(picked_by),
    )


def _d2_draw(
    min_sq: torch.Tensor, open_mask: torch.Tensor, rng: np.random.Generator
) -> tuple[int, torch.Tensor]:
    """An open row drawn with probability proportional to its δ² (and that δ²); δ² = 0 when
    every open row duplicates a center, which sends the caller to the tie rule."""
    weight = torch.where(open_mask, min_sq, 0.0).to(torch.float64).cpu().numpy()
    cumulative = np.cumsum(weight)
    if not cumulative.size or cumulative[-1] <= 0.0:
        return 0, torch.tensor(0.0)
    row = int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))
    row = min(row, weight.size - 1)
    return row, torch.tensor(weight[row])


def _fallback_pick(
    fallback: _Distances | None, open_mask: torch.Tensor, rng: np.random.Generator
) -> tuple[int, str]:
    """Farthest open row in the fallback representation, or a seeded random one if all tie at 0;
    and which of the two it was (:data:`BY_FALLBACK` or :data:`BY_CHANCE`)."""
    if fallback is not None:
        masked = torch.where(open_mask, fallback.min_sq, torch.full_like(fallback.min_sq, -1.0))
        gap_sq, arg = masked.max(0)
        if gap_sq > 0.0:
            return int(arg), BY_FALLBACK
    open_rows = torch.nonzero(open_mask).flatten().cpu().numpy()
    return int(rng.choice(open_rows)), BY_CHANCE


def nearest_center(
    X: np.ndarray | torch.Tensor | Points,
    centers: np.ndarray,
    device: torch.device | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Index into ``centers`` of each row's nearest center, and the distance to it."""
    points = as_points(X, device)
    if isinstance(points, LocalModelPoints):
        return _nearest_center_one_pass(points, np.asarray(centers, dtype=np.int64))
    dist = _Distances(points)
    dist.add_centers(
        torch.as_tensor(np.asarray(centers, dtype=np.int64), device=points.device), 0, Reporter()
    )
    return dist.nearest.cpu().numpy(), dist.min_sq.sqrt().cpu().numpy()


def _nearest_center_one_pass(
    points: LocalModelPoints, centers: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`nearest_center` for points formed block by block (vec A(x) of a big pool): the
    norms and the distances in one pass over the rows instead of two, each block formed once.
    The same blocks, norms and products as :class:`_Distances` takes on the explicit matrix, so
    the same nearest centers and the same distances, to float32 rounding where the formed blocks
    differ from the kept A in the last bits (the tests compare them)."""
    n, device = points.n, points.device
    rows = torch.as_tensor(centers, device=device)
    C = points.vectors(rows)
    csq = torch.einsum("ij,ij->i", C, C)
    sq = torch.empty(n, dtype=torch.float32, device=device)
    min_sq = torch.full((n,), float("inf"), device=device)
    nearest = torch.full((n,), -1, dtype=torch.long, device=device)
    cblock = max(1, min(rows.numel(), CENTER_BLOCK))
    step = points.block_rows(0)  # the blocks of Points.sq_norms
    for r0 in range(0, n, step):
        r1 = min(n, r0 + step)
        V = points.block(r0, r1)
        sq[r0:r1] = torch.einsum("ij,ij->i", V, V)
        for c0 in range(0, rows.numel(), cblock):
            cs = slice(c0, c0 + cblock)
            d = squared_distances(V @ C[cs].T, sq[r0:r1], csq[cs])
            best, arg = d.min(1)
            better = best < min_sq[r0:r1]
            min_sq[r0:r1] = torch.where(better, best, min_sq[r0:r1])
            nearest[r0:r1] = torch.where(better, arg + c0, nearest[r0:r1])
    return nearest.cpu().numpy(), min_sq.sqrt().cpu().numpy()
