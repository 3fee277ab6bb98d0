"""DAMI variants tried while investigating issue 5 (not registered; the winner is, in
:mod:`dami_gui.core.strategies.dami_variants`). Each keeps the local linear interpretation as
the representation and changes one thing: what is taken from A(x), how rows are picked from it,
or whether it is scaled by the model's uncertainty. See docs/benchmarks-issue5.md for the results.
"""

from __future__ import annotations

import numpy as np
import torch

from dami_gui.core.geometry.kcenter import k_center_greedy
from dami_gui.core.progress import Reporter
from dami_gui.core.strategies import QueryContext, QueryResult, QueryStrategy


def kmeanspp(
    F: torch.Tensor,
    init_rows: np.ndarray,
    candidates: np.ndarray,
    k: int,
    rng: np.random.Generator,
    first: str = "max-norm",
) -> list[int]:
    """k-means++ seeding (D^2 sampling) among candidates; init_rows start as centers."""
    F = F.to(torch.float64)
    sq = (F * F).sum(1)
    min_sq = torch.full_like(sq, float("inf"))
    open_mask = torch.from_numpy(candidates.copy())
    for r in init_rows:
        min_sq = torch.minimum(min_sq, (sq + sq[r] - 2 * F @ F[r]).clamp(min=0))
    chosen: list[int] = []
    for _ in range(k):
        w = torch.where(open_mask, min_sq, torch.zeros_like(min_sq))
        if not chosen and not len(init_rows):
            w = torch.where(open_mask, sq, torch.zeros_like(sq))
            row = (
                int(w.argmax())
                if first == "max-norm"
                else int(rng.choice(np.flatnonzero(candidates)))
            )
        else:
            w = w.numpy()
            tot = w.sum()
            if not np.isfinite(tot) or tot <= 0:
                row = int(rng.choice(np.flatnonzero(open_mask.numpy())))
            else:
                row = int(rng.choice(w.size, p=w / tot))
        chosen.append(row)
        open_mask[row] = False
        min_sq = torch.minimum(min_sq, (sq + sq[row] - 2 * F @ F[row]).clamp(min=0))
    return chosen


def kmeans_fixed(
    F: torch.Tensor,
    init_rows: np.ndarray,
    candidates: np.ndarray,
    k: int,
    rng: np.random.Generator,
    max_iter: int = 30,
) -> list[int]:
    """k-means with the labeled rows as fixed centers and k movable ones (k-means++ seeded);
    returns, for each movable center, the candidate row nearest to it (its cluster's centre)."""
    F = F.to(torch.float32)
    n = F.shape[0]
    sq = (F * F).sum(1)
    if len(init_rows):
        L = F[torch.from_numpy(init_rows)]
        fixed = (sq[:, None] + (L * L).sum(1)[None, :] - 2 * F @ L.T).clamp(min=0).min(1).values
    else:
        fixed = torch.full((n,), float("inf"))
    seeds = kmeanspp(F, init_rows, candidates, k, rng)
    centers = F[torch.tensor(seeds)].clone()
    assign = None
    for _ in range(max_iter):
        d = (sq[:, None] + (centers * centers).sum(1)[None, :] - 2 * F @ centers.T).clamp(min=0)
        best, arg = d.min(1)
        new_assign = torch.where(best < fixed, arg, torch.full_like(arg, -1))
        if assign is not None and torch.equal(new_assign, assign):
            break
        assign = new_assign
        member = assign >= 0
        sums = torch.zeros_like(centers).index_add_(0, assign[member], F[member])
        counts = torch.bincount(assign[member], minlength=k).to(torch.float32)
        keep = counts > 0
        centers[keep] = sums[keep] / counts[keep, None]
    d = (sq[:, None] + (centers * centers).sum(1)[None, :] - 2 * F @ centers.T).clamp(min=0)
    d[torch.from_numpy(~candidates)] = float("inf")
    chosen: list[int] = []
    for j in range(k):
        col = d[:, j].clone()
        if chosen:
            col[torch.tensor(chosen)] = float("inf")
        chosen.append(int(col.argmin()))
    return chosen


def _A(ctx):
    return torch.from_numpy(ctx.outputs.interpretation().A)  # N x C x d


def _proba(ctx):
    return torch.from_numpy(ctx.outputs.proba.astype(np.float32))


def rep(ctx: QueryContext, kind: str) -> torch.Tensor:
    A = _A(ctx)
    n = A.shape[0]
    if kind == "A":
        return A.reshape(n, -1)
    if kind == "contrib":  # A(x) diag(x)
        return (A * torch.from_numpy(ctx.X)[:, None, :]).reshape(n, -1)
    if kind == "pred-row":
        p = _proba(ctx)
        return A[torch.arange(n), p.argmax(1)]
    p = _proba(ctx)
    e = p.clone()
    e[torch.arange(n), p.argmax(1)] -= 1.0
    if kind == "grad":  # diag(p - onehot(yhat)) A(x): the loss's input gradient split by class
        return (e[:, :, None] * A).reshape(n, -1)
    if kind == "grad-sum":  # A(x)^T (p - onehot): the input gradient of the loss
        return (e[:, :, None] * A).sum(1)
    if kind == "margin-scaled":
        top = torch.topk(p, min(2, p.shape[1]), dim=1).values
        u = 1.0 - (top[:, 0] - top[:, 1]) if p.shape[1] > 1 else torch.zeros(n)
        return A.reshape(n, -1) * u[:, None]
    if (
        kind == "prob-jac"
    ):  # d p / d x = (diag(p) - p p^T) A(x): the local model of the probabilities
        M = torch.diag_embed(p) - p[:, :, None] * p[:, None, :]
        return torch.bmm(M, A).reshape(n, -1)
    if kind == "boundary":  # local normal between the two likeliest classes, scaled by margin
        top2 = torch.topk(p, 2, dim=1)
        i, j = top2.indices[:, 0], top2.indices[:, 1]
        u = 1.0 - (top2.values[:, 0] - top2.values[:, 1])
        return (A[torch.arange(n), i] - A[torch.arange(n), j]) * u[:, None]
    raise ValueError(kind)


