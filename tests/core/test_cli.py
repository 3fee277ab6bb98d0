"""The `dami` command line: select, simulate, and one clear line with exit code 2 on bad input."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from dami_gui.cli import main as cli
from dami_gui.core.data.demo import demo_path


@pytest.fixture
def pool_csv(tmp_path):
    rng = np.random.default_rng(0)
    n = 90
    y = rng.integers(0, 3, n)
    X = rng.normal(size=(n, 3)) + 3 * np.eye(3)[y]
    frame = pd.DataFrame(X, columns=["x1", "x2", "x3"])
    frame.insert(0, "name", [f"r{i}" for i in range(n)])
    frame["species"] = np.where(np.arange(n) < 15, np.array(["a", "b", "c"])[y], "")
    path = tmp_path / "pool.csv"
    frame.to_csv(path, index=False)
    return path


def test_select_writes_queries_in_order(pool_csv, tmp_path, capsys):
    out = tmp_path / "q.csv"
    code = cli.main(
        [
            "select",
            str(pool_csv),
            "--label-column",
            "species",
            "--id-column",
            "name",
            "--batch",
            "7",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    queries = pd.read_csv(out)
    assert list(queries.columns[:5]) == ["rank", "id", "row", "score", "region"]
    assert queries["rank"].tolist() == list(range(1, 8))
    assert (queries["row"] > 15).all() and queries["id"].str.startswith("r").all()
    assert queries["row"].is_unique


def test_simulate_runs_rounds_and_writes_the_curve(tmp_path, capsys):
    out = tmp_path / "curve.json"
    code = cli.main(
        [
            "simulate",
            str(demo_path()),
            "--label-column",
            "class",
            "--strategy",
            "random",
            "--batch",
            "14",
            "--rounds",
            "2",
            "--seed",
            "3",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    curve = json.loads(out.read_text())
    assert [p["labels"] for p in curve["points"]] == [14, 28, 42]
    assert all(0.0 < p["test_accuracy"] <= 1.0 for p in curve["points"])
    assert curve["auc"] == pytest.approx(np.mean([p["test_accuracy"] for p in curve["points"]]))
    assert curve["test_rows"] == 693 and curve["pool_rows"] == 1617  # 30 % held out, stratified
    # the default learner: the ensemble, its accuracy and the network's fidelity per point
    assert curve["learner"]["kind"] == "ensemble"
    for point in curve["points"]:
        assert point["learner"] == "ensemble" and 0.0 < point["teacher_accuracy"] <= 1.0
        assert 0.0 < point["fidelity"] <= 1.0 and 0.0 < point["fidelity_on_pool"] <= 1.0
    fidelities = [p["fidelity"] for p in curve["points"]]
    assert curve["mean_fidelity"] == pytest.approx(np.mean(fidelities))
    printed = capsys.readouterr()
    assert "Area under the learning curve" in printed.out
    assert "followed the ensemble on" in printed.out and "the network follows it on" in printed.err


def test_simulate_with_the_network_alone_has_no_teacher(pool_csv, tmp_path, capsys):
    out = tmp_path / "curve.json"
    args = ["simulate", str(pool_csv), "--label-column", "species", "--learner", "network"]
    labeled = tmp_path / "labeled.csv"
    frame = pd.read_csv(pool_csv)
    frame["species"] = np.array(["a", "b", "c"])[np.arange(len(frame)) % 3]
    frame.to_csv(labeled, index=False)
    args[1] = str(labeled)
    assert cli.main([*args, "--batch", "10", "--rounds", "1", "--out", str(out)]) == 0
    curve = json.loads(out.read_text())
    assert curve["learner"]["kind"] == "network" and curve["mean_fidelity"] is None
    assert all("fidelity" not in p and p["learner"] == "network" for p in curve["points"])
    assert "learner network" in capsys.readouterr().out


def test_select_says_how_closely_the_network_follows_the_ensemble(pool_csv, tmp_path, capsys):
    out = tmp_path / "q.csv"
    args = ["select", str(pool_csv), "--label-column", "species", "--batch", "5", "--out"]
    assert cli.main([*args, str(out)]) == 0
    assert "The network reproduces the ensemble" in capsys.readouterr().err
    assert cli.main([*args, str(out), "--learner", "network"]) == 0
    assert "learned from the labeled rows alone" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:  # argparse's own: one line, exit code 2
        cli.main([*args, str(out), "--learner", "forest"])
    assert exit_.value.code == 2 and "invalid choice" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["select", "{missing}", "--label-column", "y", "--out", "{out}"], "does not exist"),
        (["select", "{pool}", "--label-column", "nope", "--out", "{out}"], "no column 'nope'"),
        (
            ["select", "{pool}", "--label-column", "species", "--batch", "0", "--out", "{out}"],
            "'batch'",
        ),
        (["simulate", "{one_class}", "--label-column", "species"], "single class"),
        (
            ["simulate", "{pool}", "--label-column", "species", "--strategy", "magic"],
            "invalid choice",
        ),
        (["select", "{no_features}", "--label-column", "species", "--out", "{out}"], "feature"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(args, words, pool_csv, tmp_path, capsys):
    one_class = tmp_path / "one.csv"
    pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "species": ["a"] * 4}).to_csv(one_class, index=False)
    no_features = tmp_path / "nofeat.csv"
    pd.DataFrame({"note": [f"text {i}" for i in range(6)], "species": list("abab  ")}).to_csv(
        no_features, index=False
    )
    values = {
        "missing": tmp_path / "missing.csv",
        "pool": pool_csv,
        "out": tmp_path / "o.csv",
        "one_class": one_class,
        "no_features": no_features,
    }
    args = [a.format(**values) for a in args]
    try:
        code = cli.main(args)
    except SystemExit as exc:  # argparse's own errors exit, with the same code and one line
        code = exc.code
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len([line for line in err if "error" in line]) == 1
    assert words in err[-1] and "Traceback" not in "\n".join(err)


def test_installed_command_prints_no_traceback(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "dami_gui.cli",
            "select",
            str(tmp_path / "x.csv"),
            "--label-column",
            "y",
            "--out",
            str(tmp_path / "o.csv"),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("dami: error:") and "Traceback" not in proc.stderr


@pytest.mark.parametrize("args", [["--demo"], ["--demo", "--no-umap"], ["some.csv"], []])
def test_gui_passes_every_argument_to_the_app(args, monkeypatch):
    seen = []
    monkeypatch.setattr(cli, "gui_main", lambda argv: seen.append(list(argv)) or 0)
    assert cli.main(["gui", *args]) == 0
    assert seen == [args]


def test_an_unknown_device_is_one_sentence_not_a_traceback(tmp_path, capsys):
    from dami_gui.cli.main import main

    csv = tmp_path / "pool.csv"
    csv.write_text("a,b,label\n1,2,x\n3,4,y\n5,6,\n7,8,\n")
    code = main(
        [
            "select",
            str(csv),
            "--label-column",
            "label",
            "--out",
            str(tmp_path / "q.csv"),
            "--device",
            "tpu",
        ]
    )
    err = capsys.readouterr().err
    assert code != 0
    assert "'device'" in err and "Traceback" not in err
