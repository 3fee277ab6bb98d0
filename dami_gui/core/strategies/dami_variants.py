"""DAMI+ : DAMI's K-Center over the local linear interpretations, each weighted by uncertainty.

Rule. Every row x is represented by u(x) * vec(A(x)), where A(x) is the row's local linear model
(the same C x d interpretation plain DAMI uses) and u(x) = 1 - (p1 - p2) is one minus the
margin between the two most likely classes (1: the model cannot decide, 0: it is certain).
Greedy K-Center (farthest-first traversal, the labeled rows as the first centers) then picks
``batch_size`` rows, exactly as in DAMI. There is still no hyper-parameter: u is a fixed
function of the model's own probabilities.

Why. With two hidden layers of 64 ReLUs, 60-97 % of the rows of a real pool sit alone in their
exact linear region (benchmarks/regions.py), so vec(A(x)) is one more continuous embedding; it
carries no notion of whether the model is already right about a row, and K-Center on it runs
after the rows whose local model is most unusual (outliers deep inside a class), which is why
plain DAMI is only level with random sampling on tabular data. Scaling by u keeps the geometry
of the interpretations among the rows the model is unsure of, and shrinks the rows it is sure
of (which include the labeled rows it was fitted on) towards the origin, so "far from every
labeled row's explanation" now also means "not yet decided". It is the interpretation-space
analogue of BADGE, whose gradient embedding is an uncertainty-scaled representation.

Distances are never formed on a scaled copy: K-Center takes ``u`` as per-row weights and works
on the cached, unscaled vec(A) (see :func:`dami_gui.core.kcenter.k_center_greedy`), so each pick
is one pass over the interpretation, as in DAMI.

Tie rule: if every remaining candidate is at distance 0 from a center (for instance a model
certain of every row, u = 0 everywhere), the remaining picks are K-Center on the unweighted
vec(A(x)), then seeded random.
"""

from __future__ import annotations

import numpy as np

from .base import QueryContext, register
from .dami import Dami


def margin_uncertainty(proba: np.ndarray) -> np.ndarray:
    """1 - (p1 - p2): one minus the gap between the two largest probabilities of each row."""
    proba = np.asarray(proba, dtype=np.float64)
    if proba.shape[1] < 2:
        return np.zeros(proba.shape[0])
    two = -np.partition(-proba, 1, axis=1)[:, :2]
    return 1.0 - (two[:, 0] - two[:, 1])


@register
class DamiPlus(Dami):
    """DAMI with each row's local linear interpretation weighted by 1 - margin (see module)."""

    name = "dami-plus"
    title = "DAMI+"
    description = (
        "Like DAMI, picks rows whose local explanation differs most from every labeled row's, "
        "but counts a row's explanation only as much as the model is unsure about that row."
    )

    def row_weights(self, ctx: QueryContext) -> np.ndarray:
        return margin_uncertainty(ctx.outputs.proba).astype(np.float32)

    def tie_representation(self, ctx: QueryContext, flat: np.ndarray) -> np.ndarray:
        """Plain DAMI's representation: the unweighted interpretations."""
        return flat
