"""Projects through the API: the journal, reopening, a moved or edited CSV, exports."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from dami_gui.core.data.dataset import load_dataset
from dami_gui.core.errors import DamiError, ParameterError
from dami_gui.core.model import MLP, predict_proba
from dami_gui.core.project.creating import create_project
from dami_gui.core.project.errors import DiskFull, ProjectError
from dami_gui.core.project.export import escape_cell, export_labels, export_model, labels_table
from dami_gui.core.project.opening import open_project
from dami_gui.core.project.source import SourceChanged, SourceMissing
from dami_gui.core.session import Session

from .project_data import TINY, leftovers, new_project, pool_frame


def campaign(project) -> None:
    """Two rounds with labels, a skip, a correction and an undo in between."""
    session = project.session
    session.run_round()
    q = [int(r) for r in session.queries]
    session.label(q[0], 1)
    session.skip(q[1])
    session.label(q[2], 2)
    session.label(q[2], 0)  # a correction
    session.undo()  # ... taken back
    session.run_round()
    session.label(int(session.queries[0]), 2)


def test_reopening_restores_labels_history_rounds_queries_and_model(tmp_path: Path) -> None:
    project = new_project(tmp_path)
    campaign(project)
    before = project.session
    project.close()

    with open_project(tmp_path / "p.dami") as project:
        s = project.session
        np.testing.assert_array_equal(s.labels, before.labels)
        np.testing.assert_array_equal(s.skipped, before.skipped)
        np.testing.assert_array_equal(s.queries, before.queries)
        assert s.query_status() == before.query_status()
        assert [(e.row, e.kind, e.label, e.undoes, e.round) for e in s.events] == [
            (e.row, e.kind, e.label, e.undoes, e.round) for e in before.events
        ]
        assert [e.previous_label for e in s.events] == [e.previous_label for e in before.events]
        assert len(s.rounds) == 2 and s.rounds[-1].index == 2
        last, old = s.rounds[-1], before.rounds[-1]
        np.testing.assert_array_equal(last.queries, old.queries)
        np.testing.assert_array_equal(last.scores, old.scores)
        np.testing.assert_array_equal(last.proba, old.proba)
        np.testing.assert_array_equal(last.region_ids, old.region_ids)
        np.testing.assert_array_equal(last.partition, old.partition)
        np.testing.assert_array_equal(s.rounds[0].queries, before.rounds[0].queries)
        for k, v in old.model_state.items():
            assert torch.equal(last.model_state[k], v)
        np.testing.assert_allclose(predict_proba(last.model(), s.dataset.X), old.proba, atol=1e-6)
        assert (s.strategy, s.batch_size, s.model_config) == ("dami-plus", 5, TINY)
        # the history goes on: undo takes back the label given before closing
        row = s.events[-1].row
        s.undo()
        assert s.labels[row] == -1
        s.run_round()
    with open_project(tmp_path / "p.dami") as project:
        assert len(project.session.rounds) == 3 and project.session.labels[row] == -1


class Refusing:
    """A journal that checks it is called before the change, then fails like a full disk."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.calls: list[str] = []

    def record_event(self, event) -> None:
        assert self.session.events == []  # not yet applied
        assert self.session.labels[event.row] == event.previous_label
        self.calls.append(event.kind)
        raise DiskFull("no room")

    def record_round(self, result) -> None:
        assert len(self.session.rounds) == 0
        self.calls.append("round")
        raise DiskFull("no room")


