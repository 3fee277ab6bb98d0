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

Big pools (more than :data:`SAMPLE_ABOVE` rows). The exact algorithm takes one pass over the pool
per seed and one per iteration (up to 30): at 1M rows of dp/dx, minutes. Above the threshold the
seeding and the iterations run on a weighted sample of the pool instead, a lightweight coreset drawn
from the distances to the fixed centers (:mod:`dami_gui.core.geometry.coreset`, at least
:data:`SAMPLE_ROWS` draws); then :data:`FULL_ITERATIONS` Lloyd's step on the whole pool and one pass
for the central rows. Three passes over the pool in all (the distances to the fixed centers, which
the scores need anyway, one step, the central rows), whatever the pool's size. The picks are not the
exact algorithm's (other seeds, a sample's means): the learning curves they give are compared in
docs/big-pools.md. At or below the threshold nothing changed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from dami_gui.core.geometry import coreset
from dami_gui.core.geometry.kcenter import as_points, k_center_greedy
from dami_gui.core.geometry.points import Matrix, Points
from dami_gui.core.progress import CancelToken, ProgressCallback, Reporter, as_reporter
from dami_gui.core.validation import check_int

#: Lloyd's iterations stop when no row changes cluster, or after this many (a cost bound).
MAX_ITERATIONS = 30

#: Largest rows x new-centers table of products kept between iterations (bytes).
CACHE_BYTES = 512 * 1024 * 1024

#: Pools of more rows are clustered on a weighted sample (see Big pools); at most this many rows
#: run the exact algorithm, so small pools pick exactly as before.
SAMPLE_ABOVE = 50_000

#: Draws of the weighted sample (at least), and at least this many per new cluster.
SAMPLE_ROWS = 20_000
SAMPLE_PER_CLUSTER = 200

#: Lloyd's iterations on the whole pool after those on the sample.
FULL_ITERATIONS = 1


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
    sampled: bool = False
    #: When the seeding fell back (:attr:`used_fallback`), ``order`` is the seeding's own picks
    #: and this says, per pick, which rule took it (:attr:`KCenterResult.picked_by`); else empty.
    picked_by: tuple[str, ...] = ()


def central_rows(
    X: np.ndarray | torch.Tensor | Points,
    centers: np.ndarray,
    k: int,
    candidates: np.ndarray | None = None,
    seed: int = 0,
    weights: np.ndarray | torch.Tensor | None = None,
    fallback: np.ndarray | torch.Tensor | Points | None = None,
    device: torch.device | None = None,
    progress: ProgressCallback | Reporter | None = None,
    cancel: CancelToken | None = None,
    max_iterations: int = MAX_ITERATIONS,
    sample_above: int | None = None,
) -> CentralRowsResult:
    """The central candidate row of each of ``min(k, #candidates)`` new clusters (see module).

    ``centers``: the fixed centers (labeled rows); ``candidates``: rows that may be picked
    (default: all but the centers); ``fallback``: where k-means++ seeding goes on if every
    candidate duplicates a center (see :func:`k_center_greedy`); the seeding's picks are then
    returned as they are, since the representation cannot tell the rows apart.
    ``sample_above``: pools of more rows are clustered on a weighted sample (see module, Big
    pools); None: :data:`SAMPLE_ABOVE`.
    """
    reporter = as_reporter(progress, cancel)
    points = as_points(X, device, weights)
    max_iterations = check_int("max_iterations", max_iterations, minimum=0)
    limit = SAMPLE_ABOVE if sample_above is None else sample_above
    if points.n > limit and k > 0:
        sampled = _sampled_central_rows(
            points, centers, k, candidates, seed, max_iterations, reporter
        )
        if sampled is not None:
            return sampled
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
            picked_by=seeding.picked_by if seeding.used_fallback else (),
        )
    sq = points.sq_norms()
    fixed_sq = torch.as_tensor(seeding.initial_distance, dtype=torch.float32).to(device) ** 2
    C = points.vectors(torch.as_tensor(seeding.order, device=device)).clone()
    C, assign, iterations = lloyd(points, sq, fixed_sq, C, max_iterations, reporter.sub(0.4, 0.9))

    # The candidate nearest to each movable center, largest cluster first, no row twice.
    open_mask = torch.as_tensor(np.asarray(candidates, dtype=bool), device=device)
    sizes = torch.bincount(assign[assign >= 0], minlength=k).cpu().numpy()
    best_row = _nearest_rows(points, sq, C, open_mask, None)[1]
    order = _order(points, sq, C, sizes, best_row, open_mask)
    reporter(None, 1.0)
    return CentralRowsResult(
        order=order,
        cluster_size=np.sort(sizes)[::-1].astype(np.int64),
        initial_distance=seeding.initial_distance,
        seeds=seeding.order,
        iterations=iterations,
        used_fallback=seeding.used_fallback,
    )


