"""How good the model is on the labels, per class: the report of its cross-validated predictions.

Every round predicts each labeled row without it (:mod:`.estimate`: the ensemble's held-out
answer, or the network alone trained on the other folds; from :data:`MIN_LABELS_FOR_ESTIMATE`
labels of two classes or more) and keeps those predictions with the round. They give, per class,
the precision (of the rows predicted as the class, the share that has it) and the recall (of the
rows that have it, the share predicted as it), and the confusion matrix (:func:`class_report`):
where the model confuses which classes, on rows it did not see. This module needs no torch: the
app's panel and a project's reader use it.

Actively chosen rows are harder than average, so these figures tend to under-estimate the model
on the whole pool; they are the honest figures available without a test set.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dami_gui.core.errors import ParameterError

#: Fewest labeled rows for which cross-validated figures are given (also the fewest for which the
#: ensemble weighs its members: :data:`.teacher.MIN_LABELS_FOR_WEIGHTS`).
MIN_LABELS_FOR_ESTIMATE = 10


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
