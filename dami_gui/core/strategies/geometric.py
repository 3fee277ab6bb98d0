"""Baselines on the last hidden layer: Core-Set (K-Center) and BADGE (k-means++ seeding)."""

from __future__ import annotations

import numpy as np

from dami_gui.core.progress import Reporter
from dami_gui.core.strategies.base import QueryContext, QueryResult, QueryStrategy, register


@register
class CoreSet(QueryStrategy):
    """Sener & Savarese (ICLR 2018): greedy K-Center on the last hidden layer's activations."""

    name = "coreset"
    title = "Core-Set"
    description = "Picks rows far from every labeled row in the network's last hidden layer."

    def _select(self, ctx: QueryContext, k: int, seed: int, reporter: Reporter) -> QueryResult:
        from dami_gui.core.geometry.kcenter import k_center_greedy

        res = k_center_greedy(
            ctx.model_outputs(self.name).hidden,
            np.flatnonzero(ctx.labeled),
            k,
            candidates=ctx.candidates,
            seed=seed,
            fallback=ctx.X,
            device=ctx.device,
            progress=reporter,
        )
        scores = np.where(ctx.candidates, res.initial_distance, np.nan)
        return QueryResult(
            res.order,
            scores,
            res.assignment,
            res.centers,
            {"used_fallback": res.used_fallback},
            res.final_distance,
        )


@register
class Badge(QueryStrategy):
    """Ash et al. (ICLR 2020): k-means++ seeding on last-layer gradient embeddings.

    The embedding of a row is ``g = (p - onehot(argmax p)) ⊗ h``; distances between such outer
    products factor as ``|g_i - g_j|^2 = |e_i|^2|h_i|^2 + |e_j|^2|h_j|^2 - 2 (e_i.e_j)(h_i.h_j)``,
    so a new center costs O(N (C + H)) and the N x (C H) embedding is never formed.
    """

    name = "badge"
    title = "BADGE"
    description = "Picks rows that are both uncertain and diverse, by their training gradients."

    def _select(self, ctx: QueryContext, k: int, seed: int, reporter: Reporter) -> QueryResult:
        import torch

        rng = np.random.default_rng(seed)
        outputs = ctx.model_outputs(self.name)
        proba = torch.from_numpy(outputs.proba.astype(np.float64))
        hidden = torch.from_numpy(outputs.hidden.astype(np.float64))
        e = proba.clone()
        e[torch.arange(e.shape[0]), proba.argmax(1)] -= 1.0
        norm_sq = (e * e).sum(1) * (hidden * hidden).sum(1)
        open_mask = torch.from_numpy(ctx.candidates.copy())
        min_sq = torch.full_like(norm_sq, float("inf"))
        scores = np.where(ctx.candidates, norm_sq.sqrt().numpy(), np.nan)

        chosen: list[int] = []
        first = torch.where(open_mask, norm_sq, torch.full_like(norm_sq, -1.0))
        row = int(first.argmax())
        for i in range(k):
            reporter.check()
            chosen.append(row)
            open_mask[row] = False
            d = norm_sq + norm_sq[row] - 2.0 * (e @ e[row]) * (hidden @ hidden[row])
            min_sq = torch.minimum(min_sq, d.clamp(min=0.0))
            reporter(None, (i + 1) / k)
            if i + 1 == k:
                break
            weights = torch.where(open_mask, min_sq, torch.zeros_like(min_sq)).numpy()
            total = weights.sum()
            open_rows = np.flatnonzero(open_mask.numpy())
            if not np.isfinite(total) or total <= 0.0:
                row = int(rng.choice(open_rows))
            else:
                row = int(rng.choice(weights.size, p=weights / total))
        return QueryResult(np.asarray(chosen), scores)
