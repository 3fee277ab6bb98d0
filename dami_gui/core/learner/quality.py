"""How good the model is on the labels, per class: cross-validated predictions and their report.

Every round estimates the accuracy by cross-validation on the labeled rows: each labeled row is
predicted by a network trained, with the round's schedule, on the other folds
(:func:`cross_validated_predictions`; stratified, at most :data:`ESTIMATE_FOLDS` folds, from
:data:`MIN_LABELS_FOR_ESTIMATE` labels of two classes or more). The same predictions give, per
class, the precision (of the rows predicted as the class, the share that has it) and the recall
(of the rows that have it, the share predicted as it), and the confusion matrix
(:func:`class_report`): where the model confuses which classes, on rows it did not see.

Actively chosen rows are harder than average, so these figures tend to under-estimate the model
on the whole pool; they are the honest figures available without a test set.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dami_gui.core.errors import ParameterError
from dami_gui.core.network import MLPConfig
from dami_gui.core.progress import CancelToken, ProgressCallback, Reporter, as_reporter

#: Fewest labeled rows for which cross-validated figures are given.
MIN_LABELS_FOR_ESTIMATE = 10
#: Folds of the cross-validation (fewer when there are fewer labeled rows).
ESTIMATE_FOLDS = 5


def cross_validated_predictions(
    X: np.ndarray,
    y: np.ndarray,
    n_classes: int,
    config: MLPConfig,
    seed: int,
    progress: ProgressCallback | Reporter | None = None,
    cancel: CancelToken | None = None,
) -> np.ndarray | None:
    """The class each labeled row (``X``, ``y``) gets from a network trained without its fold.

    Stratified k-fold (k <= :data:`ESTIMATE_FOLDS`), each fold's network trained with
    ``config`` and its own seed. None when there are fewer than
    :data:`MIN_LABELS_FOR_ESTIMATE` labels or a single class.
    """
    import torch  # the training's, loaded when a round computes (not to read a project)

    from dami_gui.core.model import train_mlp

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
        model, _ = train_mlp(
            X[~test],
            y[~test],
            n_classes,
            config,
            seed + 17 * (f + 1),
            reporter.sub(f / folds, (f + 1) / folds),
        )
        with torch.no_grad():
            pred = model(torch.from_numpy(np.asarray(X[test], dtype=np.float32))).argmax(1).numpy()
        predicted[test] = pred
    return predicted


def cross_validated_accuracy(
    X: np.ndarray,
    y: np.ndarray,
    n_classes: int,
    config: MLPConfig,
    seed: int,
    progress: ProgressCallback | Reporter | None = None,
    cancel: CancelToken | None = None,
) -> float | None:
    """The share of :func:`cross_validated_predictions` that is right (None when there are
    none): the round's accuracy estimate."""
    predicted = cross_validated_predictions(X, y, n_classes, config, seed, progress, cancel)
    return None if predicted is None else float(np.mean(predicted == y))


@dataclass(frozen=True)
class ClassReport:
    """Per-class figures from (label, predicted) pairs.

    ``confusion[i, j]``: rows labeled ``i`` predicted as ``j``. ``precision[k]`` and
    ``recall[k]`` are NaN where they are not defined (no row predicted as, or labeled, ``k``);
    ``support[k]`` is the number of rows labeled ``k``.
    """

    confusion: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    support: np.ndarray

    @property
    def accuracy(self) -> float:
        total = int(self.confusion.sum())
        return float(np.trace(self.confusion) / total) if total else float("nan")


def class_report(labels: np.ndarray, predicted: np.ndarray, n_classes: int) -> ClassReport:
    """Confusion matrix, precision, recall and support of ``predicted`` against ``labels``
    (class codes 0 … ``n_classes``-1, one pair per row)."""
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    predicted = np.asarray(predicted, dtype=np.int64).reshape(-1)
    if labels.shape != predicted.shape:
        raise ParameterError("predicted", f"one class per label ({labels.size})", predicted.size)
    for name, codes in (("labels", labels), ("predicted", predicted)):
        if codes.size and (codes.min() < 0 or codes.max() >= n_classes):
            raise ParameterError(name, f"class codes in 0..{n_classes - 1}", codes.max())
    cells = np.bincount(labels * n_classes + predicted, minlength=n_classes * n_classes)
    confusion = cells.reshape(n_classes, n_classes)
    hits = np.diag(confusion).astype(np.float64)
    predicted_as = confusion.sum(axis=0).astype(np.float64)
    support = confusion.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(predicted_as > 0, hits / predicted_as, np.nan)
        recall = np.where(support > 0, hits / support, np.nan)
    return ClassReport(confusion, precision, recall, support.astype(np.int64))
