"""Per-class figures from the cross-validated predictions every round makes
(core/learner/quality.py, from core/learner/estimate.py), kept with the round in a project."""

from __future__ import annotations

import numpy as np
import pytest

from dami_gui.core.errors import ParameterError
from dami_gui.core.learner import NETWORK_LEARNER
from dami_gui.core.learner.estimate import cross_validated_accuracy, cross_validated_predictions
from dami_gui.core.learner.quality import class_report
from dami_gui.core.model import MLPConfig

from .project_data import TINY_LEARNER

SMALL = MLPConfig(hidden=(16,), min_epochs=20, min_steps=100)


def test_class_report_counts_by_hand():
    labels = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2])
    predicted = np.array([0, 0, 1, 1, 1, 2, 2, 0, 1])
    report = class_report(labels, predicted, 4)
    expected = np.zeros((4, 4), np.int64)
    for a, b in zip(labels, predicted, strict=True):
        expected[a, b] += 1
    np.testing.assert_array_equal(report.confusion, expected)
    # precision of class 1: 2 right of the 4 predicted as 1; recall of class 2: 2 of 4
    assert report.precision[1] == pytest.approx(2 / 4) and report.recall[2] == pytest.approx(2 / 4)
    assert report.precision[0] == pytest.approx(2 / 3) and report.recall[0] == pytest.approx(2 / 3)
    assert np.isnan(report.precision[3]) and np.isnan(report.recall[3])  # class 3: no row
    assert report.support.tolist() == [3, 2, 4, 0]
    assert report.accuracy == pytest.approx(6 / 9)
    with pytest.raises(ParameterError, match="predicted"):
        class_report(labels, predicted[:-1], 3)
    with pytest.raises(ParameterError, match="labels"):
        class_report(labels, predicted, 2)


def test_the_accuracy_estimate_is_the_share_of_right_cross_validated_predictions():
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(-2, 1, (30, 3)), rng.normal(2, 1, (30, 3))]).astype(np.float32)
    y = np.repeat([0, 1], 30)
    net = NETWORK_LEARNER
    predicted = cross_validated_predictions(X, y, 2, net, SMALL, 3)
    assert predicted is not None and predicted.shape == y.shape
    accuracy = cross_validated_accuracy(X, y, 2, net, SMALL, 3)
    assert accuracy == pytest.approx(np.mean(predicted == y))
    assert cross_validated_predictions(X[:5], y[:5], 2, net, SMALL, 3) is None
    assert cross_validated_predictions(X, np.zeros(60, np.int64), 2, net, SMALL, 3) is None


@pytest.mark.parametrize("learner", [NETWORK_LEARNER, TINY_LEARNER], ids=["network", "ensemble"])
def test_a_round_keeps_its_cross_validated_predictions_and_a_project_reads_them_back(
    tmp_path, learner
):
    from dami_gui.core.data.dataset import load_dataset
    from dami_gui.core.project.creating import create_project
    from dami_gui.core.project.opening import open_project
    from dami_gui.core.session import Session

    rng = np.random.default_rng(1)
    lines = ["a,b,kind"]
    for i in range(120):
        k = i % 3
        lines.append(f"{k * 3 + rng.normal():.3f},{rng.normal():.3f},{'xyz'[k] if i < 30 else ''}")
    csv = tmp_path / "pool.csv"
    csv.write_text("\n".join(lines) + "\n")
    dataset = load_dataset(csv, label_column="kind")
    session = Session(dataset, batch_size=5, model_config=SMALL, learner=learner)
    result = session.run_round()
    cv = result.cv_predictions
    labeled = np.flatnonzero(session.labels >= 0)
    assert cv is not None and cv.shape == (30, 3)
    assert (
        cv[:, 0].tolist() == labeled.tolist()
        and cv[:, 1].tolist() == session.labels[labeled].tolist()
    )
    assert result.accuracy_estimate == pytest.approx(np.mean(cv[:, 1] == cv[:, 2]))
    if learner.is_ensemble:  # the teacher's held-out answer, which weighed its members
        assert result.teacher is not None
        np.testing.assert_array_equal(cv[:, 2], result.teacher.held_out)
    create_project(tmp_path / "pool.dami", session).close()
    with open_project(tmp_path / "pool.dami") as project:
        (again,) = project.session.rounds
        assert project.notes == []
        np.testing.assert_array_equal(again.cv_predictions, cv)
