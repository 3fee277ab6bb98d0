"""A simulated active learning campaign: the data set's own labels play the expert.

The protocol (shared with the label-efficiency benchmark): a stratified split into a pool and a
held-out test set, or a given test file (``test_path``); preprocessing fitted on the pool only
and replayed on the test rows; a random initial labeled set; then, each round, train from
scratch on the labeled rows, measure the test accuracy and balanced accuracy (mean per-class
recall), let the strategy choose ``batch_size`` rows and reveal their labels.
``rounds`` rounds give ``rounds + 1`` points on the learning curve; a pool too small for them
runs out first, and the curve then stops (``stopped_early`` says when).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dami_gui.core.data.cells import natural_sorted
from dami_gui.core.data.dataset import Dataset, build_dataset
from dami_gui.core.data.reader import read_csv
from dami_gui.core.data.roles import RoleReport, infer_roles, label_values
from dami_gui.core.errors import DataError
from dami_gui.core.learner import LearnerConfig
from dami_gui.core.model import MLPConfig, predict_proba
from dami_gui.core.progress import CancelToken
from dami_gui.core.session import Session
from dami_gui.core.strategies import DEFAULT_STRATEGY
from dami_gui.core.validation import check_float, check_int


def stratified_split(
    y: np.ndarray, test_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Pool and test row indices, each class split in the same proportion (seeded)."""
    test_fraction = check_float(
        "test_fraction",
        test_fraction,
        minimum=0.0,
        maximum=1.0,
        strict=True,
        expected="a number strictly between 0 and 1",
    )
    rng = np.random.default_rng(seed)
    test: list[np.ndarray] = []
    for cls in np.unique(y):
        rows = rng.permutation(np.flatnonzero(y == cls))
        n_test = round(test_fraction * rows.size)
        if rows.size >= 2:
            n_test = min(max(n_test, 1), rows.size - 1)
        test.append(rows[:n_test])
    test_rows = np.sort(np.concatenate(test)) if test else np.empty(0, dtype=np.int64)
    pool_rows = np.setdiff1d(np.arange(y.size), test_rows)
    return pool_rows, test_rows


def balanced_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean recall over the classes present in ``y_true``: each class weighs alike."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    recalls = [float((y_pred[y_true == c] == c).mean()) for c in np.unique(y_true)]
    return float(np.mean(recalls)) if recalls else float("nan")


def _labeled_rows(frame: pd.DataFrame, label_column: str) -> pd.DataFrame:
    labeled = frame[label_column].notna() & (frame[label_column].astype(str).str.strip() != "")
    return frame[labeled.to_numpy()].reset_index(drop=True)


def pool_and_test(
    pool_frame: pd.DataFrame,
    test_frame: pd.DataFrame,
    report: RoleReport,
    classes: list[str],
    source: str | Path | None = None,
) -> tuple[Dataset, Dataset]:
    """The pool with preprocessing fitted on it, and the test rows with that preprocessing replayed.

    ``report`` holds the roles found on the pool; columns of it that the test table lacks are
    left out there (an ignored column or the id need not be in the test file).
    """
    pool = build_dataset(pool_frame, report, classes=classes, source=source)
    test_report = RoleReport([d for d in report.decisions if d.column in test_frame.columns])
    test = build_dataset(
        test_frame, test_report, classes=classes, source=source, preprocessing=pool.preprocessing
    )
    return pool, test


def _check_classes(classes: list[str], label_column: str) -> None:
    if len(classes) < 2:
        raise DataError(
            f"The label column {label_column!r} has a single class ({classes[0]!r}); "
            "a simulation needs at least two."
        )


def split_dataset(
    path: str | Path,
    label_column: str,
    id_column: str | None,
    test_fraction: float,
    seed: int,
) -> tuple[Dataset, Dataset]:
    """Read ``path`` and return the pool and the test set; rows with no label are dropped."""
    frame = read_csv(path)
    report = infer_roles(frame, label_column=label_column, id_column=id_column)
    frame = _labeled_rows(frame, label_column)
    if len(frame) == 0:
        raise DataError(f"The label column {label_column!r} is empty; a simulation needs labels.")
    whole = build_dataset(frame, report, source=path)
    _check_classes(whole.classes, label_column)
    pool_rows, test_rows = stratified_split(whole.y, test_fraction, seed)
    return pool_and_test(
        frame.iloc[pool_rows], frame.iloc[test_rows], report, whole.classes, source=path
    )