def test_a_failing_journal_refuses_the_change_and_no_listener_hears_of_it(tmp_path) -> None:
    pool_frame().to_csv(tmp_path / "pool.csv", index=False)
    dataset = load_dataset(tmp_path / "pool.csv", label_column="species", id_column="name")
    session = Session(dataset, batch_size=5, model_config=TINY, estimate_accuracy=False)
    journal = Refusing(session)
    session.journal = journal
    heard: list[str] = []
    session.subscribe(lambda kind, payload: heard.append(kind))
    labels = session.labels.copy()
    for action in (lambda: session.label(40, 1), lambda: session.skip(41)):
        with pytest.raises(DiskFull):
            action()
    result = session.compute_round()
    with pytest.raises(DiskFull):
        session.commit_round(result)
    assert journal.calls == ["label", "skip", "round"]
    np.testing.assert_array_equal(session.labels, labels)
    assert not session.skipped.any() and session.events == [] and session.rounds == []
    assert session.queries.size == 0 and heard == []
    session.journal = None
    session.label(40, 1)
    assert session.undo() is not None and heard == ["labels", "labels"]


class FullDisk:
    """Stands in for the SQLite connection and fails every insert like a full disk."""

    def __init__(self, conn: sqlite3.Connection, error: Exception) -> None:
        self.conn = conn
        self.error = error

    def execute(self, sql: str, *args):
        if sql.lstrip().upper().startswith("INSERT"):
            raise self.error
        return self.conn.execute(sql, *args)

    def executemany(self, sql: str, *args):
        raise self.error


@pytest.mark.parametrize(
    "error",
    [sqlite3.OperationalError("database or disk is full"), OSError(28, "No space left on device")],
)
def test_a_full_disk_refuses_the_label_and_keeps_the_earlier_ones(tmp_path, error) -> None:
    project = new_project(tmp_path)
    session = project.session
    session.label(30, 0)
    session.label(31, 1)
    real = project.store.conn
    project.store.conn = FullDisk(real, error)
    with pytest.raises(DiskFull, match=r"disk holding p\.dami is full, so the label was not saved"):
        session.label(32, 2)
    assert session.labels[32] == -1 and len(session.events) == 2
    with pytest.raises(DiskFull, match="the round was not saved"):
        session.run_round()
    assert session.rounds == [] and session.queries.size == 0
    project.store.conn = real  # space freed: labeling goes on
    session.label(33, 2)
    project.close()
    with open_project(tmp_path / "p.dami") as again:
        labels = again.session.labels
        assert (labels[30], labels[31], labels[32], labels[33]) == (0, 1, -1, 2)


def test_a_failed_batch_writes_none_of_its_labels(tmp_path: Path) -> None:
    project = new_project(tmp_path)
    project.session.label(30, 0)
    with pytest.raises(RuntimeError), project.transaction():
        project.session.label(31, 1)
        project.session.label(32, 1)
        raise RuntimeError("the third label was refused")
    with pytest.raises(ProjectError, match="reopen"):
        project.session.label(33, 1)
    project.close()
    with open_project(tmp_path / "p.dami") as again:
        assert again.session.n_labeled == 16 and len(again.session.events) == 1


def test_a_moved_csv_is_reported_and_can_be_located(tmp_path: Path) -> None:
    project = new_project(tmp_path)
    project.session.label(50, 2)
    project.close()
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    (tmp_path / "pool.csv").rename(moved / "pool.csv")
    with pytest.raises(SourceMissing, match=r"was not found.*relocate") as info:
        open_project(tmp_path / "p.dami")
    assert not info.value.status.found
    with open_project(tmp_path / "p.dami", source=moved / "pool.csv") as project:
        assert project.status.moved and not project.status.changed
        assert project.session.labels[50] == 2
    with open_project(tmp_path / "p.dami") as project:  # the new place is remembered
        assert project.dataset.source == (moved / "pool.csv").resolve()


