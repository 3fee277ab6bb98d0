"""DAMI+ : the typical rows of what the labeled rows leave unexplained, in DAMI's own terms.

Rule. Every row x is represented by the local linear model of the network's *probabilities*,
J(x) = dp/dx = (diag(p) - p p^T) A(x), where A(x) is the local linear model of the logits that
plain DAMI uses (exact inside the row's linear region) and p the predicted probabilities. The
labeled rows are fixed centers; ``batch_size`` new centers are seeded by k-means++ (D² sampling
from the labeled rows) and moved by k-means (Lloyd's iterations, the labeled centers staying
put); the picks are the row nearest to each new center, largest group first. This is the
paper's earlier version of DAMI (the central sample of each cluster) with two changes: the
groups are formed around the labeled rows instead of ignoring them, and the interpretation is
taken of what the model outputs, the probabilities. There is no hyper-parameter: J is a fixed
function of the network, k is the batch size, and the iterations stop when no row changes group.

Why (measured in docs/benchmarks.md). With two hidden layers of 64 ReLUs, 60-97 % of the rows
of a real pool sit alone in their exact linear region, so vec(A(x)) is one more continuous
embedding; it says nothing about whether the model is already right, and the paper's
farthest-first traversal runs after the rows whose local model is most unusual: outliers,
often deep inside a class. That is why faithful DAMI is level with random sampling on tabular
data. The probabilities' local model carries the model's doubt by itself: where the model is
certain (p close to one class, the labeled rows among them) diag(p) - p p^T vanishes and so
does J, so "unlike every labeled row's explanation" also means "not yet decided"; in a two-class
problem J is p(1 - p) times the local normal of the decision boundary. Every variant without
such a factor was at or below DAMI. Taking the central row of each new group instead of the
farthest row picks typical rows of the undecided mass rather than its outliers, which is what
density-seeking methods (TypiClust, ProbCover) get right when labels are few.

Memory. J has the shape of A. It is formed once when it is small (at most
:data:`MATERIALIZE_BYTES`), and otherwise block by block on every pass
(:class:`~dami_gui.core.geometry.points.ProbabilityJacobian`). A itself is kept whole up to
1 GiB (:meth:`~dami_gui.core.strategies.base.ModelOutputs.local_models`); above, only its first
rows are kept and each of the big-pool path's three passes forms the others again from the
activation patterns, exactly, so that a 1M-row pool needs neither its whole 2 GB
interpretation nor a copy of it.

Tie rule: if the candidates cannot be told apart (for instance a model certain of every row,
J = 0 everywhere, or a pool whose open rows are copies of labeled ones), the k-means++ draws made
before the tie are the picks, then plain DAMI's (K-Center on vec(A(x))), then seeded random.
Such a round says per pick which rule took it (``info["pick_kinds"]``: :data:`BOUNDARY`,
:data:`TIE`, :data:`CHANCE`), so "why this row" stays exact: a row asked again because it is
explained exactly like a labeled row is said to be that, not "the most typical row of a group".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from dami_gui.core.progress import Reporter
from dami_gui.core.strategies.base import QueryContext, QueryResult, flat_models, register
from dami_gui.core.strategies.dami import Dami

if TYPE_CHECKING:
    from dami_gui.core.geometry.kmeans import CentralRowsResult
    from dami_gui.core.geometry.points import Points
    from dami_gui.core.interpret import Interpretation, LocalModels

#: Largest dp/dx (bytes) that DAMI+ forms explicitly; above it, it is formed block by block.
MATERIALIZE_BYTES = 512 * 1024 * 1024

#: The rules a DAMI+ pick can come from (``QueryResult.info["pick_kinds"]``, one per pick).
TYPICAL, BOUNDARY, TIE, CHANCE = "typical", "boundary", "tie", "chance"

#: Per kind: how "why this row" names the rule, and why it picked the row.
REASONS = {
    TYPICAL: (
        "a typical row",
        "the network is unsure about a group of rows and explains them unlike any labeled row; "
        "this row is the most typical of that group (its local linear model of the class "
        "probabilities is the closest to the group's centre), so its label speaks for the whole "
        "group.",
    ),
    BOUNDARY: (
        "a boundary row",
        "the network is unsure about this row and explains it unlike any labeled row (its local "
        "linear model of the class probabilities is far from every labeled row's); such rows "
        "were drawn with a chance that grows with that distance.",
    ),
    TIE: (
        "the tie rule",
        "every row left has, up to rounding, the same local model of its class probabilities as "
        "a labeled row or a row picked before it (for instance the network is certain of all of "
        "them, or they are copies), so those models cannot tell the rows apart; of them, this "
        "row's local linear model of the logits is the farthest from theirs (plain DAMI's rule).",
    ),
    CHANCE: (
        "the tie rule",
        "no rule could tell the rows left apart (each has, up to rounding, the same local linear "
        "model as a labeled row or an earlier pick, a copy of one for instance, or nothing was "
        "labeled yet), so this row was drawn at random among them; if it copies a labeled row, "
        "its label shows how consistent such labels are.",
    ),
}


def pick_kind(info: dict[str, Any], position: int) -> str | None:
    """The rule that took the ``position``-th pick of a round (see :data:`REASONS`), or None
    when the round does not say (an ordinary DAMI+ round, an older round, a damaged record)."""
    kinds = info.get("pick_kinds")
    if not isinstance(kinds, list) or not 0 <= position < len(kinds):
        return None
    kind = kinds[position]
    return kind if isinstance(kind, str) and kind in REASONS else None


def tie_kinds(res: CentralRowsResult, picks: np.ndarray) -> list[str] | None:
    """Per pick, the rule that took it when the search fell back on its tie rule (the picks are
    then the seeding's own: draws, then plain DAMI's or chance picks); None otherwise."""
    from dami_gui.core.geometry.kcenter import BY_CHANCE, BY_FALLBACK, BY_RULE

    kind_of_pick = {BY_RULE: BOUNDARY, BY_FALLBACK: TIE, BY_CHANCE: CHANCE}
    if not res.used_fallback or len(res.picked_by) != len(res.order):
        return None
    pairs = zip(res.order, res.picked_by, strict=True)
    by_row = {int(row): kind_of_pick[how] for row, how in pairs}
    kinds = [by_row.get(int(row)) for row in picks]
    return None if None in kinds else [str(kind) for kind in kinds]


def probability_jacobian(
    ctx: QueryContext, models: Interpretation | np.ndarray | LocalModels
) -> Points:
    """dp/dx of every row as points, on the context's device (see module, Memory); ``models``:
    the interpretation, its A, or the :class:`LocalModels` that form A block by block."""
    import torch

    from dami_gui.core.geometry.points import ProbabilityJacobian
    from dami_gui.core.interpret import Interpretation, LocalModels

    P = torch.as_tensor(np.asarray(ctx.model_outputs(DamiPlus.name).proba, dtype=np.float32))
    if ctx.device is not None:
        P = P.to(ctx.device)
    if isinstance(models, LocalModels):
        J = ProbabilityJacobian(models, P)
    else:
        A = torch.as_tensor(models.matrices() if isinstance(models, Interpretation) else models)
        J = ProbabilityJacobian(A.to(ctx.device) if ctx.device is not None else A, P)
    return J.materialize() if J.n * J.dim * 4 <= MATERIALIZE_BYTES else J


@register
class DamiPlus(Dami):
    """DAMI+: central rows of new groups of the probabilities' local linear models (see module)."""

    name = "dami-plus"
    title = "DAMI+"
    description = (
        "From each group of rows that the model is unsure about and explains unlike any "
        "labeled row, picks the most typical one."
    )
    #: Its groups are formed in the space of dp/dx, not of vec(A(x)): the map's are recomputed.
    partitions_interpretations = False

    @classmethod
    def why_picked(cls) -> str:
        """The typical row of an undecided group (see the module and docs/dami-method.md)."""
        return (
            "DAMI+: the network is unsure about a group of rows and explains them unlike any "
            "labeled row; this row is the most typical of that group (the local linear model of "
            "its class probabilities is the closest to the group's centre), so its label speaks "
            "for the whole group."
        )

    @classmethod
    def why_this_row(cls, info: dict[str, Any], position: int, classes: Sequence[str] = ()) -> str:
        """:meth:`why_picked` for a typical row; the rule that took it for a tie-rule round's."""
        kind = pick_kind(info, position)
        if kind is None or kind == TYPICAL:
            return cls.why_picked()
        label, reason = REASONS[kind]
        return f"{cls.title}, {label}: {reason}"

    def tie_representation(
        self, ctx: QueryContext, flat: np.ndarray | Points
    ) -> np.ndarray | Points:
        """Plain DAMI's representation: the logits' interpretations vec(A(x))."""
        return flat

    def _select(self, ctx: QueryContext, k: int, seed: int, reporter: Reporter) -> QueryResult:
        res, points = self.central(ctx, k, seed, reporter)
        result = self.result(ctx, res, points, res.order)
        kinds = tie_kinds(res, result.indices)
        if kinds is not None:
            result.info["pick_kinds"] = kinds
        return result

    def central(
        self, ctx: QueryContext, k: int, seed: int, reporter: Reporter
    ) -> tuple[CentralRowsResult, Points]:
        """The new groups' central rows and seeds, and the points (dp/dx) they were found in."""
        from dami_gui.core.geometry.kmeans import central_rows

        outputs = ctx.model_outputs(self.name)
        models = outputs.local_models(reporter.sub(0.0, 0.4, "Interpreting"))
        points = probability_jacobian(ctx, models)
        res = central_rows(
            points,
            np.flatnonzero(ctx.labeled),
            k,
            candidates=ctx.candidates,
            seed=seed,
            fallback=self.tie_representation(ctx, flat_models(models)),
            device=ctx.device,
            progress=reporter.sub(0.4, 1.0, "Selecting"),
        )
        return res, points

    @staticmethod
    def result(
        ctx: QueryContext, res: CentralRowsResult, points: Points, picks: np.ndarray
    ) -> QueryResult:
        """``picks`` with DAMI+'s scores and what the search did."""
        # Score: how far the row's explanation is from every labeled row's (the quantity the
        # groups are formed against); with nothing labeled, the size of its explanation.
        distance = res.initial_distance
        if not np.isfinite(distance).any():
            distance = points.sq_norms().sqrt().cpu().numpy().astype(np.float64)
        scores = np.where(ctx.candidates, distance, np.nan)
        return QueryResult(
            np.asarray(picks, dtype=np.int64),
            scores,
            info={
                "used_fallback": res.used_fallback,
                "group_size": res.cluster_size,
                "iterations": res.iterations,
                "sampled": res.sampled,
            },
        )