def _movable_distances(V: torch.Tensor, centers: torch.Tensor) -> torch.Tensor:
    """|c|^2 - 2 x.c for the points ``V`` and ``centers`` (the squared distance less |x|^2),
    one fused product."""
    return torch.addmm((centers * centers).sum(1)[None, :], V, centers.T, alpha=-2.0)


def lloyd(
    points: Points,
    sq: torch.Tensor,
    fixed_sq: torch.Tensor,
    C: torch.Tensor,
    max_iterations: int,
    reporter: Reporter,
    row_weights: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Lloyd's iterations from the movable centers ``C`` (k, dim), the fixed centers standing at
    squared distance ``fixed_sq`` from each row; each row's weight in the means is 1, or
    ``row_weights``. Returns the centers, the last assignment (-1: a fixed center) and the
    number of iterations; stops when no row changes cluster."""
    n, k, device = points.n, C.shape[0], points.device
    step = points.block_rows(k)  # rows per block
    # In the later iterations most centers no longer move: the products with the centers that
    # did not move are kept from the iteration before (when that N x k table fits in
    # CACHE_BYTES), so an iteration costs one product per moved center, not per center.
    cache = max_iterations > 1 and n * k * 4 <= CACHE_BYTES
    table = torch.empty((n, k), dtype=C.dtype, device=device) if cache else None
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
                part, arg = _movable_distances(V, C).min(1)
            else:
                if columns.numel() == k:
                    table[start:stop] = _movable_distances(V, C)
                elif columns.numel():
                    table[start:stop, columns] = _movable_distances(V, C[columns])
                part, arg = table[start:stop].min(1)
            best = (part + sq[start:stop]).clamp_(min=0.0)
            joined = torch.where(best < fixed_sq[start:stop], arg, torch.full_like(arg, -1))
            changed = changed or not torch.equal(joined, assign[start:stop])
            assign[start:stop] = joined
            target = torch.where(joined >= 0, joined, torch.full_like(joined, k))
            if row_weights is None:
                sums.index_add_(0, target, V)
                counts += torch.bincount(target, minlength=k + 1).to(torch.float32)
            else:
                w = row_weights[start:stop]
                sums.index_add_(0, target, V * w[:, None])
                counts += torch.bincount(target, w, minlength=k + 1).to(torch.float32)
        reporter(None, iterations / max(max_iterations, 1))
        if not changed:
            break
        moved = C.clone()
        nonempty = counts[:k] > 0  # an empty cluster keeps its center
        moved[nonempty] = sums[:k][nonempty] / counts[:k][nonempty, None]
        stale = (moved != C).any(1)
        C = moved
    return C, assign, iterations


def _nearest_rows(
    points: Points,
    sq: torch.Tensor,
    C: torch.Tensor,
    open_mask: torch.Tensor,
    fixed_sq: torch.Tensor | None,
    reporter: Reporter | None = None,
) -> tuple[np.ndarray | None, torch.Tensor]:
    """The open row nearest to each center (one pass); with ``fixed_sq``, also how many rows
    join each center (nearer to it than to any fixed or other movable center)."""
    n, k, device = points.n, C.shape[0], points.device
    step = points.block_rows(k)
    best_d = torch.full((k,), float("inf"), device=device)
    best_row = torch.full((k,), -1, dtype=torch.long, device=device)
    sizes = torch.zeros(k + 1, dtype=torch.long, device=device)
    for start in range(0, n, step):
        if reporter is not None:
            reporter.check()
        stop = min(n, start + step)
        d = _movable_distances(points.block(start, stop), C) + sq[start:stop, None]
        if fixed_sq is not None:
            near, arg = d.min(1)
            joined = torch.where(near < fixed_sq[start:stop], arg, torch.full_like(arg, k))
            sizes += torch.bincount(joined, minlength=k + 1)
        d[~open_mask[start:stop]] = float("inf")
        bd, br = d.min(0)
        better = bd < best_d
        best_d = torch.where(better, bd, best_d)
        best_row = torch.where(better, br + start, best_row)
        if reporter is not None:
            reporter(None, stop / n)
    return (sizes[:k].cpu().numpy() if fixed_sq is not None else None), best_row


def _order(
    points: Points,
    sq: torch.Tensor,
    C: torch.Tensor,
    sizes: np.ndarray,
    best_row: torch.Tensor,
    open_mask: torch.Tensor,
) -> np.ndarray:
    """Each center's nearest open row, largest cluster first; when two centers share their
    nearest row, the later one takes its next nearest (one pass of dot products)."""
    n, device = points.n, points.device
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
    return np.asarray(order, dtype=np.int64)


def sample_size(k: int) -> int:
    """Draws of the weighted sample for ``k`` new clusters: :data:`SAMPLE_ROWS`, and at least
    :data:`SAMPLE_PER_CLUSTER` per cluster."""
    return max(SAMPLE_ROWS, SAMPLE_PER_CLUSTER * k)


def _sampled_central_rows(
    points: Points,
    centers: np.ndarray,
    k: int,
    candidates: np.ndarray | None,
    seed: int,
    max_iterations: int,
    reporter: Reporter,
) -> CentralRowsResult | None:
    """The big-pool path (see module): None when the sample cannot separate the candidates
    (the exact algorithm and its tie rule answer then), or to let the exact path name a bad
    parameter."""
    n, device = points.n, points.device
    centers = np.asarray(centers, dtype=np.int64).reshape(-1)
    if centers.size and (centers.min() < 0 or centers.max() >= n):
        return None
    if candidates is None:
        candidates = np.ones(n, dtype=bool)
        candidates[centers] = False
    candidates = np.asarray(candidates, dtype=bool)
    if candidates.shape != (n,):
        return None
    k = int(min(k, candidates.sum()))
    if k == 0:
        return None
    rng = np.random.default_rng(seed)
    sq, fixed_sq = coreset.fixed_distances(points, centers, reporter.sub(0.0, 0.45, "Seeding"))
    open_mask = torch.as_tensor(candidates, device=device)
    if centers.size and not bool((fixed_sq[open_mask] > 0).any()):
        return None
    rows, w = coreset.draw(fixed_sq, sample_size(k), rng)
    rows_t = torch.as_tensor(rows, device=device)
    sample = Matrix(points.vectors(rows_t).contiguous())
    weights = torch.as_tensor(w, dtype=torch.float32, device=device)
    picks = coreset.weighted_d2_seeding(
        sample, fixed_sq[rows_t], weights, open_mask[rows_t], k, rng
    )
    reporter(None, 0.5)
    if picks is None:
        return None
    C = sample.X[torch.as_tensor(picks, device=device)].clone()
    C, _, iterations = lloyd(
        sample,
        sample.sq_norms(),
        fixed_sq[rows_t],
        C,
        max_iterations,
        reporter.sub(0.5, 0.6, "Grouping a sample"),
        row_weights=weights,
    )
    for i in range(FULL_ITERATIONS):
        part = reporter.sub(0.6 + 0.2 * i / FULL_ITERATIONS, 0.6 + 0.2 * (i + 1) / FULL_ITERATIONS)
        C, _, _ = lloyd(points, sq, fixed_sq, C, 1, part.sub(0.0, 1.0, "Grouping every row"))
    sizes, best_row = _nearest_rows(
        points, sq, C, open_mask, fixed_sq, reporter.sub(0.8, 0.98, "Finding central rows")
    )
    assert sizes is not None  # counted: fixed_sq was given
    order = _order(points, sq, C, sizes, best_row, open_mask)
    reporter(None, 1.0)
    return CentralRowsResult(
        order=order,
        cluster_size=np.sort(sizes)[::-1].astype(np.int64),
        initial_distance=fixed_sq.sqrt().cpu().numpy().astype(np.float64),
        seeds=rows[picks],
        iterations=iterations,
        used_fallback=False,
        sampled=True,
    )
