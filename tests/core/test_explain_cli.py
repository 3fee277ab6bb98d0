"""`dami explain` and the coverage lines of `dami project status`, on a real project file."""

import json

import numpy as np
import pytest

from dami_gui.cli import main as cli
from dami_gui.core.coverage import coverage_history
from dami_gui.core.project.opening import open_project

from .project_data import new_project, pool_frame


@pytest.fixture
def project_path(tmp_path):
    """A project after three rounds whose queries were labeled from the hidden truth."""
    truth = pool_frame(labeled=90)["species"].to_numpy()
    project = new_project(tmp_path)
    project.session.strategy = "dami-blend"  # its picks say which of its two rules took them
    codes = {name: i for i, name in enumerate(project.session.classes)}
    for _ in range(3):
        project.session.run_round()
        for row in project.session.queries:
            project.session.label(int(row), codes[truth[row]])
    project.session.run_round()
    path = project.path
    project.close()
    return path


def test_explain_prints_contributions_that_add_up_and_the_region(project_path, capsys):
    with open_project(project_path, readonly=True) as project:
        row_id = str(project.dataset.ids[project.session.queries[0]])
    assert cli.main(["explain", str(project_path), row_id]) == 0
    out = capsys.readouterr().out
    assert f"Row {row_id}" in out and "Picked 1st in round 4. DAMI+ blend, a typical row" in out
    with open_project(project_path, readonly=True) as project:  # the last pick: a boundary row
        last_id = str(project.dataset.ids[project.session.queries[-1]])
    assert cli.main(["explain", str(project_path), last_id, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["why_picked"].startswith(
        "DAMI+ blend, a boundary row"
    )
    assert "(bias)" in out and "= score" in out and "Linear region" in out
    lines = [line.split() for line in out.splitlines() if line.startswith("  ")]
    score = next(float(parts[2]) for parts in lines if parts[0] == "=")
    terms = [float(parts[1]) for parts in lines if parts[0] != "="]
    assert len(terms) == 4  # x1, x2, x3 and the bias
    assert sum(terms) == pytest.approx(score, abs=5e-3)  # printed to 3 decimals


def test_explain_json_for_another_class(project_path, capsys):
    with open_project(project_path, readonly=True) as project:
        row_id = str(project.dataset.ids[7])
    assert cli.main(["explain", str(project_path), row_id, "--class", "b", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["explained_class"] == "b" and data["row_id"] == row_id
    parts = sum(c["value"] for c in data["contributions"]) + data["bias"]
    assert parts == pytest.approx(data["logit"], abs=1e-4)
    assert {c["column"] for c in data["contributions"]} == {"x1", "x2", "x3"}


def test_explain_errors_are_one_line(tmp_path, project_path, capsys):
    (tmp_path / "fresh").mkdir()
    fresh = new_project(tmp_path / "fresh")
    fresh.close()
    assert cli.main(["explain", str(fresh.path), "r20"]) == 2
    assert "no model yet" in capsys.readouterr().err
    assert cli.main(["explain", str(project_path), "nope"]) == 2
    assert "no row 'nope'" in capsys.readouterr().err


def test_status_shows_coverage_and_the_stopping_hint_after_reopening(project_path, capsys):
    assert cli.main(["project", "status", str(project_path)]) == 0
    out = capsys.readouterr().out
    assert "Coverage" in out and "exact linear regions" in out
    assert "Stopping" in out and ("Keep labeling" in out or "You could stop" in out)
    with open_project(project_path, readonly=True) as project:
        history = coverage_history(project.session.rounds)
    # Recorded when each round ran, so a reopened project still compares every round.
    assert [h.round for h in history] == [1, 2, 3, 4]
    assert history[0].prediction_change is None
    assert all(h.prediction_change is not None for h in history[1:])
    assert all(0 <= h.labeled_share <= 1 for h in history)
    assert np.isfinite([h.prediction_change for h in history[1:]]).all()
