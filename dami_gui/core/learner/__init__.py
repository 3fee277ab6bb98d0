"""What learns from the labels (the teacher's members, the student's training, fidelity).

The model the rest of the program reads is always one ReLU network (:mod:`dami_gui.core.model`);
this room decides how it is trained: on the labels alone, or as the exact student of an ensemble
of diverse learners (see :mod:`.config`).
"""

from dami_gui.core.learner.config import (
    DEFAULT_LEARNER,
    LEARNER_CHOICES,
    NETWORK_LEARNER,
    LearnerChoice,
    LearnerConfig,
    learner_by_key,
    learner_choice,
)
from dami_gui.core.learner.fit import (
    POOR_FIDELITY,
    FittedLearner,
    agreement,
    describe_learning,
    fit_learner,
)
from dami_gui.core.learner.teacher import Teacher

__all__ = [
    "DEFAULT_LEARNER",
    "LEARNER_CHOICES",
    "NETWORK_LEARNER",
    "POOR_FIDELITY",
    "FittedLearner",
    "LearnerChoice",
    "LearnerConfig",
    "Teacher",
    "agreement",
    "describe_learning",
    "fit_learner",
    "learner_by_key",
    "learner_choice",
]
