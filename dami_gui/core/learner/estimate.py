"""The accuracy estimate without a test set: stratified k-fold cross-validation on the labels.

Each labeled row is predicted by the learner fitted, with the same settings, on the other folds.
For the network alone that is the network. For the ensemble it is the teacher (the explained
network reproduces it, and the round reports how closely as its fidelity): the teacher already
cross-validates its members to weigh them (:mod:`.teacher`), and its weighted held-out
predictions are the estimate, at no further cost. (The weights are chosen on those same
predictions, which makes the ensemble's estimate a little hopeful where one member wins by
chance; with five members and weights that stay soft, the effect is small.)
Actively chosen rows are harder than average, so the estimate tends to under-estimate the
accuracy on the whole pool; it is the honest figure available without a test set.
"""

from __future__ import annotations

import numpy as np

from dami_gui.core.learner.config import LearnerConfig
from dami_gui.core.learner.fit import FittedLearner
from dami_gui.core.learner.quality import MIN_LABELS_FOR_ESTIMATE
from dami_gui.core.learner.teacher import fit_teacher, folds_of
from dami_gui.core.model import MLPConfig, predict_proba, train_mlp
from dami_gui.core.progress import CancelToken, ProgressCallback, Reporter, as_reporter

#: Folds of the network's cross-validated accuracy estimate (fewer when there are fewer labeled
#: rows); the ensemble's comes from the teacher's own folds (:data:`.teacher.FOLDS`).
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
    """Each labeled row's class as predicted without it (stratified folds: 5 for the network,
    the teacher's 3 for the ensemble).

    None when there are fewer than :data:`MIN_LABELS_FOR_ESTIMATE` labels or a single class.
    """
    reporter = as_reporter(progress, cancel)
    y = np.asarray(y, dtype=np.int64)
    n = len(y)
    if n < MIN_LABELS_FOR_ESTIMATE or np.unique(y).size < 2:
        return None
    if learner.is_ensemble:
        teacher = fit_teacher(
            X, y, n_classes, learner.members, network, seed, reporter, learner.weight_temperature
        )
        return teacher.held_out
    fold_of = folds_of(y, seed, ESTIMATE_FOLDS)
    folds = int(fold_of.max()) + 1
    predicted = np.empty(n, dtype=np.int64)
    for f in range(folds):
        test = fold_of == f
        part = reporter.sub(f / folds, (f + 1) / folds)
        model, _ = train_mlp(X[~test], y[~test], n_classes, network, seed + 17 * (f + 1), part)
        predicted[test] = predict_proba(model, np.asarray(X[test], dtype=np.float32)).argmax(1)
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


def round_estimate(
    fitted: FittedLearner,
    X: np.ndarray,
    labels: np.ndarray,
    n_classes: int,
    network: MLPConfig,
    seed: int,
    estimate_accuracy: bool,
    progress: ProgressCallback | Reporter | None = None,
) -> tuple[float | None, np.ndarray | None]:
    """A round's accuracy estimate and its cross-validated predictions, rows of ``(row, label,
    predicted)`` for each labeled row of ``labels`` (-1: unlabeled); (None, None) without one.

    The ensemble cross-validated its members to weigh them: their held-out answer is the
    estimate at no further cost, given even when ``estimate_accuracy`` is off. The network alone
    is cross-validated only when it is on.
    """
    labeled = labels >= 0
    predicted = fitted.teacher.held_out if fitted.teacher is not None else None
    if predicted is None and estimate_accuracy:
        predicted = cross_validated_predictions(
            X[labeled], labels[labeled], n_classes, fitted.learner, network, seed, progress
        )
    if predicted is None:
        return None, None
    rows = np.column_stack([np.flatnonzero(labeled), labels[labeled], predicted])
    return float(np.mean(predicted == labels[labeled])), rows.astype(np.int64)