def test_an_edited_csv_is_reported_and_labels_follow_their_rows_by_id(tmp_path: Path) -> None:
    project = new_project(tmp_path)
    session = project.session
    session.label(session.dataset.ids.tolist().index("r40"), 2)
    session.label(session.dataset.ids.tolist().index("r41"), 1)
    session.skip(session.dataset.ids.tolist().index("r42"))
    session.run_round()
    project.close()

    frame = pd.read_csv(tmp_path / "pool.csv", dtype={"species": str}, keep_default_na=False)
    frame = frame[frame["name"] != "r41"]  # a labeled row removed
    frame.loc[frame["name"] == "r43", "x1"] = 99.0  # a row edited
    extra = pool_frame(n=2, labeled=0, seed=5).assign(name=["new1", "new2"])
    frame = pd.concat([extra, frame.iloc[::-1]])  # rows added, and the order reversed
    frame.to_csv(tmp_path / "pool.csv", index=False)

    with pytest.raises(SourceChanged) as info:
        open_project(tmp_path / "p.dami")
    status = info.value.status
    assert (status.added, status.removed, status.edited, status.labels_lost) == (2, 1, 1, 1)
    assert (status.rows_before, status.rows_after) == (90, 91)
    assert "id column 'name'" in str(info.value) and "--accept-changes" in str(info.value)

    with open_project(tmp_path / "p.dami", accept_changes=True) as project:
        s = project.session
        ids = s.dataset.ids.tolist()
        assert s.labels[ids.index("r40")] == 2 and s.skipped[ids.index("r42")]
        assert s.n_labeled == 15 + 1  # r41's label is set aside with its row
        assert set(s.dataset.ids[s.queries]) <= set(ids) - {"new1", "new2"}
        assert len(s.rounds) == 1
        s.undo()  # the skip of r42, found by id
        assert not s.skipped[ids.index("r42")]
    with open_project(tmp_path / "p.dami") as project:  # accepted once, then quiet
        assert not project.status.changed


def test_without_an_id_column_rows_are_matched_by_content(tmp_path: Path) -> None:
    project = new_project(tmp_path, with_id=False)
    project.session.label(60, 1)
    project.session.label(61, 2)
    x60 = project.dataset.frame.loc[60, "x1"]
    project.close()
    frame = pd.read_csv(tmp_path / "pool.csv", dtype={"species": str}, keep_default_na=False)
    frame.loc[50, "species"] = "a"  # a label filled in the file: same row, edited
    frame = frame.drop(index=61)
    frame = pd.concat([frame.iloc[:10], frame.iloc[[20]], frame.iloc[10:]])  # a duplicate row
    frame = frame.sample(frac=1.0, random_state=1)
    frame.to_csv(tmp_path / "pool.csv", index=False)
    with pytest.raises(SourceChanged, match="matched by their content") as info:
        open_project(tmp_path / "p.dami")
    status = info.value.status
    assert (status.added, status.removed, status.edited, status.labels_lost) == (1, 1, 1, 1)
    with open_project(tmp_path / "p.dami", accept_changes=True) as project:
        s = project.session
        row = int(np.flatnonzero(s.dataset.frame["x1"].to_numpy() == x60)[0])
        # 15 + 1 labels in the file, and the label of row 60 (that of 61 is set aside)
        assert s.labels[row] == 1 and s.n_labeled == 16 + 1


def test_the_same_rows_in_another_order_are_accepted_without_asking(tmp_path: Path) -> None:
    project = new_project(tmp_path)
    project.session.label(70, 1)
    project.close()
    frame = pd.read_csv(tmp_path / "pool.csv", dtype={"species": str}, keep_default_na=False)
    frame.sample(frac=1.0, random_state=0).to_csv(tmp_path / "pool.csv", index=False)
    with open_project(tmp_path / "p.dami") as project:
        assert project.status.changed and project.status.same_rows
        assert project.session.labels[project.row_of_id("r70")] == 1


