"""Applying the model to a new file: preprocessing replayed, unseen categories, missing columns,
the exact explanation columns, the standalone numpy loader, and `dami predict` / `--version`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dami_gui import __version__
from dami_gui.cli import main as cli
from dami_gui.core.errors import Cancelled, DamiError, DataError
from dami_gui.core.explain import explain_row, region_hex
from dami_gui.core.interpret import interpret
from dami_gui.core.model import predict_proba
from dami_gui.core.prediction.new_rows import Predictor, predict_file, predict_frame
from dami_gui.core.progress import CancelToken
from dami_gui.core.project.export import export_model
from dami_gui.core.project.opening import open_project

from .predict_data import mixed_frame, mixed_project, new_rows

TOOLS = Path(__file__).resolve().parents[2] / "tools"


@pytest.fixture(scope="module")
def project_path(tmp_path_factory) -> Path:
    """A project after two rounds, closed; its pool is pool.csv beside it."""
    folder = tmp_path_factory.mktemp("predict")
    mixed_project(folder, rounds=2).close()
    return folder / "p.dami"


@pytest.fixture
def opened(project_path):
    with open_project(project_path, readonly=True) as project:
        yield project


def test_new_rows_get_the_project_preprocessing_and_its_probabilities(opened, tmp_path):
    session = opened.session
    frame = new_rows()
    new_rows().to_csv(tmp_path / "new.csv", index=False)
    report = predict_file(Predictor.from_session(session), tmp_path / "new.csv", tmp_path / "o.csv")
    out = pd.read_csv(tmp_path / "o.csv")
    assert list(out.columns) == ["name", "predicted", "p_a", "p_b", "p_c"]
    assert out["name"].tolist() == frame["name"].tolist()
    # the same numbers as the project's model on the project's own preparation of these rows
    X = session.dataset.preprocessing.transform(frame)
    proba = predict_proba(session.last_round.model(), X)
    np.testing.assert_allclose(out[["p_a", "p_b", "p_c"]].to_numpy(), proba, atol=1e-6)
    assert out["predicted"].tolist() == [session.classes[k] for k in proba.argmax(1)]
    # an unseen colour switches every colour input off, as a gap does
    names = session.dataset.feature_names
    colour = [i for i, name in enumerate(names) if name.startswith("colour")]
    assert not X[0, colour].any()
    assert report.unseen == {"colour": (3, ["purple"])}
    assert report.filled == {"x1": 1, "x2": int(frame["x2"].isna().sum())}
    assert report.ignored_columns == ["comment"] and report.id_column == "name"
    text = "\n".join(report.lines())
    assert "3 rows with a category not seen in labeling ('purple')" in text
    assert "Ignored (the model does not use them): 'comment'" in text


def test_pool_rows_predict_as_in_the_project(opened):
    session = opened.session
    table, report = predict_frame(Predictor.from_session(session), session.dataset.frame)
    proba = table[[f"p_{c}" for c in session.classes]].to_numpy()
    np.testing.assert_allclose(proba, session.last_round.proba, atol=1e-6)
    assert report.unseen == {} and report.ignored_columns == []
    agree, labeled = report.agreement  # the pool's label column is there: compared
    assert labeled == int((session.dataset.y >= 0).sum()) and 0 < agree <= labeled


def test_without_the_id_column_rows_are_numbered(opened):
    table, report = predict_frame(
        Predictor.from_session(opened.session), new_rows().drop(columns="name")
    )
    assert list(table.columns)[:2] == ["row", "predicted"]
    assert table["row"].tolist() == list(range(1, 41)) and report.id_column is None
    assert "Rows are named by their number" in " ".join(report.lines())


def test_a_missing_column_is_one_sentence(opened, tmp_path):
    predictor = Predictor.from_session(opened.session)
    with pytest.raises(DataError, match=r"no column 'x2', which the model needs") as info:
        predict_frame(predictor, new_rows().drop(columns=["x2"]))
    assert "x1, x2, colour, flag" in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(DataError, match=r"it has 'X1': rename it"):
        predict_frame(predictor, new_rows().rename(columns={"x1": "X1"}))
    new_rows().to_csv(tmp_path / "new.csv", index=False)
    with pytest.raises(DamiError, match="would replace the file being read"):
        predict_file(predictor, tmp_path / "new.csv", tmp_path / "new.csv")
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        predict_file(predictor, tmp_path / "new.csv", tmp_path / "o.csv", cancel=token)
    assert not (tmp_path / "o.csv").exists()


def test_explain_columns_are_the_exact_local_explanation(opened):
    session = opened.session
    last = session.last_round
    predictor = Predictor.from_session(session, with_pool=True)
    table, _ = predict_frame(predictor, session.dataset.frame, explain=2)
    assert list(table.columns)[5:] == [
        "region", "pool_rows_in_region", "group", "group_center",
        "top1_column", "top1_contribution", "top2_column", "top2_contribution",
    ]  # fmt: skip
    assert table["region"].tolist() == [region_hex(r) for r in last.region_ids]
    sizes = pd.Series(last.region_ids).map(pd.Series(last.region_ids).value_counts())
    assert table["pool_rows_in_region"].tolist() == sizes.tolist()
    # the pool's rows fall in the groups the app shows; rows sharing a region have the same
    # local model, so ties between centers are common: compare the distances, not the indices
    centers, group = last.centers, table["group"].to_numpy()
    flat = interpret(last.model(), session.dataset.X).flat().astype(np.float64)
    ours = np.linalg.norm(flat - flat[centers[group]], axis=1)
    theirs = np.linalg.norm(flat - flat[centers[last.partition]], axis=1)
    np.testing.assert_allclose(ours, theirs, atol=1e-4)
    assert (group == last.partition).mean() > 0.5
    assert table["group_center"].tolist() == session.dataset.ids[centers[table["group"]]].tolist()
    for row in (0, 7, 42):
        ex = explain_row(last.model(), session.dataset, row, session.labels)
        got = table.loc[row, ["top1_column", "top2_column"]].tolist()
        assert got == [c.column for c in ex.contributions[:2]]
        values = table.loc[row, ["top1_contribution", "top2_contribution"]].to_numpy(float)
        np.testing.assert_allclose(values, [c.value for c in ex.contributions[:2]], atol=1e-5)


def test_exported_model_predicts_the_same_and_numbers_stay_formula_safe(opened, tmp_path):
    session = opened.session
    export_model(session, tmp_path / "model.safetensors")
    frame = new_rows()
    frame.loc[0, "name"] = "=HYPERLINK(1)"
    frame.to_csv(tmp_path / "new.csv", index=False)
    predict_file(Predictor.from_session(session), tmp_path / "new.csv", tmp_path / "a.csv")
    predictor = Predictor.from_export(tmp_path / "model.json")
    predict_file(predictor, tmp_path / "new.csv", tmp_path / "b.csv", explain=1)
    a, b = pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "b.csv")
    assert a["name"][0] == "'=HYPERLINK(1)"
    pd.testing.assert_frame_equal(a, b[a.columns])
    assert "group" not in b.columns and b["top1_column"].isin(["x1", "x2", "colour", "flag"]).all()


def test_standalone_numpy_loader_reproduces_dami_gui(opened, tmp_path):
    """tools/standalone_predict.py imports neither dami_gui nor torch and gives the same numbers."""
    session = opened.session
    export_model(session, tmp_path / "model.safetensors")
    frame = pd.concat([new_rows(), mixed_frame(n=30, seed=3).drop(columns=["species"])])
    frame.loc[frame.index[-1], "flag"] = "YES"  # yes/no compared in lower case, as in dami-gui
    frame.to_csv(tmp_path / "new.csv", index=False)
    predict_file(Predictor.from_session(session), tmp_path / "new.csv", tmp_path / "ours.csv")
    code = (
        "import sys, runpy\n"
        "sys.argv = ['standalone_predict.py', *sys.argv[1:]]\n"
        "runpy.run_path(sys.argv[0], run_name='__main__')\n"
        "bad = [m for m in sys.modules if m.startswith(('dami_gui', 'torch', 'pandas'))]\n"
        "assert not bad, bad\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "model.json"), str(tmp_path / "new.csv")],
        cwd=TOOLS, capture_output=True, text=True, check=False, env={"PYTHONPATH": ""},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (tmp_path / "theirs.csv").write_text(done.stdout)
    ours, theirs = pd.read_csv(tmp_path / "ours.csv"), pd.read_csv(tmp_path / "theirs.csv")
    columns = [f"p_{c}" for c in session.classes]
    assert len(theirs) == len(frame)
    np.testing.assert_allclose(theirs[columns], ours[columns], atol=1e-6)
    assert theirs["predicted"].tolist() == ours["predicted"].tolist()


# ------------------------------------------------------------------------------ the command


def run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_dami_predict_on_a_project_and_an_exported_model(project_path, tmp_path, capsys):
    new_rows().to_csv(tmp_path / "new.csv", index=False)
    new, out_csv = tmp_path / "new.csv", tmp_path / "o.csv"
    code, _, err = run(capsys, "predict", project_path, new, "-o", out_csv)
    assert code == 0, err
    assert "Predicted 40 rows" in err and "'purple'" in err and "Wrote 40 predictions" in err
    out = pd.read_csv(tmp_path / "o.csv")
    assert list(out.columns) == ["name", "predicted", "p_a", "p_b", "p_c"]
    np.testing.assert_allclose(out[["p_a", "p_b", "p_c"]].sum(axis=1), 1.0, atol=1e-5)

    code, _, err = run(
        capsys, "predict", project_path, tmp_path / "new.csv", "-o", tmp_path / "e.csv",
        "--explain",
    )  # fmt: skip
    assert code == 0, err
    explained = pd.read_csv(tmp_path / "e.csv")
    assert {"region", "group", "group_center", "top3_column"} <= set(explained.columns)
    pd.testing.assert_frame_equal(explained[out.columns], out)

    with open_project(project_path, readonly=True) as project:
        export_model(project.session, tmp_path / "m.safetensors")
    code, _, err = run(capsys, "predict", tmp_path / "m.json", new, "-o", tmp_path / "m.csv")
    assert code == 0, err
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "m.csv"), out)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ("no x1", "no column 'x1', which p.dami's model needs"),
        ("no file", "absent.csv does not exist"),
        ("no model", "m.dami was not found"),
        ("not a model", "not a model description"),
    ],
)
def test_dami_predict_bad_input_is_one_line_and_exit_2(
    project_path, tmp_path, capsys, change, words
):
    data, model = tmp_path / "new.csv", project_path
    new_rows().drop(columns=["x1"] if change == "no x1" else []).to_csv(data, index=False)
    if change == "no file":
        data = tmp_path / "absent.csv"
    elif change == "no model":
        model = tmp_path / "m.dami"
    elif change == "not a model":
        model = tmp_path / "m.json"
        model.write_text("[1, 2]")
    code, _, err = run(capsys, "predict", model, data, "-o", tmp_path / "o.csv")
    lines = [line for line in err.strip().splitlines() if line.startswith("dami")]
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, err
    assert words in lines[0]
    assert not (tmp_path / "o.csv").exists()


def test_dami_version(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    out = capsys.readouterr().out
    assert info.value.code == 0
    assert out.startswith(f"dami {__version__} (Python 3.") and "torch " in out


def test_the_docs_show_the_code_the_test_runs():
    """docs/portable-model.md quotes tools/standalone_predict.py; the quote must stay true."""
    doc = (TOOLS.parent / "docs" / "portable-model.md").read_text(encoding="utf-8")
    section = doc[doc.index("## With numpy alone") :]
    quoted = section[section.index("```python\n") + 10 :]
    quoted = quoted[: quoted.index("```")]
    assert "def probabilities(" in quoted
    tool = (TOOLS / "standalone_predict.py").read_text(encoding="utf-8")
    for function in quoted.strip().split("\n\n\n"):  # each quoted function, verbatim
        assert function in tool
