"""The teacher: the averaged class probabilities of diverse learners fitted on the labeled rows.

An untuned average of learners that fail in different places is robust where any one of them
is not: measured on unseen sets (issue 26), ExtraTrees finds axis-aligned and categorical
boundaries at once, the RBF kernel smooth curved ones (a quadratic boundary in 20 dimensions),
logistic regression the nearly linear ones, and our network is the best learner on many-class
sets. The teacher is fitted on the labels only (a few hundred rows at most), so it is cheap; what
costs is asking it about many rows, which :class:`Teacher.predict_proba` does in chunks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dami_gui.core.learner.members import Proba, fit_member
from dami_gui.core.model import MLPConfig
from dami_gui.core.progress import Reporter

#: Rows asked of the teacher at once (bounds the memory of the members' predictions).
CHUNK_ROWS = 16384


@dataclass
class Teacher:
    """Fitted members (by name) whose probabilities are averaged with equal weights."""

    members: dict[str, Proba]
    n_classes: int

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Averaged probabilities (N x C, float32), computed a chunk of rows at a time."""
        X = np.asarray(X, dtype=np.float32)
        out = np.empty((X.shape[0], self.n_classes), dtype=np.float32)
        for start in range(0, X.shape[0], CHUNK_ROWS):
            rows = X[start : start + CHUNK_ROWS]
            total = np.zeros((rows.shape[0], self.n_classes), dtype=np.float64)
            for proba in self.members.values():
                total += proba(rows)
            out[start : start + CHUNK_ROWS] = total / len(self.members)
        return out


def fit_teacher(
    X: np.ndarray,
    y: np.ndarray,
    n_classes: int,
    members: tuple[str, ...],
    network: MLPConfig,
    seed: int,
    reporter: Reporter,
) -> Teacher:
    """Fit every member on the labeled rows ``X``, ``y``; reports one step per member."""
    X = np.asarray(X, dtype=np.float32)
    y = np.asarray(y, dtype=np.int64)
    fitted: dict[str, Proba] = {}
    for i, name in enumerate(members):
        reporter.check()
        part = reporter.sub(i / len(members), (i + 1) / len(members))
        fitted[name] = fit_member(name, X, y, n_classes, network, seed + 7 * i, part)
        part(None, 1.0)
    return Teacher(fitted, n_classes)
