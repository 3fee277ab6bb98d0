"""The learner: an ensemble teacher fitted on the labels, and the exact network reproducing it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dami_gui.core.errors import Cancelled, ParameterError
from dami_gui.core.interpret import interpret
from dami_gui.core.learner import (
    DEFAULT_LEARNER,
    LEARNER_CHOICES,
    NETWORK_LEARNER,
    LearnerConfig,
    learner_by_key,
    learner_choice,
)
from dami_gui.core.learner.estimate import cross_validated_accuracy, cross_validated_predictions
from dami_gui.core.learner.fit import fit_learner
from dami_gui.core.learner.transfer import made_like, nearest_neighbours, sample_rows
from dami_gui.core.model import MLP, MLPConfig, predict_proba
from dami_gui.core.progress import CancelToken

TINY = MLPConfig(hidden=(16, 16), min_epochs=20, min_steps=60)
#: The ensemble with a small student's training, so that a test round takes a second or two.
FAST = LearnerConfig(
    transfer_rows=600,
    augment_to=800,
    student_epochs=10,
    student_min_steps=800,
    student_batch_size=64,
)


def xor_pool(n=1200, seed=0):
    """Two informative columns whose XOR is the class, among four irrelevant ones."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6)).astype(np.float32)
    y = ((X[:, 0] > 0) ^ (X[:, 1] > 0)).astype(np.int64)
    return X, y


def some_labels(y, count, seed=0):
    labels = np.full(y.shape, -1, dtype=np.int64)
    rows = np.random.default_rng(seed).choice(y.size, count, replace=False)
    labels[rows] = y[rows]
    return labels


def test_the_offered_learners_start_with_the_ensemble_and_keep_the_network():
    assert LEARNER_CHOICES[0].config == DEFAULT_LEARNER and DEFAULT_LEARNER.is_ensemble
    assert learner_by_key("network") == NETWORK_LEARNER and not NETWORK_LEARNER.is_ensemble
    assert learner_choice(FAST) is None
    assert learner_choice(LearnerConfig()) is LEARNER_CHOICES[0]
    with pytest.raises(ParameterError, match=r"'learner'.*ensemble, network.*'forest'"):
        learner_by_key("forest")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("kind", "forest", "'kind'"),
        ("members", ("network", "knn"), "'members'"),
        ("members", ("network", "network"), "'members'"),
        ("members", (), "'members'"),
        ("transfer_rows", 0, "'transfer_rows'.*positive"),
        ("augment_to", -1, "'augment_to'"),
        ("student_epochs", 2.5, "'student_epochs'"),
        ("student_learning_rate", 0.0, "'student_learning_rate'.*positive"),
        ("student_weight_decay", float("nan"), "'student_weight_decay'"),
    ],
)
def test_a_bad_setting_names_the_parameter(field, value, message):
    with pytest.raises(ParameterError, match=message):
        LearnerConfig(**{field: value})


def test_a_config_goes_to_plain_values_and_back():
    data = FAST.to_dict()
    assert data["members"] == list(FAST.members) and isinstance(data["transfer_rows"], int)
    assert LearnerConfig.from_dict(data) == FAST
    with pytest.raises(TypeError):
        LearnerConfig.from_dict({**data, "unknown": 1})


def test_rows_made_like_the_pool_stay_between_neighbours():
    X = np.random.default_rng(0).normal(size=(300, 5)).astype(np.float32)
    made = made_like(X, 1000, seed=3)
    assert made.shape == (1000, 5) and made.dtype == np.float32
    np.testing.assert_array_equal(made, made_like(X, 1000, seed=3))  # seeded
    # each value is its row's own or drawn around the neighbour's: within the data's range
    # widened by the spread, and about half of them kept as they were
    kept = np.isin(made, X).mean()
    assert 0.3 < kept < 0.7
    assert made_like(X, 0, seed=1).shape == (0, 5) and made_like(X[:1], 5, seed=1).shape == (0, 5)


def test_nearest_neighbours_are_the_brute_force_ones():
    X = np.random.default_rng(1).normal(size=(2500, 3)).astype(np.float32)  # more than a block
    distances = ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(distances, np.inf)
    found = nearest_neighbours(X)
    # the same row, or one at the same distance up to float32 rounding
    rows = np.arange(X.shape[0])
    np.testing.assert_allclose(distances[rows, found], distances.min(1), rtol=1e-4, atol=1e-5)


