"""Central rows of k new clusters around fixed centers: k-means where the labeled rows stay put.

The labeled rows are fixed centers; ``k`` movable centers are seeded by k-means++ (D² sampling
from the fixed centers, :func:`~.kcenter.k_center_greedy` with ``rule="d2"``) and
then moved by Lloyd's iterations: each row joins its nearest center, fixed or movable, and each
movable center moves to the mean of the rows that joined it. The result is, for each movable
center, the candidate row nearest to it: the most central row of a group of rows that no
labeled row already stands for. Compared with farthest-first traversal, which runs after the
most isolated rows, these are the typical rows of the mass the labeled set leaves uncovered.

Everything is taken in blocks of rows (never N x N, never a copy of the representation), on
the representation's device. With ``weights`` the points are the scaled rows ``w_i x_i``,
computed from the unscaled ``X`` as in K-Center.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from dami_gui.core.geometry.kcenter import as_points, k_center_greedy
from dami_gui.core.geometry.points import Points
from dami_gui.core.progress import CancelToken, ProgressCallback, Reporter, as_reporter
from dami_gui.core.validation import check_int

#: Lloyd's iterations stop when no row changes cluster, or after this many (a cost bound).
MAX_ITERATIONS = 30

#: Largest rows x new-centers table of products kept between iterations (bytes).
CACHE_BYTES = 512 * 1024 * 1024


@dataclass
class CentralRowsResult:
    """Picked rows (largest new cluster first), each cluster's size, and how the search went.

    ``initial_distance``: each row's distance to its nearest fixed center (inf when none), in the
    weighted space; ``seeds``: the k-means++ rows the movable centers started from.
    """

    order: np.ndarray
    cluster_size: np.ndarray
    initial_distance: np.ndarray
    seeds: np.ndarray
    iterations: int
    used_fallback: bool


def central_rows(
    X: np.ndarray | torch.Tensor | Points,
    centers: np.ndarray,
    k: int,
    candidates: np.ndarray | None = None,
    seed: int = 0,
    weights: np.ndarray | torch.Tensor | None = None,
    fallback: np.ndarray | torch.Tensor | None = None,
    device: torch.device | None = None,
    progress: ProgressCallback | Reporter | None = None,
    cancel: CancelToken | None = None,
    max_iterations: int = MAX_ITERATIONS,
) -> CentralRowsResult:
    """The central candidate row of each of ``min(k, #candidates)`` new clusters (see module).

    ``centers``: the fixed centers (labeled rows); ``candidates``: rows that may be picked
    (default: all but the centers); ``fallback``: where k-means++ seeding goes on if every
    candidate duplicates a center (see :func:`k_center_greedy`); the seeding's picks are then
    returned as they are, since the representation cannot tell the rows apart.
    """
    reporter = as_reporter(progress, cancel)
    points = as_points(X, device, weights)
    max_iterations = check_int("max_iterations", max_iterations, minimum=0)
    seeding = k_center_greedy(
        points,
        centers,
        k,
        candidates=candidates,
        seed=seed,
        fallback=fallback,
        device=device,
        progress=reporter.sub(0.0, 0.4, "Seeding"),
        rule="d2",
    )
    n, device = points.n, points.device
    k = seeding.order.size
    if candidates is None:
        candidates = np.ones(n, dtype=bool)
        candidates[np.asarray(centers, dtype=np.int64)] = False
    if k == 0 or seeding.used_fallback:
        # Nothing to pick, or the weighted rows could not separate the candidates (every open
        # row duplicated a center): the seeding's tie-rule picks are the answer as they are.
        return CentralRowsResult(
            seeding.order,
            np.zeros(k, np.int64),
            seeding.initial_distance,
            seeding.order,
            0,
            seeding.used_fallback,
        )
    sq = points.sq_norms()
    fixed_sq = torch.as_tensor(seeding.initial_distance, dtype=torch.float32).to(device) ** 2
    C = points.vectors(torch.as_tensor(seeding.order, device=device)).clone()

    def movable_distances(V: torch.Tensor, centers: torch.Tensor) -> torch.Tensor:
        """|c|^2 - 2 x.c for the points ``V`` and ``centers`` (the squared distance less
        |x|^2), one fused product."""
        return torch.addmm((centers * centers).sum(1)[None, :], V, centers.T, alpha=-2.0)

    step = points.block_rows(k)  # rows per block
    # Lloyd's iterations. In the later ones most centers no longer move: the products with the
    # centers that did not move are kept from the iteration before (when that N x k table fits
    # in CACHE_BYTES), so an iteration costs one product per moved center, not per center.
    table = torch.empty((n, k), dtype=C.dtype, device=device) if n * k * 4 <= CACHE_BYTES else None
    stale = torch.ones(k, dtype=torch.bool, device=device)
    assign = torch.full((n,), -2, dtype=torch.long, device=device)
    iterations = 0
    for iterations in range(1, max_iterations + 1):
        reporter.check()
        sums = torch.zeros(k + 1, C.shape[1], dtype=C.dtype, device=device)  # k: no cluster
        counts = torch.zeros(k + 1, dtype=torch.float32, device=device)
        columns = torch.nonzero(stale).flatten()
        changed = False
        for start in range(0, n, step):
            reporter.check()  # a pass over 1M rows of dp/dx takes seconds
            stop = min(n, start + step)
            V = points.block(start, stop)
            if table is None:
                part, arg = movable_distances(V, C).min(1)
            else:
                if columns.numel() == k:
                    table[start:stop] = movable_distances(V, C)
                elif columns.numel():
                    table[start:stop, columns] = movable_distances(V, C[columns])
                part, arg = table[start:stop].min(1)
            best = (part + sq[start:stop]).clamp_(min=0.0)
            joined = torch.where(best < fixed_sq[start:stop], arg, torch.full_like(arg, -1))
            changed = changed or not torch.equal(joined, assign[start:stop])
            assign[start:stop] = joined
            target = torch.where(joined >= 0, joined, torch.full_like(joined, k))
            sums.index_add_(0, target, V)
            counts += torch.bincount(target, minlength=k + 1).to(torch.float32)
        reporter(None, 0.4 + 0.5 * iterations / max(max_iterations, 1))
        if not changed:
            break
        moved = C.clone()
        nonempty = counts[:k] > 0  # an empty cluster keeps its center
        moved[nonempty] = sums[:k][nonempty] / counts[:k][nonempty, None]
        stale = (moved != C).any(1)
        C = moved

    # The candidate nearest to each movable center, largest cluster first, no row twice.
    open_mask = torch.as_tensor(np.asarray(candidates, dtype=bool), device=device)
    sizes = torch.bincount(assign[assign >= 0], minlength=k).cpu().numpy()
    best_d = torch.full((k,), float("inf"), device=device)
    best_row = torch.full((k,), -1, dtype=torch.long, device=device)
    for start in range(0, n, step):
        stop = min(n, start + step)
        d = movable_distances(points.block(start, stop), C) + sq[start:stop, None]
        d[~open_mask[start:stop]] = float("inf")
        bd, br = d.min(0)
        better = bd < best_d
        best_d = torch.where(better, bd, best_d)
        best_row = torch.where(better, br + start, best_row)
    order: list[int] = []
    taken: set[int] = set()
    for j in np.argsort(-sizes, kind="stable"):
        row = int(best_row[j])
        if row < 0 or row in taken:  # two centers share a nearest row: take the next nearest
            dot = points.dots(C[j], torch.empty(n, dtype=sq.dtype, device=device))
            d = sq + (C[j] * C[j]).sum() - 2.0 * dot
            d[~open_mask] = float("inf")
            if taken:
                d[torch.as_tensor(sorted(taken), device=device)] = float("inf")
            row = int(d.argmin())
        order.append(row)
        taken.add(row)
    reporter(None, 1.0)
    return CentralRowsResult(
        order=np.asarray(order, dtype=np.int64),
        cluster_size=np.sort(sizes)[::-1].astype(np.int64),
        initial_distance=seeding.initial_distance,
        seeds=seeding.order,
        iterations=iterations,
        used_fallback=seeding.used_fallback,
    )
