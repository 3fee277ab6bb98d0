"""The teacher: diverse learners fitted on the labeled rows, their probabilities weighed by how
well each predicts the labels it was not trained on.

No single learner is best on every table: ExtraTrees and random forests find axis-aligned and
categorical boundaries at once, the RBF kernel smooth curved ones, logistic regression nearly
linear ones, and our network many-class ones. Each round, every member is cross-validated on
the labels (stratified 3-fold), and the teacher's
probabilities are the members' averaged with weights ``exp(-L_m / T)``, where ``L_m`` is member
``m``'s log-loss on the rows it did not see and ``T`` is :attr:`LearnerConfig.weight_temperature`
(a fixed constant, not fitted to any data set). A member that predicts the held-out labels
clearly worse than another gets little weight; members that do about as well share it, so the
teacher keeps the robustness of an average where the labels cannot tell the members apart.

Measured with random labels (20 to 11 B of them) on the 24 tuning sets and the 14 synthetic
families (seeds 0 and 1): an equal average of network, ExtraTrees, RBF SVM and logistic
regression was 0.1 points below the network alone on the tuning sets and level with it on the
synthetic ones; these cross-validated weights over five members were +0.4 and +2.1 points above
the network alone, and the closest to the best single learner of each set (docs/benchmarks.md).

With fewer than :data:`MIN_LABELS_FOR_WEIGHTS` labels the held-out predictions say too little,
and the members are weighed equally. The members' held-out predictions, weighed the same way,
are also the round's cross-validated accuracy estimate (the teacher is what the explained
network reproduces), so the weights cost no training beyond what the estimate needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dami_gui.core.learner.members import Proba, fit_member
from dami_gui.core.model import MLPConfig
from dami_gui.core.progress import Reporter

#: Rows asked of the teacher at once (bounds the memory of the members' predictions).
CHUNK_ROWS = 16384
#: Fewest labels for which the members are weighed by their held-out predictions.
MIN_LABELS_FOR_WEIGHTS = 10
#: Folds of the cross-validation (fewer when there are fewer labels). Three rather than the five
#: of the network's estimate: every fold fits every member again, and the network's own fits
#: are most of a round's cost; three held-out thirds weigh the members about as well.
FOLDS = 3


@dataclass
class Teacher:
    """Fitted members (by name) and their weights; their probabilities averaged with them.

    ``held_out`` is the ensemble's prediction of each labeled row by members that did not see
    it (None when there were too few labels to cross-validate), in the order of the labels.
    """

    members: dict[str, Proba]
    weights: dict[str, float]
    n_classes: int
    held_out: np.ndarray | None = field(default=None, repr=False)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Weighted probabilities (N x C, float32), computed a chunk of rows at a time."""
        X = np.asarray(X, dtype=np.float32)
        out = np.empty((X.shape[0], self.n_classes), dtype=np.float32)
        for start in range(0, X.shape[0], CHUNK_ROWS):
            rows = X[start : start + CHUNK_ROWS]
            total = np.zeros((rows.shape[0], self.n_classes), dtype=np.float64)
            for name, proba in self.members.items():
                if self.weights[name] > 0.0:
                    total += self.weights[name] * proba(rows)
            out[start : start + CHUNK_ROWS] = total
        return out


def folds_of(y: np.ndarray, seed: int, folds: int = FOLDS) -> np.ndarray:
    """Each labeled row's fold: stratified (each class dealt round-robin in a seeded order)."""
    n = len(y)
    folds = min(folds, n)
    order = np.random.default_rng(seed).permutation(n)
    order = order[np.argsort(y[order], kind="stable")]
    fold_of = np.empty(n, dtype=np.int64)
    fold_of[order] = np.arange(n) % max(folds, 1)
    return fold_of


def member_weights(
    held_out: dict[str, np.ndarray], y: np.ndarray, temperature: float
) -> dict[str, float]:
    """Weights ``exp(-log-loss / temperature)`` of the members' held-out probabilities, summing
    to one (the best member's weight computed first, so none underflows to nothing)."""
    losses = {
        name: float(-np.log(np.clip(p[np.arange(len(y)), y], 1e-6, 1.0)).mean())
        for name, p in held_out.items()
    }
    best = min(losses.values())
    raw = {name: float(np.exp(-(loss - best) / temperature)) for name, loss in losses.items()}
    total = sum(raw.values())
    return {name: value / total for name, value in raw.items()}


def fit_teacher(
    X: np.ndarray,
    y: np.ndarray,
    n_classes: int,
    members: tuple[str, ...],
    network: MLPConfig,
    seed: int,
    reporter: Reporter,
    temperature: float = 0.05,
) -> Teacher:
    """Cross-validate every member on the labeled rows ``X``, ``y`` to weigh it, then fit it on
    them all. Reports one step per member and fold."""
    X = np.asarray(X, dtype=np.float32)
    y = np.asarray(y, dtype=np.int64)
    n = len(y)
    weigh = n >= MIN_LABELS_FOR_WEIGHTS
    fold_of = folds_of(y, seed) if weigh else np.zeros(n, dtype=np.int64)
    folds = int(fold_of.max()) + 1 if weigh else 0
    steps = len(members) * (folds + 1)
    fitted: dict[str, Proba] = {}
    held_out: dict[str, np.ndarray] = {}
    for i, name in enumerate(members):
        member_seed = seed + 7 * i
        if weigh:
            held = np.zeros((n, n_classes), dtype=np.float32)
            for f in range(folds):
                step = i * (folds + 1) + f
                part = reporter.sub(step / steps, (step + 1) / steps)
                test = fold_of == f
                proba = fit_member(
                    name, X[~test], y[~test], n_classes, network, member_seed + 17 * (f + 1), part
                )
                held[test] = proba(X[test])
            held_out[name] = held
        step = i * (folds + 1) + folds
        part = reporter.sub(step / steps, (step + 1) / steps)
        fitted[name] = fit_member(name, X, y, n_classes, network, member_seed, part)
        part(None, 1.0)
    if weigh:
        weights = member_weights(held_out, y, temperature)
        ensemble = sum(weights[name] * held_out[name] for name in members)
        predicted = np.asarray(ensemble).argmax(1)
        return Teacher(fitted, weights, n_classes, predicted)
    return Teacher(fitted, {name: 1.0 / len(members) for name in members}, n_classes)
