"""The accuracy estimate without a test set: stratified k-fold cross-validation on the labels.

Each labeled row is predicted by the learner fitted, with the same settings, on the other folds.
For the network alone that is the network; for the ensemble it is the teacher (the student
reproduces the teacher, and the round reports how closely as its fidelity), which keeps the
estimate's cost near the network's: training five students would cost five rounds.
Actively chosen rows are harder than average, so this tends to under-estimate the accuracy on
the whole pool; it is the honest figure available without a test set.
"""

from __future__ import annotations

import numpy as np

from dami_gui.core.learner.config import LearnerConfig
from dami_gui.core.learner.teacher import fit_teacher
from dami_gui.core.model import MLPConfig, predict_proba, train_mlp
from dami_gui.core.progress import CancelToken, ProgressCallback, Reporter, as_reporter

#: Fewest labeled rows for which a cross-validated accuracy estimate is given.
MIN_LABELS_FOR_ESTIMATE = 10
#: Folds of the cross-validated accuracy estimate (fewer when there are fewer labeled rows).
ESTIMATE_FOLDS = 5


def cross_validated_predictions(
    X: np.ndarray,
    y: np.ndarray,
    n_classes: int,
    learner: LearnerConfig,
    network: MLPConfig,
    seed: int,
    progress: ProgressCallback | Reporter | None = None,
    cancel: CancelToken | None = None,
) -> np.ndarray | None:
    """Each labeled row's class as predicted without it (k <= 5 stratified folds).

    None when there are fewer than :data:`MIN_LABELS_FOR_ESTIMATE` labels or a single class.
    """
    reporter = as_reporter(progress, cancel)
    n = len(y)
    if n < MIN_LABELS_FOR_ESTIMATE or np.unique(y).size < 2:
        return None
    folds = min(ESTIMATE_FOLDS, n)
    rng = np.random.default_rng(seed)
    fold_of = np.empty(n, dtype=np.int64)
    order = rng.permutation(n)
    order = order[np.argsort(y[order], kind="stable")]  # stratify: deal each class round-robin
    fold_of[order] = np.arange(n) % folds
    predicted = np.empty(n, dtype=np.int64)
    for f in range(folds):
        test = fold_of == f
        part = reporter.sub(f / folds, (f + 1) / folds)
        fold_seed = seed + 17 * (f + 1)
        rows = np.asarray(X[test], dtype=np.float32)
        if learner.is_ensemble and np.unique(y[~test]).size >= 2:
            teacher = fit_teacher(
                X[~test], y[~test], n_classes, learner.members, network, fold_seed, part
            )
            predicted[test] = teacher.predict_proba(rows).argmax(1)
        else:
            model, _ = train_mlp(X[~test], y[~test], n_classes, network, fold_seed, part)
            predicted[test] = predict_proba(model, rows).argmax(1)
    return predicted


def cross_validated_accuracy(
    X: np.ndarray,
    y: np.ndarray,
    n_classes: int,
    learner: LearnerConfig,
    network: MLPConfig,
    seed: int,
    progress: ProgressCallback | Reporter | None = None,
    cancel: CancelToken | None = None,
) -> float | None:
    """Share of labeled rows :func:`cross_validated_predictions` gets right (None as there)."""
    predicted = cross_validated_predictions(
        X, y, n_classes, learner, network, seed, progress, cancel
    )
    if predicted is None:
        return None
    return float((predicted == np.asarray(y)).mean())
