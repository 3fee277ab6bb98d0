"""One round's learning: the network alone, or the ensemble teacher and its exact student.

:func:`fit_learner` is what a round calls to turn the labels into the network every other part
of the program reads (strategies through ``ModelOutputs``, the map, the explanations, the
exports). With the ensemble it also returns the teacher and the *fidelity*: the share of rows
on which the student's predicted class is the teacher's, measured on rows the student did not
learn from (pool rows left out of its sample, or, in a pool too small to leave rows out, new
rows made like the pool's), so the app can say how closely the explained network follows the
ensemble.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from dami_gui.core.learner.config import NETWORK_LEARNER, LearnerConfig
from dami_gui.core.learner.fidelity import agreement
from dami_gui.core.learner.student import train_student
from dami_gui.core.learner.teacher import Teacher, fit_teacher
from dami_gui.core.learner.transfer import made_like, sample_rows
from dami_gui.core.model import MLP, MLPConfig, predict_proba, train_mlp
from dami_gui.core.progress import CancelToken, ProgressCallback, Reporter, as_reporter

#: Most rows the fidelity is measured on.
CHECK_ROWS = 2000


@dataclass
class FittedLearner:
    """What a round learned.

    ``network`` is the model the app explains (the student, or the network trained on the
    labels); ``learner`` the learner that made it (the network alone when the ensemble had fewer
    than two classes to learn from); ``teacher`` and ``fidelity`` only for the ensemble.
    """

    network: MLP
    learner: LearnerConfig
    teacher: Teacher | None = None
    fidelity: float | None = None
    train_accuracy: float | None = None
    timings: dict[str, float] = field(default_factory=dict)


def fit_learner(
    X: np.ndarray,
    labels: np.ndarray,
    n_classes: int,
    learner: LearnerConfig,
    network: MLPConfig,
    seed: int,
    progress: ProgressCallback | Reporter | None = None,
    cancel: CancelToken | None = None,
) -> FittedLearner:
    """Learn from the rows of ``X`` whose ``labels`` are >= 0 (class codes; -1: no label).

    ``X`` is the whole pool: the ensemble's student learns the teacher over a seeded sample of
    at most ``learner.transfer_rows`` of its rows, and its fidelity is measured on up to
    :data:`CHECK_ROWS` of the others (see :func:`fit_on_sample`).
    """
    X = np.asarray(X, dtype=np.float32)
    labels = np.asarray(labels, dtype=np.int64)
    labeled = labels >= 0
    sample = sample_rows(X.shape[0], learner.transfer_rows, seed + 11)
    left = np.setdiff1d(np.arange(X.shape[0]), sample)
    check = left[sample_rows(left.size, CHECK_ROWS, seed + 17)]
    return fit_on_sample(
        X[labeled],
        labels[labeled],
        X[sample],
        X[check],
        n_classes,
        learner,
        network,
        seed,
        as_reporter(progress, cancel),
    )


def fit_on_sample(
    Xl: np.ndarray,
    yl: np.ndarray,
    sample: np.ndarray,
    check: np.ndarray,
    n_classes: int,
    learner: LearnerConfig,
    network: MLPConfig,
    seed: int,
    reporter: Reporter,
) -> FittedLearner:
    """Learn from the labeled rows ``Xl``, ``yl``, with ``sample`` (pool rows) as the student's
    transfer set and ``check`` (other pool rows, possibly none) for its fidelity.

    Where the pool gives fewer than half of :data:`CHECK_ROWS` check rows (a pool that the
    sample takes whole), the fidelity is measured on rows made like the sample's instead.
    The Dask engine calls this with the rows it gathered from the partitions.
    """
    Xl = np.asarray(Xl, dtype=np.float32)
    yl = np.asarray(yl, dtype=np.int64)
    timings: dict[str, float] = {}
    if not learner.is_ensemble or np.unique(yl).size < 2:
        t0 = time.perf_counter()
        model, report = train_mlp(Xl, yl, n_classes, network, seed, reporter.sub(0, 1, "Training"))
        timings["train"] = time.perf_counter() - t0
        accuracy = None if np.isnan(report.train_accuracy) else report.train_accuracy
        return FittedLearner(model, NETWORK_LEARNER, train_accuracy=accuracy, timings=timings)

    t0 = time.perf_counter()
    teacher = fit_teacher(
        Xl,
        yl,
        n_classes,
        learner.members,
        network,
        seed,
        reporter.sub(0.0, 0.5, "Training"),
        learner.weight_temperature,
    )
    timings["teacher"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    reporter("Training", 0.5)
    sample = np.asarray(sample, dtype=np.float32)
    rows = np.concatenate([sample, made_like(sample, learner.augment_to - sample.shape[0], seed)])
    targets = teacher.predict_proba(rows)
    one_hot = np.eye(n_classes, dtype=np.float32)[yl]
    timings["teacher_labels"] = time.perf_counter() - t0
    reporter.check()

    t0 = time.perf_counter()
    student = train_student(
        np.concatenate([rows, Xl]),
        np.concatenate([targets, one_hot]),
        network,
        learner,
        seed + 3,
        reporter.sub(0.55, 0.95, "Training"),
    )
    timings["student"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    if check.shape[0] < CHECK_ROWS // 2:
        check = made_like(sample, CHECK_ROWS // 2, seed + 19)
    fidelity = agreement(predict_proba(student, check), teacher.predict_proba(check))
    accuracy = float((predict_proba(student, Xl).argmax(1) == yl).mean())
    timings["fidelity"] = time.perf_counter() - t0
    reporter("Training", 1.0)
    return FittedLearner(student, learner, teacher, fidelity, accuracy, timings)
