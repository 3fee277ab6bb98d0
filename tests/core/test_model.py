"""The MLP: deterministic for a seed, fits small labeled sets, reports progress, cancels."""

import numpy as np
import pytest
import torch

from dami_gui.core.errors import Cancelled, ParameterError
from dami_gui.core.model import MLP, MLPConfig, predict_proba, schedule, train_mlp
from dami_gui.core.progress import CancelToken


def data(n=120, d=6, classes=4, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    X = rng.normal(size=(n, d)) + 2.5 * np.eye(classes, d)[y]
    return X.astype(np.float32), y


def test_same_seed_same_weights_and_other_seed_differs():
    X, y = data()
    a, _ = train_mlp(X, y, 4, seed=3)
    b, _ = train_mlp(X, y, 4, seed=3)
    c, _ = train_mlp(X, y, 4, seed=4)
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert any(not torch.equal(sa[k], sc[k]) for k in sa)


def test_default_schedule_fits_the_labeled_set():
    rng = np.random.default_rng(1)
    X = rng.uniform(-1, 1, size=(300, 4)).astype(np.float32)
    y = ((X[:, 0] * X[:, 1] > 0).astype(int) * 2 + (X[:, 2] > X[:, 3] ** 2)).astype(
        np.int64
    )  # not linear
    _, report = train_mlp(X, y, 4)
    assert report.epochs >= 100 and report.steps >= 500
    assert report.train_accuracy >= 0.95
    assert schedule(40, MLPConfig()) == (250, 2)  # 2 steps per epoch: 500 steps need 250 epochs
    assert schedule(10_000, MLPConfig()) == (100, 313)


def test_trains_on_given_rows_only_and_predicts_probabilities():
    X, y = data()
    model, _ = train_mlp(X[:30], y[:30], 6)  # 6 classes, only 4 seen: still a 6-way output
    p = predict_proba(model, X, chunk_size=17)
    assert p.shape == (120, 6) and p.dtype == np.float32
    np.testing.assert_allclose(p.sum(1), 1.0, rtol=1e-5)
    assert (p[:, 4:].max(1) < 0.5).all()


def test_progress_per_epoch_and_prompt_cancel():
    X, y = data()
    seen = []
    train_mlp(
        X, y, 4, MLPConfig(min_epochs=7, min_steps=1), progress=lambda s, f: seen.append((s, f))
    )
    assert [round(f, 6) for _, f in seen] == [round((i + 1) / 7, 6) for i in range(7)]
    assert seen[0][0] == "Training"

    token = CancelToken()

    def cancel_at_third(stage, fraction):
        if fraction >= 3 / 100:
            token.cancel()

    with pytest.raises(Cancelled):
        train_mlp(
            X, y, 4, MLPConfig(min_epochs=100, min_steps=1), progress=cancel_at_third, cancel=token
        )


def test_no_labeled_rows_gives_the_seeded_untrained_network():
    model, report = train_mlp(np.zeros((0, 3), np.float32), np.zeros(0, int), 2, seed=5)
    assert isinstance(model, MLP) and report.steps == 0


def test_spec_round_trip_and_parameter_errors():
    X, y = data()
    model, _ = train_mlp(X, y, 4, MLPConfig(hidden=(8,), min_epochs=2, min_steps=1))
    again = MLP.from_spec(model.spec(), model.state_dict())
    np.testing.assert_array_equal(predict_proba(again, X), predict_proba(model, X))
    assert MLPConfig.from_dict(MLPConfig(hidden=(3, 4)).to_dict()) == MLPConfig(hidden=(3, 4))
    with pytest.raises(ParameterError, match="'min_epochs' parameter must be a positive integer"):
        MLPConfig(min_epochs=0)
    with pytest.raises(ParameterError, match="'y'"):
        train_mlp(X, y + 10, 4)