def pool_and_test_files(
    path: str | Path, test_path: str | Path, label_column: str, id_column: str | None
) -> tuple[Dataset, Dataset]:
    """The pool from ``path`` and the test rows from ``test_path`` (both with labels).

    Roles and preprocessing come from the pool file only; the test file needs the pool's feature
    columns and the label column. Rows with no label are dropped from both; the classes are those
    of either file, so a class seen only in the test rows counts (as always wrong).
    """
    frame = read_csv(path)
    report = infer_roles(frame, label_column=label_column, id_column=id_column)
    frame = _labeled_rows(frame, label_column)
    if len(frame) == 0:
        raise DataError(f"The label column {label_column!r} is empty; a simulation needs labels.")
    test_frame = read_csv(test_path)
    needed = [d.column for d in report.decisions if d.role in ("feature", "label")]
    missing = [c for c in needed if c not in test_frame.columns]
    if missing:
        raise DataError(
            f"The test file {Path(test_path).name} has no column {missing[0]!r}, which the pool "
            "file uses; give both files the same columns."
        )
    test_frame = _labeled_rows(test_frame, label_column)
    if len(test_frame) == 0:
        raise DataError(
            f"The test file {Path(test_path).name} has no labeled row in {label_column!r}; "
            "the test rows need labels."
        )
    classes = natural_sorted(
        sorted(set(label_values(frame, label_column)) | set(label_values(test_frame, label_column)))
    )
    _check_classes(label_values(frame, label_column), label_column)
    return pool_and_test(frame, test_frame, report, classes, source=path)


def simulate(
    path: str | Path,
    *,
    label_column: str,
    id_column: str | None = None,
    strategy: str = DEFAULT_STRATEGY,
    batch_size: int = 20,
    rounds: int = 10,
    initial: int | None = None,
    test_fraction: float = 0.3,
    test_path: str | Path | None = None,
    seed: int = 0,
    model_config: MLPConfig | None = None,
    learner: LearnerConfig | None = None,
    device: str = "auto",
    progress: Callable[[dict[str, Any]], None] | None = None,
    cancel: CancelToken | None = None,
) -> dict[str, Any]:
    """Run the campaign; returns the curve as plain JSON-able data (points, area under it).

    ``test_path``: measure on the labeled rows of that file (preprocessing fitted on the pool and
    replayed on them) instead of holding out ``test_fraction`` of ``path``.
    """
    rounds = check_int("rounds", rounds, minimum=0)
    if test_path is not None:
        pool, test = pool_and_test_files(path, test_path, label_column, id_column)
    else:
        pool, test = split_dataset(path, label_column, id_column, test_fraction, seed)
    initial = check_int(
        "initial",
        batch_size if initial is None else initial,
        maximum=pool.n_rows,
        expected=f"at most the {pool.n_rows} pool rows",
    )
    truth = pool.y.copy()
    rng = np.random.default_rng(seed)
    start = rng.choice(pool.n_rows, size=initial, replace=False)
    pool.y = np.full_like(truth, -1)
    pool.y[start] = truth[start]
    session = Session(
        pool,
        strategy=strategy,
        batch_size=batch_size,
        seed=seed,
        model_config=model_config,
        learner=learner,
        truth=truth,
        test_set=(test.X, test.y),
        estimate_accuracy=False,
        device=device,
    )
    points: list[dict[str, Any]] = []
    stopped_early: str | None = None
    for r in range(rounds + 1):
        t0 = time.perf_counter()
        result = session.run_round(cancel=cancel)
        predicted = predict_proba(result.model(), test.X).argmax(1)
        point: dict[str, Any] = {
            "round": r,
            "labels": result.labeled_count,
            "learner": result.info["learner"]["kind"],
            "test_accuracy": result.test_accuracy,
            "balanced_accuracy": balanced_accuracy(test.y, predicted),
            "seconds": time.perf_counter() - t0,
            "timings": result.timings,
        }
        if result.teacher is not None:
            # how closely the explained network follows the ensemble, on the test rows
            taught = result.teacher.predict_proba(test.X).argmax(1)
            point["teacher_accuracy"] = float((taught == test.y).mean())
            point["teacher_balanced_accuracy"] = balanced_accuracy(test.y, taught)
            point["fidelity"] = float((taught == predicted).mean())
            point["fidelity_on_pool"] = result.info.get("fidelity")
        points.append(point)
        if progress is not None:
            progress(point)
        if r == rounds:
            break
        if session.queries.size == 0:
            stopped_early = (
                f"The pool ran out after round {r}: all {result.labeled_count} pool rows are "
                f"labeled, so the curve has {r + 1} points instead of {rounds + 1}."
            )
            break
        for row in session.queries:
            session.label(int(row), int(truth[row]))
    accuracies = [p["test_accuracy"] for p in points]
    balanced = [p["balanced_accuracy"] for p in points]
    fidelities = [p["fidelity"] for p in points if "fidelity" in p]
    return {
        "data": str(path),
        "label_column": label_column,
        "strategy": strategy,
        "learner": session.learner.to_dict(),
        "batch": batch_size,
        "rounds": rounds,
        "initial": initial,
        "seed": seed,
        "test_fraction": None if test_path is not None else test_fraction,
        "test": None if test_path is None else str(test_path),
        "pool_rows": pool.n_rows,
        "test_rows": test.n_rows,
        "classes": pool.classes,
        "points": points,
        "auc": float(np.mean(accuracies)),
        "final_accuracy": accuracies[-1],
        "balanced_auc": float(np.mean(balanced)),
        "mean_fidelity": float(np.mean(fidelities)) if fidelities else None,
        "final_balanced_accuracy": balanced[-1],
        "stopped_early": stopped_early,
    }
