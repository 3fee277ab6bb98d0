"""A simulated active learning campaign: the data set's own labels play the expert.

The protocol (shared with the label-efficiency benchmark): a stratified split into a pool and a
held-out test set; preprocessing fitted on the pool only and replayed on the test rows; a random
initial labeled set; then, each round, train from scratch on the labeled rows, measure the test
accuracy, let the strategy choose ``batch_size`` rows and reveal their labels.
``rounds`` rounds give ``rounds + 1`` points on the learning curve.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from dami_gui.core.data.dataset import Dataset, build_dataset
from dami_gui.core.data.reader import read_csv
from dami_gui.core.data.roles import infer_roles
from dami_gui.core.errors import DataError
from dami_gui.core.model import MLPConfig
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
    labeled = frame[label_column].notna() & (frame[label_column].astype(str).str.strip() != "")
    frame = frame[labeled.to_numpy()].reset_index(drop=True)
    if len(frame) == 0:
        raise DataError(f"The label column {label_column!r} is empty; a simulation needs labels.")
    whole = build_dataset(frame, report, source=path)
    if len(whole.classes) < 2:
        raise DataError(
            f"The label column {label_column!r} has a single class ({whole.classes[0]!r}); "
            "a simulation needs at least two."
        )
    pool_rows, test_rows = stratified_split(whole.y, test_fraction, seed)
    pool = build_dataset(frame.iloc[pool_rows], report, classes=whole.classes, source=path)
    test = build_dataset(
        frame.iloc[test_rows],
        report,
        classes=whole.classes,
        source=path,
        preprocessing=pool.preprocessing,
    )
    return pool, test


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
    seed: int = 0,
    model_config: MLPConfig | None = None,
    device: str = "auto",
    progress: Callable[[dict[str, Any]], None] | None = None,
    cancel: CancelToken | None = None,
) -> dict[str, Any]:
    """Run the campaign; returns the curve as plain JSON-able data (points, area under it)."""
    rounds = check_int("rounds", rounds, minimum=0)
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
        truth=truth,
        test_set=(test.X, test.y),
        estimate_accuracy=False,
        device=device,
    )
    points: list[dict[str, Any]] = []
    for r in range(rounds + 1):
        t0 = time.perf_counter()
        result = session.run_round(cancel=cancel)
        point: dict[str, Any] = {
            "round": r,
            "labels": result.labeled_count,
            "test_accuracy": result.test_accuracy,
            "seconds": time.perf_counter() - t0,
            "timings": result.timings,
        }
        points.append(point)
        if progress is not None:
            progress(point)
        if r < rounds:
            for row in session.queries:
                session.label(int(row), int(truth[row]))
    accuracies = [p["test_accuracy"] for p in points]
    return {
        "data": str(path),
        "label_column": label_column,
        "strategy": strategy,
        "batch": batch_size,
        "rounds": rounds,
        "initial": initial,
        "seed": seed,
        "test_fraction": test_fraction,
        "pool_rows": pool.n_rows,
        "test_rows": test.n_rows,
        "classes": pool.classes,
        "points": points,
        "auc": float(np.mean(accuracies)),
        "final_accuracy": accuracies[-1],
    }
