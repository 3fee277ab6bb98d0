"""Smaller command-line friction found by a new user (issue 24, point 4), one test each."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from dami_gui.cli import main as cli
from dami_gui.core import model as model_module
from dami_gui.core.data.dataset import build_dataset
from dami_gui.core.data.roles import infer_roles

from .project_data import new_project, pool_frame


def run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_select_on_a_full_label_column_says_so_before_training(tmp_path, capsys, monkeypatch):
    frame = pool_frame(labeled=90)  # every row has its class
    frame.to_csv(tmp_path / "full.csv", index=False)

    def no_training(*args, **kwargs):
        raise AssertionError("trained although there is nothing to select")

    monkeypatch.setattr(model_module, "train_mlp", no_training)
    out_file = tmp_path / "q.csv"
    code, out, err = run(capsys, "select", tmp_path / "full.csv", "--label-column", "species",
                         "--out", out_file)  # fmt: skip
    assert code == 0, err
    assert out == ""  # no raw "Empty DataFrame / Columns: ..." print
    assert err.count("Every row already has a label") == 1
    assert list(pd.read_csv(out_file).columns) == ["rank", "id", "row", "score", "region",
                                                   "group", "predicted"]  # fmt: skip


def test_export_without_an_id_column_writes_the_row_number(tmp_path, capsys):
    new_project(tmp_path, with_id=False).close()
    project = tmp_path / "p.dami"
    assert run(capsys, "project", "label", project, "41", "b")[0] == 0
    assert run(capsys, "project", "export", project, "-o", tmp_path / "out.csv")[0] == 0
    labeled = pd.read_csv(tmp_path / "out.csv", keep_default_na=False)
    assert labeled.columns[0] == "row" and len(labeled) == 16
    pool = pd.read_csv(tmp_path / "pool.csv", keep_default_na=False)
    joined = labeled.merge(pool.reset_index(names="line"), left_on=labeled["row"] - 1,
                           right_on="line", suffixes=("", "_pool"))  # fmt: skip
    np.testing.assert_array_equal(joined["x1"], joined["x1_pool"])  # joins back to the pool
    assert joined.loc[joined["row"] == 41, "species"].tolist() == ["b"]
    # A file with an id column keeps it as the key and gets no extra column.
    (tmp_path / "with_id").mkdir()
    new_project(tmp_path / "with_id", with_id=True).close()
    code, _, _ = run(capsys, "project", "export", tmp_path / "with_id" / "p.dami", "-o",
                     tmp_path / "id.csv")  # fmt: skip
    assert code == 0 and pd.read_csv(tmp_path / "id.csv").columns[0] == "name"


def test_the_report_says_why_there_are_more_inputs_than_feature_columns(tmp_path, capsys):
    frame = pool_frame()
    frame["colour"] = np.array(["red", "green", "blue"])[np.arange(len(frame)) % 3]
    frame.loc[::7, "x2"] = np.nan
    frame.to_csv(tmp_path / "pool.csv", index=False)
    code, out, err = run(capsys, "project", "new", tmp_path / "pool.csv", "--label-column",
                         "species", "-o", tmp_path / "p.dami")  # fmt: skip
    assert code == 0, err
    assert "4 used as features" in out
    assert (
        "90 rows, 7 inputs for the network from 4 feature columns (a categorical column gives "
        "one 0/1 input per category; a column with gaps adds a 0/1 flag), classes a, b, c" in out
    )
    plain = build_dataset(pool_frame(), infer_roles(pool_frame(), label_column="species"))
    assert (
        plain.preprocessing.describe_inputs() == "3 inputs for the network from 3 feature columns"
    )


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ("Species", "There is no column 'Species' in the file; did you mean 'species'?"),
        ("specis", "did you mean 'species'?"),
        ("kind", "the columns are 'name', 'x1', 'x2', 'x3', 'species'."),
    ],
)
def test_a_mistyped_label_column_suggests_the_near_one(given, said, tmp_path, capsys):
    pool_frame().to_csv(tmp_path / "pool.csv", index=False)
    code, _, err = run(capsys, "select", tmp_path / "pool.csv", "--label-column", given,
                       "--out", tmp_path / "q.csv")  # fmt: skip
    line = err.strip().splitlines()[-1]
    assert code == 2 and said in line
    if "did you mean" in said:
        assert "'x1'" not in line  # the near match, not every column


def test_export_is_one_command_with_its_first_name_kept(tmp_path, capsys):
    new_project(tmp_path).close()
    project = tmp_path / "p.dami"
    assert run(capsys, "project", "export", project, "-o", tmp_path / "a.csv", "--all")[0] == 0
    assert run(capsys, "export", project, "-o", tmp_path / "b.csv", "--all")[0] == 0
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert "the same as 'dami project export'" in capsys.readouterr().out


def significant_digits(cell: str) -> int:
    mantissa = cell.lstrip("-").split("e")[0].replace(".", "").lstrip("0")
    return len(mantissa)


def test_numbers_are_written_with_float32_precision(tmp_path, capsys):
    with new_project(tmp_path) as project:
        project.session.run_round()
    pool_frame(n=30, seed=5).drop(columns=["species"]).to_csv(tmp_path / "new.csv", index=False)
    code, _, err = run(capsys, "predict", tmp_path / "p.dami", tmp_path / "new.csv", "-o",
                       tmp_path / "pred.csv", "--explain", "2")  # fmt: skip
    assert code == 0, err
    text = (tmp_path / "pred.csv").read_text()
    numbers = re.findall(r"(?<![\w.])-?\d+\.\d+(?:e[-+]\d+)?(?![\w.])", text)
    assert numbers and max(significant_digits(n) for n in numbers) <= 7
    table = pd.read_csv(tmp_path / "pred.csv")
    assert {"top1_contribution", "p_a"} <= set(table.columns)
    proba = table[[c for c in table.columns if c.startswith("p_")]]
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
