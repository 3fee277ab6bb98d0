"""DAMI, as the paper specifies it: greedy K-Center over the local linear interpretations.

Every row is represented by vec(A(x)), the weights of the affine model the network is inside
the row's linear region (C x d numbers: how much each feature pushes each class). The labeled
rows start as centers and K-Center picks, ``batch_size`` times, the unlabeled row whose local
model is farthest from every center's, so the labeled set spans the model's different regions.
The final nearest-center assignment partitions the pool into groups of rows with similar local
models, which the app draws on the map.

Tie rule (untrained or collapsed model, duplicate rows): when every remaining candidate's local
model equals a center's, the picks continue by K-Center on the standardised input features, and
then uniformly at random with the seed (see :mod:`dami_gui.core.geometry.kcenter`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from dami_gui.core.progress import Reporter
from dami_gui.core.strategies.base import QueryContext, QueryResult, QueryStrategy, register

if TYPE_CHECKING:
    from dami_gui.core.geometry.points import Points


@register
class Dami(QueryStrategy):
    name = "dami"
    title = "DAMI"
    description = (
        "Picks rows whose local explanation (how each feature pushes each class) differs most "
        "from every labeled row's, so the labels cover all the ways the model reasons."
    )
    #: K-Center's final assignment is the nearest center in interpretation space, as the map wants.
    partitions_interpretations = True

    @classmethod
    def why_picked(cls) -> str:
        """In the words of the method (docs/dami-method.md): the farthest local model."""
        return (
            "DAMI: the network explains this row unlike any labeled row or earlier pick (its "
            "local linear model is the farthest from theirs), so its label should teach the most."
        )

    def tie_representation(
        self, ctx: QueryContext, flat: np.ndarray | Points
    ) -> np.ndarray | Points:
        """Where K-Center goes on when every candidate ties at 0: the input features."""
        return ctx.X

    def _select(self, ctx: QueryContext, k: int, seed: int, reporter: Reporter) -> QueryResult:
        from dami_gui.core.geometry.kcenter import k_center_greedy

        outputs = ctx.model_outputs(self.name)
        interpretation = outputs.interpretation(reporter.sub(0.0, 0.5, "Interpreting"))
        flat = interpretation.flat()
        res = k_center_greedy(
            flat,
            np.flatnonzero(ctx.labeled),
            k,
            candidates=ctx.candidates,
            seed=seed,
            fallback=self.tie_representation(ctx, flat),
            device=ctx.device,
            progress=reporter.sub(0.5, 1.0, "Selecting"),
        )
        distance = res.initial_distance
        if not np.isfinite(distance).any():
            # Nothing labeled yet: score by the distance to the nearest selected row instead.
            distance = res.final_distance
        scores = np.where(ctx.candidates, distance, np.nan)
        return QueryResult(
            res.order,
            scores,
            res.assignment,
            res.centers,
            {"used_fallback": res.used_fallback, "pick_distance": res.pick_distance},
            res.final_distance,
        )
