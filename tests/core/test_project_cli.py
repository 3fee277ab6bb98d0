"""`dami project ...` and `dami export`: the whole campaign from the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch

from dami_gui.cli import main as cli
from dami_gui.core.project.opening import open_project

from .project_data import leftovers, new_project, write_pool


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def error_line(err: str) -> str:
    """The one error line; fails when there is none, several, or a traceback."""
    lines = [line for line in err.strip().splitlines() if line.startswith("dami")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project made with the tiny network (fast rounds); the CLI uses its saved settings."""
    new_project(tmp_path).close()
    return tmp_path / "p.dami"


def test_new_creates_a_project_that_opens(tmp_path: Path, capsys) -> None:
    pool = write_pool(tmp_path / "pool.csv")
    code, out, err = run(
        capsys, "project", "new", pool, "--label-column", "species", "--id-column", "name",
        "--batch", "4", "-o", tmp_path / "new.dami",
    )  # fmt: skip
    assert code == 0, err
    assert "classes a, b, c; 15 labeled" in out and "Created" in err
    with open_project(tmp_path / "new.dami") as project:
        assert project.session.batch_size == 4 and project.session.n_rows == 90
    code, _, err = run(
        capsys, "project", "new", pool, "--label-column", "species", "-o", tmp_path / "new.dami"
    )
    assert code == 2 and "already exists" in error_line(err)


def test_a_campaign_round_label_skip_from_undo_status_export(project, tmp_path, capsys) -> None:
    code, out, err = run(capsys, "project", "round", project, "--batch", "6")
    assert code == 0, err
    table = out.strip().splitlines()
    assert table[0].split() == ["rank", "id", "predicted", "score"] and len(table) == 7
    queried = [line.split()[1] for line in table[1:]]
    assert "Round 1 saved" in err

    assert run(capsys, "project", "label", project, queried[0], "b")[0] == 0
    assert run(capsys, "project", "label", project, queried[1], "--skip")[0] == 0
    batch = tmp_path / "batch.csv"
    pd.DataFrame({"id": queried[2:5], "label": ["a", "C", "b"]}).to_csv(batch, index=False)
    code, _, err = run(capsys, "project", "label", project, "--from", batch)
    assert code == 0 and "Saved 3 labels" in err
    code, _, err = run(capsys, "project", "undo", project)
    assert code == 0 and f"label b of row {queried[4]}" in err

    code, out, _ = run(capsys, "project", "status", project)
    assert code == 0
    assert "Labels    18 (15 from the file)" in out and "Skipped   1" in out
    assert "4 of 6 queries answered" in out and "unchanged" in out

    code, _, err = run(
        capsys, "export", project, "-o", tmp_path / "labeled.csv", "--model", tmp_path / "m.pt"
    )
    assert code == 0, err
    labeled = pd.read_csv(tmp_path / "labeled.csv", keep_default_na=False)
    assert len(labeled) == 18
    mine = labeled[labeled.status == "labeled"].set_index("name")["species"].to_dict()
    assert mine == {queried[0]: "b", queried[2]: "a", queried[3]: "c"}
    meta = json.loads((tmp_path / "m.json").read_text())
    assert meta["classes"] == ["a", "b", "c"]
    assert set(torch.load(tmp_path / "m.pt", weights_only=True)) == {
        "linears.0.weight", "linears.0.bias", "linears.1.weight", "linears.1.bias"
    }  # fmt: skip
    code, _, err = run(capsys, "project", "export", project, "-o", tmp_path / "all.csv", "--all")
    assert code == 0 and len(pd.read_csv(tmp_path / "all.csv")) == 90

    with open_project(project) as again:
        assert again.session.batch_size == 6 and len(again.session.rounds) == 1


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["r999", "a"], "no row 'r999'"),
        (["r50", "zebra"], "'zebra' is not a class; the classes are a, b, c"),
        (["r50"], "Give ROW_ID and LABEL"),
        (["r50", "a", "--skip"], "Give ROW_ID and LABEL"),
    ],
)
def test_bad_labels_are_one_line_and_change_nothing(project, capsys, argv, words) -> None:
    before = project.read_bytes()
    code, _, err = run(capsys, "project", "label", project, *argv)
    assert code == 2 and words in error_line(err)
    with open_project(project) as again:
        assert again.session.events == []
    assert project.read_bytes() == before


def test_a_bad_line_in_a_label_file_saves_none_of_it(project, tmp_path, capsys) -> None:
    batch = tmp_path / "batch.csv"
    batch.write_text("id,label\nr50,a\nr51,b\nr52,zebra\n")
    code, _, err = run(capsys, "project", "label", project, "--from", batch)
    assert code == 2 and "batch.csv, line 4: 'zebra' is not a class" in error_line(err)
    batch.write_text("row,class\nr50,a\n")
    code, _, err = run(capsys, "project", "label", project, "--from", batch)
    assert code == 2 and "needs the columns 'id' and 'label'" in error_line(err)
    with open_project(project) as again:
        assert again.session.n_labeled == 15


def test_without_an_id_column_rows_are_numbered_from_one(tmp_path, capsys) -> None:
    new_project(tmp_path, with_id=False).close()
    project = tmp_path / "p.dami"
    assert run(capsys, "project", "label", project, "90", "c")[0] == 0
    with open_project(project) as again:
        assert again.session.labels[89] == 2


def test_a_changed_csv_is_reported_then_accepted(project, tmp_path, capsys) -> None:
    assert run(capsys, "project", "label", project, "r40", "a")[0] == 0
    pool = tmp_path / "pool.csv"
    frame = pd.read_csv(pool, dtype=str, keep_default_na=False)
    frame[frame.name != "r40"].to_csv(pool, index=False)
    for action in (["status"], ["round"], ["label", "r41", "a"], ["export", "-o", "x.csv"]):
        code, _, err = run(capsys, "project", action[0], project, *action[1:])
        line = error_line(err)
        assert code == 2 and "1 removed" in line and "--accept-changes" in line, line
    moved = tmp_path / "moved.csv"
    pool.rename(moved)
    code, _, err = run(capsys, "project", "status", project)
    assert code == 2 and "was not found" in error_line(err) and "relocate" in err
    code, _, err = run(capsys, "project", "relocate", project, moved)
    assert code == 2 and "1 rows you labeled" not in err and "removed" in error_line(err)
    code, _, err = run(capsys, "project", "relocate", project, moved, "--accept-changes")
    assert code == 0, err
    code, out, _ = run(capsys, "project", "status", project)
    assert code == 0 and "moved.csv" in out and "89" in out


def test_project_errors_are_one_line(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.dami"
    bad.write_bytes(b"this is not a project")
    for argv in (["status", bad], ["round", bad], ["label", bad, "1", "a"], ["undo", bad]):
        code, _, err = run(capsys, "project", *argv)
        assert code == 2 and "not a dami project" in error_line(err)
    code, _, err = run(capsys, "project", "status", tmp_path / "none.dami")
    assert code == 2 and "does not exist" in error_line(err)
    code, _, err = run(capsys, "project", "round", tmp_path / "none.dami", "--batch", "0")
    assert code == 2 and "'batch'" in error_line(err)
    assert leftovers(tmp_path, {"bad.dami"}) == []


def test_the_installed_command_runs_a_project(tmp_path: Path) -> None:
    new_project(tmp_path).close()
    result = subprocess.run(
        [sys.executable, "-m", "dami_gui.cli", "project", "status", str(tmp_path / "p.dami")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 0 and "Rounds    none yet" in result.stdout
    assert "CSV file" in result.stdout and "unchanged" in result.stdout