class _Variant(QueryStrategy):
    kind = "A"
    picker = "kcenter"  # kcenter | kmeanspp | kmeanspp-free (labeled not centers) | kmeans-medoid
    title = "variant"
    description = "variant"

    def _select(self, ctx: QueryContext, k: int, seed: int, reporter: Reporter) -> QueryResult:
        F = rep(ctx, self.kind)
        rng = np.random.default_rng(seed)
        labeled = np.flatnonzero(ctx.labeled)
        if self.picker == "kcenter":
            order = k_center_greedy(
                F.numpy(), labeled, k, candidates=ctx.candidates, seed=seed, fallback=ctx.X
            ).order
        elif self.picker == "kmeanspp":
            order = kmeanspp(F, labeled, ctx.candidates, k, rng)
        elif self.picker == "kmeanspp-free":
            order = kmeanspp(F, np.empty(0, int), ctx.candidates, k, rng)
        elif self.picker == "kmeans-fixed":
            order = kmeans_fixed(F, labeled, ctx.candidates, k, rng)
        elif self.picker == "typiclust":
            from benchmarks.peers import typiclust_on

            order = typiclust_on(F.numpy().astype(np.float64), labeled, k, seed)
        elif self.picker == "kmeans-medoid":
            from sklearn.cluster import KMeans

            cand = np.flatnonzero(ctx.candidates)
            Fc = F[cand].numpy()
            km = KMeans(n_clusters=k, n_init=1, random_state=seed, max_iter=50).fit(Fc)
            order = []
            d = ((Fc - km.cluster_centers_[km.labels_]) ** 2).sum(1)
            for c in range(k):
                members = np.flatnonzero(km.labels_ == c)
                if members.size:
                    order.append(int(cand[members[np.argmin(d[members])]]))
            rest = [r for r in rng.permutation(cand) if r not in set(order)]
            order = (order + rest)[:k]
        else:
            raise ValueError(self.picker)
        scores = np.where(ctx.candidates, 0.0, np.nan)
        scores[np.asarray(order)] = np.arange(len(order), 0, -1)
        return QueryResult(np.asarray(order, dtype=np.int64), scores)


def _make(name, kind, picker):
    return type(name, (_Variant,), {"name": name, "kind": kind, "picker": picker})


VARIANTS = {
    "v-A-kmeanspp": _make("v-A-kmeanspp", "A", "kmeanspp"),
    "v-A-medoid": _make("v-A-medoid", "A", "kmeans-medoid"),
    "v-contrib-kcenter": _make("v-contrib-kcenter", "contrib", "kcenter"),
    "v-predrow-kcenter": _make("v-predrow-kcenter", "pred-row", "kcenter"),
    "v-margin-kcenter": _make("v-margin-kcenter", "margin-scaled", "kcenter"),
    "v-grad-kmeanspp": _make("v-grad-kmeanspp", "grad", "kmeanspp-free"),
    "v-grad-kcenter": _make("v-grad-kcenter", "grad", "kcenter"),
    "v-gradsum-kmeanspp": _make("v-gradsum-kmeanspp", "grad-sum", "kmeanspp-free"),
    "v-boundary-kmeanspp": _make("v-boundary-kmeanspp", "boundary", "kmeanspp-free"),
    "v-margin-kmeanspp": _make("v-margin-kmeanspp", "margin-scaled", "kmeanspp-free"),
    "v-margin-kmeanspp-lab": _make("v-margin-kmeanspp-lab", "margin-scaled", "kmeanspp"),
    "v-boundary-kmeanspp-lab": _make("v-boundary-kmeanspp-lab", "boundary", "kmeanspp"),
    "v-margin-typiclust": _make("v-margin-typiclust", "margin-scaled", "typiclust"),
    "v-A-typiclust": _make("v-A-typiclust", "A", "typiclust"),
    "v-margin-kmeans-lab": _make("v-margin-kmeans-lab", "margin-scaled", "kmeans-fixed"),
    "v-probjac-kcenter": _make("v-probjac-kcenter", "prob-jac", "kcenter"),
    "v-probjac-kmeans-lab": _make("v-probjac-kmeans-lab", "prob-jac", "kmeans-fixed"),
    # DAMI+ exactly as the core runs it (cached A, per-row weights), with k-means++ seeding:
    "v-probjac-kmeanspp-lab": _make("v-probjac-kmeanspp-lab", "prob-jac", "kmeanspp"),
}
