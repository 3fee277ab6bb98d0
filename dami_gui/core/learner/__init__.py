"""What learns from the labels (the teacher's members, the student's training, fidelity), and
how good it is on them (cross-validated, per class: :mod:`.quality`).

The model the rest of the program reads is always one ReLU network (:mod:`dami_gui.core.model`);
this room decides how it is trained: on the labels alone, or as the exact student of an ensemble
of diverse learners (see :mod:`.config`). The package itself exports only what needs no torch
(the settings and the fidelity's wording), so the command line can read a project's settings
without loading it; the learning is in :mod:`.fit` (one round), :mod:`.teacher`,
:mod:`.student`, :mod:`.transfer` and :mod:`.estimate`.
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
from dami_gui.core.learner.fidelity import POOR_FIDELITY, agreement, describe_learning

__all__ = [
    "DEFAULT_LEARNER",
    "LEARNER_CHOICES",
    "NETWORK_LEARNER",
    "POOR_FIDELITY",
    "LearnerChoice",
    "LearnerConfig",
    "agreement",
    "describe_learning",
    "learner_by_key",
    "learner_choice",
]
