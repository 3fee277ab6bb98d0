"""The records every part of the engine passes around: label events and round results.

Plain dataclasses with no behaviour beyond rebuilding a round's model, kept apart from
:mod:`dami_gui.core.session` so that the modules the session uses (coverage, the project file,
the exports) can name them without importing the session, and no import runs in a circle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from dami_gui.core.errors import DataError

if TYPE_CHECKING:  # torch is loaded when a model is rebuilt, not by the records themselves
    import torch

    from dami_gui.core.learner.teacher import Teacher
    from dami_gui.core.model import MLP

#: The kinds of :class:`LabelEvent`, as stored in a project file's ``events.kind`` column.
EVENT_KINDS = ("label", "skip", "undo")


@dataclass(frozen=True)
class LabelEvent:
    """One thing the user did to a row's label; never changed once recorded.

    ``kind`` is "label" (``label`` is the class code), "skip" ("not sure": kept out of training
    and queries) or "undo" (``undoes`` is the index of the event reverted). ``previous_label`` and
    ``previous_skipped`` are the row's state before the event, which undo restores. ``group`` is
    the index of the first event of the group the event was given in (a group of rows labeled at
    once, or the undo of such a group), None for an event given alone.
    """

    row: int
    kind: str
    label: int | None
    previous_label: int
    previous_skipped: bool
    round: int
    time: float
    undoes: int | None = None
    group: int | None = None


#: ``RoundResult.info`` entries that hold one value per pick, in pick order (the rule that took
#: each pick: DAMI+ blend's "typical"/"boundary", and DAMI+'s or the blend's tie-rule picks'
#: "boundary"/"tie"/"chance"; a cold-start round's pool rows each pick stands for; the ensemble
#: margin's two likeliest classes and their probabilities). A reopened
#: round whose picks no longer match them (rows gone from a changed CSV) drops them rather than
#: explain a pick by another pick's rule.
PER_PICK_INFO = ("pick_kinds", "group_size", "top_two")


@dataclass
class RoundResult:
    """What one round computed; :meth:`dami_gui.core.session.Session.commit_round` records it.

    ``partition`` gives every row's nearest center (an index into ``centers``: the labeled rows,
    then the queries) in interpretation space, whatever strategy picked the queries, and
    ``center_distance`` the distance to it; ``region_ids`` the exact activation region.
    ``teacher`` is the ensemble whose answer the round's network reproduces (None for the
    network alone): held for this session only, never stored (a project keeps the network, the
    learner's settings in ``info["learner"]`` and its fidelity in ``info["fidelity"]``).

    A *cold-start* round (``info["cold_start"]``, see :mod:`dami_gui.core.cold_start`) was
    computed before any model could be trained (fewer than two classes labeled): it has queries
    but no model, no probabilities (``proba`` has no rows), no regions and no partition.
    ``cv_predictions`` holds the cross-validated prediction of each labeled row (rows of
    ``(row, label, predicted)``), from which the accuracy estimate was computed; None when there
    was none.
    """

    index: int
    strategy: str
    batch_size: int
    seed: int
    labeled_count: int
    queries: np.ndarray
    scores: np.ndarray
    partition: np.ndarray | None
    centers: np.ndarray | None
    region_ids: np.ndarray
    proba: np.ndarray
    accuracy_estimate: float | None
    test_accuracy: float | None
    model_state: dict[str, torch.Tensor]
    model_spec: dict[str, Any]
    train_accuracy: float | None = None
    center_distance: np.ndarray | None = None
    timings: dict[str, float] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    teacher: Teacher | None = field(default=None, repr=False, compare=False)
    cv_predictions: np.ndarray | None = None

    @property
    def cold_start(self) -> bool:
        """Computed before a model could be trained: the queries cover the pool, no model."""
        return bool(self.info.get("cold_start", False))

    @property
    def has_model(self) -> bool:
        """Whether the round holds a network (not a cold start, nor a model that was damaged)."""
        return bool(self.model_spec) and bool(self.model_state)

    def model(self) -> MLP:
        """The network trained this round, rebuilt from its weights."""
        if not self.has_model:
            raise DataError(
                f"Round {self.index} has no model: "
                + (
                    "no model can be trained before rows of two classes are labeled."
                    if self.cold_start
                    else "its stored model could not be read."
                )
            )
        from dami_gui.core.model import MLP

        return MLP.from_spec(self.model_spec, self.model_state)
