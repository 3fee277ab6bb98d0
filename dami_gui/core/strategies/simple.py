"""Baselines that need no geometry: random sampling and the three uncertainty scores."""

from __future__ import annotations

import numpy as np

from dami_gui.core.progress import Reporter
from dami_gui.core.strategies.base import QueryContext, QueryResult, QueryStrategy, register, top_k


@register
class RandomSampling(QueryStrategy):
    name = "random"
    title = "Random"
    description = "Picks rows at random: the baseline every other strategy must beat."
    needs_model = False

    def _select(self, ctx: QueryContext, k: int, seed: int, reporter: Reporter) -> QueryResult:
        rng = np.random.default_rng(seed)
        scores = np.full(ctx.n_rows, np.nan)
        scores[ctx.candidates] = rng.random(int(ctx.candidates.sum()))
        return QueryResult(top_k(scores, ctx.candidates, k, seed), scores)


class _Uncertainty(QueryStrategy):
    """Top-k rows by an uncertainty score of the predicted probabilities."""

    def score(self, proba: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _select(self, ctx: QueryContext, k: int, seed: int, reporter: Reporter) -> QueryResult:
        proba = ctx.model_outputs(self.name).proba.astype(np.float64)
        scores = np.full(ctx.n_rows, np.nan)
        scores[ctx.candidates] = self.score(proba[ctx.candidates])
        return QueryResult(top_k(scores, ctx.candidates, k, seed), scores)


@register
class EntropySampling(_Uncertainty):
    name = "entropy"
    title = "Entropy"
    description = "Picks the rows whose predicted class probabilities are most spread out."

    def score(self, proba: np.ndarray) -> np.ndarray:
        p = np.clip(proba, 1e-12, 1.0)
        entropy: np.ndarray = -(p * np.log(p)).sum(1)
        return entropy


@register
class MarginSampling(_Uncertainty):
    name = "margin"
    title = "Margin"
    description = "Picks the rows where the two most likely classes are closest."

    def score(self, proba: np.ndarray) -> np.ndarray:
        if proba.shape[1] < 2:
            return np.zeros(proba.shape[0])
        two = -np.partition(-proba, 1, axis=1)[:, :2]
        return -(two[:, 0] - two[:, 1])


@register
class LeastConfidence(_Uncertainty):
    name = "least-confidence"
    title = "Least confidence"
    description = "Picks the rows whose most likely class has the lowest probability."

    def score(self, proba: np.ndarray) -> np.ndarray:
        confidence: np.ndarray = proba.max(1)
        return 1.0 - confidence
