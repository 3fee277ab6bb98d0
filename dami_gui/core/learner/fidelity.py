"""Fidelity: how closely the explained network (the student) follows the ensemble (its teacher).

The share of rows on which the two predict the same class. The app, the command line and the
benchmark all report it with the words of :func:`describe_learning`, and below
:data:`POOR_FIDELITY` they say plainly that the network explains the ensemble only roughly.
numpy only, so the command line can word a stored round without loading torch.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from dami_gui.core.learner.config import DEFAULT_LEARNER, NETWORK_LEARNER, LearnerConfig

#: Below this fidelity the app and the command line say plainly that the network explains the
#: ensemble only roughly: its explanations are exact for the network, whose answers then differ
#: from the ensemble's on more than one row in twenty.
POOR_FIDELITY = 0.95


def agreement(student_proba: np.ndarray, teacher_proba: np.ndarray) -> float | None:
    """Share of rows whose most probable class is the same for both (None for no row)."""
    if student_proba.shape[0] == 0:
        return None
    return float((student_proba.argmax(1) == teacher_proba.argmax(1)).mean())


def fidelity_share(fidelity: float) -> str:
    """A fidelity as people read it: "97 %", with a decimal near the top ("99.6 %", never a
    rounded "100 %" for a network that differs on some rows)."""
    if fidelity >= 1.0:
        return "100 %"
    if fidelity >= 0.995:
        return f"{min(100 * fidelity, 99.9):.1f} %"
    return f"{100 * fidelity:.0f} %"


def describe_learning(learner: LearnerConfig, fidelity: float | None) -> str:
    """One sentence on what learned this round and, for the ensemble, how closely the network
    the app explains follows it (plainly a warning when it follows poorly)."""
    if not learner.is_ensemble or fidelity is None:
        return "The network learned from the labeled rows alone."
    share = fidelity_share(fidelity)
    if fidelity < POOR_FIDELITY:
        return (
            f"The network follows the ensemble poorly this round (the same class on {share} "
            "of the rows checked): its explanations are exact for the network, whose answers "
            "differ from the ensemble's more often than usual."
        )
    return (
        f"The network reproduces the ensemble (the same class on {share} of the rows checked), "
        "so its exact explanations describe the ensemble's answers."
    )


def round_fidelity(info: dict[str, Any]) -> float | None:
    """The fidelity a round recorded (``RoundResult.info``), None for a round of the network
    alone, from before the ensemble, or whose record makes no sense."""
    stored = info.get("learner")
    fidelity = info.get("fidelity")
    if not isinstance(stored, dict) or stored.get("kind") != "ensemble":
        return None
    if isinstance(fidelity, bool) or not isinstance(fidelity, (int, float)):
        return None
    return float(fidelity) if math.isfinite(fidelity) and 0.0 <= fidelity <= 1.0 else None


def describe_round(info: dict[str, Any]) -> tuple[str, bool]:
    """What learned in a round whose ``RoundResult.info`` is ``info``, in the words of
    :func:`describe_learning`, and whether the network follows the ensemble poorly (below
    :data:`POOR_FIDELITY`); a round from before the ensemble learned with the network alone."""
    fidelity = round_fidelity(info)
    learner = NETWORK_LEARNER if fidelity is None else DEFAULT_LEARNER
    return describe_learning(learner, fidelity), fidelity is not None and fidelity < POOR_FIDELITY
