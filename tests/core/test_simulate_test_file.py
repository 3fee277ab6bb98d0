"""`dami simulate --test TEST.csv`: a given test file, balanced accuracy, a pool running out."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from dami_gui.cli import main as cli
from dami_gui.core.simulate import (
    balanced_accuracy,
    pool_and_test_files,
    simulate,
    split_dataset,
)


def _frame(n: int, seed: int, classes=("a", "b", "c")) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    label = rng.choice(list(classes), size=n)
    centre = {c: i * 3.0 for i, c in enumerate(classes)}
    x1 = np.array([centre[c] for c in label]) + rng.normal(size=n)
    return pd.DataFrame(
        {
            "x1": x1.round(4),
            "x2": rng.normal(size=n).round(4),
            "colour": rng.choice(["red", "green", "blue"], size=n),
            "class": label,
        }
    )


def _write(frame: pd.DataFrame, path) -> str:
    frame.to_csv(path, index=False)
    return str(path)


def test_balanced_accuracy_weighs_each_class_alike():
    y = np.array([0, 0, 0, 1])
    assert balanced_accuracy(y, np.array([0, 0, 0, 0])) == pytest.approx(0.5)
    assert balanced_accuracy(y, np.array([0, 0, 1, 1])) == pytest.approx((2 / 3 + 1) / 2)
    assert balanced_accuracy(y, y) == 1.0


def test_test_file_preprocessing_is_fitted_on_the_pool_only(tmp_path):
    pool_frame = _frame(40, 0)
    test_frame = _frame(15, 1)
    test_frame.loc[0, "x1"] = 100.0  # far outside the pool: must not move the pool's scaling
    test_frame.loc[1, "colour"] = "purple"  # unseen category: all its one-hot cells are 0
    pool, test = pool_and_test_files(
        _write(pool_frame, tmp_path / "pool.csv"),
        _write(test_frame, tmp_path / "test.csv"),
        "class",
        None,
    )
    assert pool.n_rows == 40 and test.n_rows == 15
    x1 = pool_frame["x1"].to_numpy()
    expected = (test_frame["x1"].to_numpy() - x1.mean()) / x1.std()
    assert test.X[:, 0] == pytest.approx(expected, rel=1e-4)
    names = pool.feature_names
    onehot = [i for i, n in enumerate(names) if n.startswith("colour=")]
    assert len(onehot) == 3 and not test.X[1, onehot].any()
    assert test.y.tolist() == [pool.classes.index(c) for c in test_frame["class"]]


def test_test_file_gives_the_same_curve_as_the_internal_split_on_the_same_rows(tmp_path):
    whole = _frame(90, 2)
    path = _write(whole, tmp_path / "whole.csv")
    pool, test = split_dataset(path, "class", None, 0.3, seed=5)
    pool_path = _write(pool.frame, tmp_path / "pool.csv")
    test_path = _write(test.frame, tmp_path / "test.csv")
    kwargs = {"label_column": "class", "strategy": "margin", "batch_size": 9, "rounds": 2}
    internal = simulate(path, seed=5, device="cpu", **kwargs)
    given = simulate(pool_path, test_path=test_path, seed=5, device="cpu", **kwargs)
    assert given["test_rows"] == internal["test_rows"] == test.n_rows
    assert given["test"] == test_path and given["test_fraction"] is None
    assert [p["test_accuracy"] for p in given["points"]] == [
        p["test_accuracy"] for p in internal["points"]
    ]
    assert [p["balanced_accuracy"] for p in given["points"]] == [
        p["balanced_accuracy"] for p in internal["points"]
    ]


def test_cli_test_file_writes_balanced_accuracy_per_point(tmp_path, capsys):
    pool = _write(_frame(60, 3), tmp_path / "pool.csv")
    test_frame = _frame(30, 4)
    test_frame["class"] = "a"  # one class only: balanced accuracy is then the accuracy
    test = _write(test_frame, tmp_path / "test.csv")
    out = tmp_path / "curve.json"
    args = ["simulate", pool, "--test", test, "--label-column", "class", "--strategy", "random"]
    code = cli.main([*args, "--batch", "10", "--rounds", "1", "--device", "cpu", "--out", str(out)])
    assert code == 0
    curve = json.loads(out.read_text())
    assert curve["test_rows"] == 30 and curve["pool_rows"] == 60
    for point in curve["points"]:
        assert point["balanced_accuracy"] == pytest.approx(point["test_accuracy"])
    assert curve["balanced_auc"] == pytest.approx(
        np.mean([p["balanced_accuracy"] for p in curve["points"]])
    )
    assert curve["stopped_early"] is None
    assert "balanced accuracy" in capsys.readouterr().out


def test_a_pool_too_small_for_the_rounds_stops_when_it_runs_out(tmp_path, capsys):
    pool = _write(_frame(25, 5), tmp_path / "pool.csv")
    test = _write(_frame(20, 6), tmp_path / "test.csv")
    out = tmp_path / "curve.json"
    args = ["simulate", pool, "--test", test, "--label-column", "class", "--batch", "10"]
    code = cli.main([*args, "--rounds", "10", "--device", "cpu", "--out", str(out)])
    assert code == 0
    curve = json.loads(out.read_text())
    assert [p["labels"] for p in curve["points"]] == [10, 20, 25]
    assert "ran out" in curve["stopped_early"]
    assert "3 points instead of 11" in curve["stopped_early"]
    assert "ran out" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda f: f.drop(columns=["colour"]), "has no column 'colour'"),
        (lambda f: f.assign(**{"class": ""}), "no labeled row"),
    ],
)
def test_a_test_file_that_cannot_serve_is_one_clear_line(tmp_path, capsys, change, words):
    pool = _write(_frame(30, 7), tmp_path / "pool.csv")
    test = _write(change(_frame(10, 8)), tmp_path / "test.csv")
    code = cli.main(["simulate", pool, "--test", test, "--label-column", "class"])
    assert code == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