def test_saving_a_session_that_is_already_under_way(tmp_path: Path) -> None:
    pool_frame().to_csv(tmp_path / "pool.csv", index=False)
    dataset = load_dataset(tmp_path / "pool.csv", label_column="species", id_column="name")
    session = Session(dataset, batch_size=4, model_config=TINY, estimate_accuracy=False)
    session.run_round()
    session.label(int(session.queries[0]), 0)
    session.skip(int(session.queries[1]))
    session.undo()
    session.run_round()
    session.label(int(session.queries[0]), 1)
    with create_project(tmp_path / "s.dami", session, colours=["#111", "#222", "#333"]) as project:
        assert session.journal is project
        session.label(20, 2)
    assert session.journal is None
    with open_project(tmp_path / "s.dami") as project:
        s = project.session
        np.testing.assert_array_equal(s.labels, session.labels)
        np.testing.assert_array_equal(s.queries, session.queries)
        assert [e.kind for e in s.events] == [e.kind for e in session.events]
        assert project.class_colours == ["#111", "#222", "#333"]


def test_demo_style_hidden_labels_and_ground_truth_come_back(tmp_path: Path) -> None:
    frame = pool_frame(labeled=90)
    frame.to_csv(tmp_path / "pool.csv", index=False)
    dataset = load_dataset(tmp_path / "pool.csv", label_column="species", id_column="name")
    truth = dataset.y.copy()
    dataset.y = np.full_like(truth, -1)
    session = Session(dataset, truth=truth, model_config=TINY, estimate_accuracy=False)
    create_project(tmp_path / "d.dami", session).close()
    with open_project(tmp_path / "d.dami") as project:
        assert project.session.n_labeled == 0
        np.testing.assert_array_equal(project.session.truth, truth)


def test_layouts_and_colours(tmp_path: Path) -> None:
    with new_project(tmp_path) as project:
        assert project.load_layout("umap") is None
        xy = np.random.default_rng(0).normal(size=(90, 2))
        project.save_layout("umap", xy)
        with pytest.raises(DamiError, match="90 x 2"):
            project.save_layout("pca", xy[:5])
        with pytest.raises(DamiError, match="one colour per class"):
            project.set_class_colours(["#fff"])
        project.set_class_colours(["#0072B2", None, "#009E73"])
    with open_project(tmp_path / "p.dami") as project:
        np.testing.assert_array_equal(project.load_layout("umap"), xy.astype(np.float32))
        assert project.class_colours == ["#0072B2", None, "#009E73"]


def test_row_ids_and_bad_labels(tmp_path: Path) -> None:
    with new_project(tmp_path) as project:
        assert project.row_of_id("r7") == 7
        with pytest.raises(DamiError, match=r"no row 'r999'.*'name'"):
            project.row_of_id("r999")
        with pytest.raises(ParameterError):
            project.session.label(3, 7)
        assert len(project.session.events) == 0
    (tmp_path / "no_id").mkdir()
    with new_project(tmp_path / "no_id", with_id=False) as project:
        assert project.row_of_id("1") == 0 and project.row_of_id("90.0") == 89
        with pytest.raises(DamiError, match=r"row numbers 1\.\.90"):
            project.row_of_id("0")


def test_creating_refuses_a_csv_without_two_classes_and_writes_nothing(tmp_path) -> None:
    frame = pool_frame()
    frame["species"] = np.where(np.arange(90) < 10, "a", "")
    frame.to_csv(tmp_path / "pool.csv", index=False)
    from dami_gui.core.project.creating import create_project_from_csv

    with pytest.raises(DamiError, match=r"only the class 'a'.*--classes"):
        create_project_from_csv(tmp_path / "p.dami", tmp_path / "pool.csv", label_column="species")
    assert leftovers(tmp_path, {"pool.csv"}) == []
    with create_project_from_csv(
        tmp_path / "p.dami", tmp_path / "pool.csv", label_column="species", classes=["a", "b"]
    ) as project:
        assert project.session.classes == ["a", "b"]


# ---------------------------------------------------------------------------------- export


