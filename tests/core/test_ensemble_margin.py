"""Margin on the ensemble's probabilities (issue 26, step 3): it ranks by the teacher, not by the
network; it says why with the teacher's two numbers; it bounds its work on a big pool."""

from __future__ import annotations

import numpy as np
import pytest

from dami_gui.core.errors import Cancelled
from dami_gui.core.model import MLPConfig, train_mlp
from dami_gui.core.progress import CancelToken
from dami_gui.core.strategies import (
    ModelOutputs,
    QueryContext,
    available,
    get_strategy,
    reads_ensemble,
    why_this_row,
)
from dami_gui.core.strategies import ensemble as ensemble_module

SMALL = MLPConfig(hidden=(16, 16), min_epochs=20, min_steps=60)


class FixedTeacher:
    """A teacher whose probabilities are given row by row (keyed by the row's first value)."""

    def __init__(self, proba: np.ndarray) -> None:
        self.proba = proba.astype(np.float32)
        self.asked = 0

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        self.asked += X.shape[0]
        return self.proba[X[:, 0].astype(np.int64)]


def pool(n=200, classes=3, seed=0):
    """Rows whose first column is their own row number (so the fake teacher finds them)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    X = rng.normal(size=(n, 4)).astype(np.float32) + 3.0 * np.eye(classes, 4)[y]
    X[:, 0] = np.arange(n)
    labeled = np.zeros(n, dtype=bool)
    labeled[::10] = True
    model, _ = train_mlp(X[labeled], y[labeled], classes, SMALL, seed)
    return X, labeled, model


def teacher_for(n, classes=3, seed=1):
    """Confident everywhere but on a few rows, whose margins are known."""
    proba = np.full((n, classes), 0.02, dtype=np.float64)
    proba[:, 0] = 1.0 - 0.02 * (classes - 1)
    unsure = {13: (0.40, 0.38), 57: (0.45, 0.35), 101: (0.50, 0.49), 151: (0.41, 0.385)}
    for row, (a, b) in unsure.items():
        proba[row] = [b, a] + [(1 - a - b) / (classes - 2)] * (classes - 2)
    return proba, unsure


def test_it_is_offered_and_ranks_by_the_teachers_margin_not_the_networks():
    assert "teacher-margin" in available() and reads_ensemble("teacher-margin")
    assert not any(reads_ensemble(name) for name in available() if name != "teacher-margin")
    X, labeled, model = pool()
    proba, _ = teacher_for(len(X))
    teacher = FixedTeacher(proba)
    ctx = QueryContext(X, labeled, ModelOutputs(model, X, teacher=teacher))
    res = get_strategy("teacher-margin").query(ctx, 4, seed=0)
    assert res.indices.tolist() == [101, 13, 151, 57]  # margins 0.01, 0.02, 0.025, 0.10
    assert teacher.asked == int((~labeled).sum())  # the candidates, not the labeled rows
    gap = np.sort(proba, axis=1)[:, -1] - np.sort(proba, axis=1)[:, -2]
    np.testing.assert_allclose(res.scores[~labeled], -gap[~labeled], atol=1e-6)
    assert np.isnan(res.scores[labeled]).all()
    assert res.info["scored_by"] == "ensemble" and res.info["scored_rows"] == (~labeled).sum()
    first = res.info["top_two"][0]
    assert first[0] == 1 and first[2] == 0
    assert first[1] == pytest.approx(0.50) and first[3] == pytest.approx(0.49)


def test_without_a_teacher_it_is_margin_sampling_on_the_network():
    X, labeled, model = pool(seed=3)
    ctx = QueryContext(X, labeled, ModelOutputs(model, X))
    ours = get_strategy("teacher-margin").query(ctx, 15, seed=4)
    margin = get_strategy("margin").query(ctx, 15, seed=4)
    assert ours.indices.tolist() == margin.indices.tolist()
    assert ours.info["scored_by"] == "network"


def test_why_this_row_names_the_two_classes_and_their_probabilities():
    X, labeled, model = pool()
    proba, _ = teacher_for(len(X))
    ctx = QueryContext(X, labeled, ModelOutputs(model, X, teacher=FixedTeacher(proba)))
    res = get_strategy("teacher-margin").query(ctx, 4, seed=0)
    text = why_this_row("teacher-margin", res.info, 0, ["red", "green", "blue"])
    assert text.startswith("Ensemble margin: the ensemble hesitates between 'green' (0.50)")
    assert "'red' (0.49)" in text and f"the closest call of {(~labeled).sum()} rows" in text
    second = why_this_row("teacher-margin", res.info, 1)
    assert "class 2 (0.40)" in second and "class 1 (0.38)" in second  # no names given
    assert second.endswith(", after the one picked before.")
    assert why_this_row("teacher-margin", res.info, 3).endswith(", after the 3 picked before.")


@pytest.mark.parametrize(
    "info",
    [{}, {"top_two": "x"}, {"top_two": [[1, 0.5]]}, {"top_two": [["a", 0.5, 0, 0.4]]}],
)
def test_a_record_it_cannot_read_gets_the_general_reason(info):
    assert why_this_row("teacher-margin", info, 0) == get_strategy("teacher-margin").why_picked()


def test_a_big_pool_is_scored_on_a_seeded_sample(monkeypatch):
    monkeypatch.setattr(ensemble_module, "SCORED_ROWS", 50)
    X, labeled, model = pool()
    proba, _ = teacher_for(len(X))
    teacher = FixedTeacher(proba)
    ctx = QueryContext(X, labeled, ModelOutputs(model, X, teacher=teacher))
    a = get_strategy("teacher-margin").query(ctx, 5, seed=2)
    b = get_strategy("teacher-margin").query(ctx, 5, seed=2)
    assert teacher.asked == 100 and np.isfinite(a.scores).sum() == 50
    assert np.isfinite(a.scores[a.indices]).all() and a.info["scored_rows"] == 50
    np.testing.assert_array_equal(a.indices, b.indices)
    best = np.flatnonzero(np.isfinite(a.scores))
    best = best[np.argsort(-a.scores[best], kind="stable")][:5]
    assert set(a.indices.tolist()) == set(best.tolist()) or np.allclose(
        np.sort(a.scores[a.indices]), np.sort(a.scores[best])
    )


def test_asking_the_teacher_reports_progress_and_can_be_cancelled(monkeypatch):
    monkeypatch.setattr(ensemble_module, "STEP_ROWS", 40)
    X, labeled, model = pool()
    proba, _ = teacher_for(len(X))
    ctx = QueryContext(X, labeled, ModelOutputs(model, X, teacher=FixedTeacher(proba)))
    seen: list[float] = []
    get_strategy("teacher-margin").query(ctx, 3, progress=lambda stage, f: seen.append(f))
    assert len(seen) >= 5 and seen == sorted(seen) and seen[-1] == 1.0
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        get_strategy("teacher-margin").query(ctx, 3, cancel=token)


def test_a_session_round_with_the_ensemble_asks_its_teacher():
    """The app's round hands the strategy its ensemble: the picks are the teacher's closest
    calls, and the reason kept with the round names the ensemble."""
    import pandas as pd

    from dami_gui.core.data.dataset import build_dataset
    from dami_gui.core.data.roles import infer_roles
    from dami_gui.core.learner import LearnerConfig
    from dami_gui.core.session import Session

    rng = np.random.default_rng(0)
    n = 300
    X = rng.normal(size=(n, 4))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    frame["kind"] = [("yes" if y[i] else "no") if i < 30 else None for i in range(n)]
    dataset = build_dataset(frame, infer_roles(frame, label_column="kind"), classes=["no", "yes"])
    fast = LearnerConfig(transfer_rows=300, augment_to=400, student_epochs=5, student_min_steps=200)
    session = Session(
        dataset,
        strategy="teacher-margin",
        batch_size=5,
        model_config=SMALL,
        learner=fast,
        estimate_accuracy=False,
        device="cpu",
    )
    result = session.run_round()
    assert result.teacher is not None and result.info["scored_by"] == "ensemble"
    teacher_proba = result.teacher.predict_proba(dataset.X.astype(np.float32))
    gap = np.abs(teacher_proba[:, 1] - teacher_proba[:, 0])
    unlabeled = np.flatnonzero(session.labels < 0)
    closest = np.sort(gap[unlabeled])[:5]
    np.testing.assert_allclose(np.sort(gap[result.queries]), closest, atol=1e-5)
    assert "the ensemble hesitates between" in why_this_row(
        result.strategy, result.info, 0, session.classes
    )