def test_a_sample_is_seeded_sorted_and_whole_when_small():
    np.testing.assert_array_equal(sample_rows(5, 10, 0), np.arange(5))
    rows = sample_rows(1000, 100, 7)
    assert rows.size == 100 and np.all(np.diff(rows) > 0)
    np.testing.assert_array_equal(rows, sample_rows(1000, 100, 7))


def test_the_network_alone_is_the_network_trained_on_the_labels():
    X, y = xor_pool()
    fitted = fit_learner(X, some_labels(y, 40), 2, NETWORK_LEARNER, TINY, seed=1)
    assert fitted.learner == NETWORK_LEARNER and fitted.teacher is None and fitted.fidelity is None
    assert isinstance(fitted.network, MLP) and fitted.network.hidden == (16, 16)


def ring_pool(n=1200, seed=0):
    """A round class inside another (a quadratic boundary), with two irrelevant columns."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4)).astype(np.float32)
    y = ((X[:, :2] ** 2).sum(1) > 1.4).astype(np.int64)
    return X, y


def test_the_ensemble_learns_what_the_network_alone_does_not_and_the_student_follows_it():
    X, y = ring_pool()
    labels = some_labels(y, 80)
    alone = fit_learner(X, labels, 2, NETWORK_LEARNER, TINY, seed=1).network
    fitted = fit_learner(X, labels, 2, FAST, TINY, seed=1)
    assert fitted.learner == FAST and fitted.teacher is not None
    open_rows = labels < 0
    truth = y[open_rows]
    teacher = fitted.teacher.predict_proba(X[open_rows]).argmax(1)
    student = predict_proba(fitted.network, X[open_rows]).argmax(1)
    network = predict_proba(alone, X[open_rows]).argmax(1)
    assert (teacher == truth).mean() > (network == truth).mean() + 0.05
    assert (student == teacher).mean() > 0.9
    assert fitted.fidelity is not None and fitted.fidelity > 0.9
    assert set(fitted.timings) == {"teacher", "teacher_labels", "student", "fidelity"}


def test_the_student_is_one_relu_network_whose_local_models_are_its_jacobian():
    X, y = xor_pool(400)
    student = fit_learner(X, some_labels(y, 40), 2, FAST, TINY, seed=2).network
    rows = X[:5]
    A = interpret(student, rows).matrices()
    for i in range(rows.shape[0]):
        x = torch.from_numpy(rows[i : i + 1])
        jacobian = torch.autograd.functional.jacobian(lambda v: student(v)[0], x)[:, 0, :]
        np.testing.assert_allclose(A[i], jacobian.numpy(), rtol=1e-4, atol=1e-6)


def test_one_class_among_the_labels_falls_back_to_the_network_alone():
    X, y = xor_pool(300)
    labels = np.full(300, -1)
    labels[np.flatnonzero(y == 1)[:10]] = 1
    fitted = fit_learner(X, labels, 2, FAST, TINY, seed=0)
    assert fitted.learner == NETWORK_LEARNER and fitted.teacher is None


def test_a_class_missing_from_the_labels_keeps_its_column_at_zero_in_the_teacher():
    X, y = xor_pool(300)
    labels = some_labels(y, 30) * 2  # codes 0 and 2 of three classes: class 1 has no label
    labels[labels < 0] = -1
    fitted = fit_learner(X, labels, 3, FAST, TINY, seed=0)
    assert fitted.teacher is not None and fitted.network.n_classes == 3
    proba = fitted.teacher.predict_proba(X[:50])
    assert proba.shape == (50, 3)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-5)
    # only the network member can give class 1 any weight (its softmax has all three columns)
    assert proba[:, 1].max() < 0.25


def test_the_ensemble_is_deterministic_for_a_seed():
    X, y = xor_pool(500)
    labels = some_labels(y, 30)
    a = fit_learner(X, labels, 2, FAST, TINY, seed=5)
    b = fit_learner(X, labels, 2, FAST, TINY, seed=5)
    for key, value in a.network.state_dict().items():
        assert torch.equal(value, b.network.state_dict()[key]), key
    assert a.fidelity == b.fidelity


def test_progress_moves_to_the_end_and_cancel_stops_the_training():
    X, y = xor_pool(500)
    labels = some_labels(y, 30)
    seen: list[float] = []
    fit_learner(X, labels, 2, FAST, TINY, seed=0, progress=lambda _, f: seen.append(f))
    assert seen == sorted(seen) and seen[-1] == pytest.approx(1.0) and len(seen) > 10
    token = CancelToken()

    def cancel_midway(_: str, fraction: float) -> None:
        if fraction > 0.5:
            token.cancel()

    with pytest.raises(Cancelled):
        fit_learner(X, labels, 2, FAST, TINY, seed=0, progress=cancel_midway, cancel=token)


def test_cross_validation_predicts_each_labeled_row_without_it():
    X, y = xor_pool(300)
    rows = np.random.default_rng(0).choice(300, 60, replace=False)
    predicted = cross_validated_predictions(X[rows], y[rows], 2, FAST, TINY, seed=0)
    assert predicted is not None and predicted.shape == (60,)
    assert set(np.unique(predicted)) <= {0, 1}
    accuracy = cross_validated_accuracy(X[rows], y[rows], 2, FAST, TINY, seed=0)
    assert accuracy == pytest.approx((predicted == y[rows]).mean())
    assert cross_validated_predictions(X[:5], y[:5], 2, FAST, TINY, seed=0) is None
    assert cross_validated_accuracy(X, np.zeros(300, np.int64), 2, FAST, TINY, seed=0) is None


def test_the_learning_is_described_in_one_sentence_and_a_poor_follower_is_named():
    from dami_gui.core.learner import POOR_FIDELITY, describe_learning

    assert "alone" in describe_learning(NETWORK_LEARNER, None)
    good = describe_learning(FAST, 0.987)
    assert "99 %" in good and "poorly" not in good
    poor = describe_learning(FAST, POOR_FIDELITY - 0.01)
    assert "poorly" in poor and "94 %" in poor
    assert "99.8 %" in describe_learning(FAST, 0.998)


def test_members_are_weighed_by_their_held_out_log_loss():
    from dami_gui.core.learner.teacher import member_weights

    y = np.array([0, 1, 1, 0])
    sure = np.array([[0.9, 0.1], [0.1, 0.9], [0.2, 0.8], [0.8, 0.2]])
    unsure = np.full((4, 2), 0.5)
    weights = member_weights({"a": sure, "b": unsure}, y, temperature=0.05)
    assert weights["a"] + weights["b"] == pytest.approx(1.0)
    assert weights["a"] > 0.99  # log-loss 0.16 against 0.69: far apart at T = 0.05
    soft = member_weights({"a": sure, "b": unsure}, y, temperature=10.0)
    assert soft["a"] == pytest.approx(0.5, abs=0.02)  # a high temperature averages
    tie = member_weights({"a": sure, "b": sure.copy()}, y, temperature=0.05)
    assert tie["a"] == pytest.approx(0.5)
    # a member certain and wrong costs it its weight without any weight underflowing to nan
    wrong = 1 - sure
    far = member_weights({"a": sure, "b": wrong}, y, temperature=0.01)
    assert far["a"] == pytest.approx(1.0) and np.isfinite(far["b"])


def test_the_folds_are_stratified_and_seeded():
    from dami_gui.core.learner.teacher import folds_of

    y = np.repeat([0, 1, 2], [10, 5, 20])
    folds = folds_of(y, seed=3)
    assert set(folds) == set(range(3))
    for c in range(3):
        counts = np.bincount(folds[y == c], minlength=3)
        assert counts.max() - counts.min() <= 1
    np.testing.assert_array_equal(folds, folds_of(y, seed=3))


def test_the_teacher_weighs_members_once_there_are_enough_labels_and_its_held_out_is_the_estimate():
    X, y = ring_pool(600)
    few = fit_learner(X, some_labels(y, 8), 2, FAST, TINY, seed=0)
    assert few.teacher is not None and few.teacher.held_out is None
    assert set(few.teacher.weights.values()) == {1 / len(FAST.members)}
    labels = some_labels(y, 60)
    fitted = fit_learner(X, labels, 2, FAST, TINY, seed=0)
    teacher = fitted.teacher
    assert teacher is not None and sum(teacher.weights.values()) == pytest.approx(1.0)
    assert teacher.held_out is not None and teacher.held_out.shape == (60,)
    # on a round class the kernel and the trees beat logistic regression on held-out labels
    assert teacher.weights["logistic"] < max(teacher.weights.values())
    held = (teacher.held_out == labels[labels >= 0]).mean()
    estimate = cross_validated_accuracy(X[labels >= 0], labels[labels >= 0], 2, FAST, TINY, 0)
    assert estimate == pytest.approx(held)
    # the probabilities are the weighted members'
    rows = X[:20]
    mixed = sum(w * teacher.members[m](rows) for m, w in teacher.weights.items())
    np.testing.assert_allclose(teacher.predict_proba(rows), mixed, rtol=1e-5, atol=1e-6)