def test_exported_labels_keep_the_columns_and_say_round_and_status(tmp_path: Path) -> None:
    with new_project(tmp_path) as project:
        campaign(project)
        session = project.session
        n = export_labels(session, tmp_path / "labeled.csv")
        export_labels(session, tmp_path / "all.csv", all_rows=True)
    labeled = pd.read_csv(tmp_path / "labeled.csv", keep_default_na=False)
    assert n == len(labeled) == session.n_labeled == 18
    assert list(labeled.columns) == ["name", "x1", "x2", "x3", "species", "round", "status"]
    by_status = labeled.groupby("status").size().to_dict()
    assert by_status == {"from file": 15, "labeled": 3}
    assert set(labeled.loc[labeled.status == "labeled", "round"]) == {"1", "2"}
    whole = pd.read_csv(tmp_path / "all.csv", keep_default_na=False)
    assert len(whole) == 90 and (whole.status == "skipped").sum() == 1
    original = pool_frame()
    np.testing.assert_allclose(whole["x1"], original["x1"])


def test_formula_text_is_escaped_but_numbers_stay_numbers(tmp_path: Path) -> None:
    frame = pool_frame()
    frame["note"] = ["=HYPERLINK(1)", "+cmd", "-x", "@SUM(A1)", "-3.5", "plain", "-1-2"] + [
        "ok"
    ] * 83
    frame["x1"] = -frame["x1"].abs()  # negative numbers
    frame.loc[0, "name"] = "=1+1"
    frame.to_csv(tmp_path / "pool.csv", index=False)
    from dami_gui.core.project.creating import create_project_from_csv

    with create_project_from_csv(
        tmp_path / "p.dami", tmp_path / "pool.csv", label_column="species", id_column="name"
    ) as project:
        export_labels(project.session, tmp_path / "out.csv", all_rows=True)
    text = (tmp_path / "out.csv").read_text()
    out = pd.read_csv(tmp_path / "out.csv", keep_default_na=False)
    assert out["note"].tolist()[:7] == ["'=HYPERLINK(1)", "'+cmd", "'-x", "'@SUM(A1)", "-3.5",
                                        "plain", "'-1-2"]  # fmt: skip
    assert out["name"][0] == "'=1+1"
    assert (out["x1"] < 0).all() and out["x1"].dtype == float
    assert "\n-" in text or ",-" in text  # negative numbers written plainly
    assert escape_cell(-2.0) == -2.0 and escape_cell("-2e5") == "-2e5" and escape_cell(None) is None
    assert escape_cell("\tx") == "'\tx" and escape_cell("\r=1") == "'\r=1"


def test_exported_model_loads_with_weights_only_and_predicts_the_same(tmp_path: Path) -> None:
    with new_project(tmp_path) as project:
        with pytest.raises(DamiError, match="run a round first"):
            export_model(project.session, tmp_path / "model.pt")
        result = project.session.run_round()
        weights, sidecar = export_model(project.session, tmp_path / "model.pt")
        X = project.dataset.X
    assert sidecar == tmp_path / "model.json"
    meta = json.loads(sidecar.read_text())
    assert meta["classes"] == ["a", "b", "c"] and meta["feature_names"] == ["x1", "x2", "x3"]
    assert meta["preprocessing"]["label_column"] == "species" and meta["round"] == 1
    model = MLP.from_spec(meta["spec"], torch.load(weights, weights_only=True))
    np.testing.assert_allclose(predict_proba(model, X), result.proba, atol=1e-6)


def test_a_failed_export_leaves_no_half_file(tmp_path: Path, monkeypatch) -> None:
    with new_project(tmp_path) as project:
        session = project.session

        def full(*args, **kwargs):
            raise OSError(28, "No space left on device")

        monkeypatch.setattr("dami_gui.core.project.export.os.fsync", full)
        with pytest.raises(DamiError, match=r"Cannot write the CSV.*the disk is full"):
            export_labels(session, tmp_path / "out.csv")
    assert leftovers(tmp_path, {"pool.csv", "p.dami"}) == []
    assert labels_table(session).shape[0] == 15
