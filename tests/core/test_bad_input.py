"""Every bad input gets one sentence with the way out, exit code 2, and nothing half-written.

`dami project new` on awkward or broken CSV files; the project file broken, locked, read-only,
too new, or its disk full; a big file read in chunks with progress and cancel; memory running out.
"""

from __future__ import annotations

import os
import sqlite3
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dami_gui.cli import main as cli
from dami_gui.core.data import reader as csv_reader
from dami_gui.core.errors import Cancelled, DataError
from dami_gui.core.progress import CancelToken
from dami_gui.core.project.creating import create_project_from_csv
from dami_gui.core.project.opening import open_project
from dami_gui.core.project.schema import SCHEMA_VERSION
from dami_gui.core.project.storage import Store

from .project_data import leftovers, new_project, pool_frame


def new(capsys, csv: Path, *options: str) -> tuple[int, str, str]:
    """`dami project new csv --label-column species ... -o p.dami`: (code, stdout, error line)."""
    argv = ["project", "new", str(csv), "--label-column", "species", *options]
    code = cli.main([*argv, "-o", str(csv.with_name("p.dami"))])
    out, err = capsys.readouterr()
    lines = [line for line in err.strip().splitlines() if line.startswith("dami:")]
    assert "Traceback" not in err and len(lines) <= 1, err
    return code, out, lines[0] if lines else ""


def rows(n: int = 40, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    return [f"r{i},{rng.normal():.4f},{rng.normal():.4f},{'abc'[i % 3]}" for i in range(n)]


GOOD_HEADER = "name,x1,x2,species"


def xlsx_bytes(tmp_path: Path) -> bytes:
    path = tmp_path / "book.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    return path.read_bytes()


REFUSED = {
    "empty": (b"", ["empty"]),
    "blank lines": (b"\n \n", ["empty"]),
    "header only": (b"name,x1,x2,species\n", ["header but no rows", "add data rows"]),
    "binary": (bytes(range(256)) * 4, ["binary", "save it as CSV"]),
    "json": (b'[{"x1": 1, "species": "a"}]', ["JSON", "save it as CSV"]),
    "old excel": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), ["Excel", "save it as CSV"]),
    "duplicate columns": (
        "name,x1,x1,species\n" + "\n".join(rows()),
        ["more than one column is named 'x1'", "own name"],
    ),
    "too many cells": (
        GOOD_HEADER + "\n" + "\n".join(rows(5)) + "\nr9,1,2,a,surprise\n",
        ["line 7 has 5 values but the header has 4 columns", "separator"],
    ),
    "first row too long": (
        GOOD_HEADER + "\nr0,1,2,a,extra\n" + "\n".join(rows(5)[1:]),
        ["data row 1 has more values"],
    ),
    "unclosed quote": (GOOD_HEADER + '\nr0,1,"2,a\nr1,3,4,b\n', ["never closed"]),
    "no feature": (
        "name,note,species\n" + "\n".join(f"r{i},words {i},{'ab'[i % 2]}" for i in range(30)),
        ["no column can be used as a feature", "add columns of numbers"],
    ),
    "one class": (
        GOOD_HEADER
        + "\n"
        + "\n".join(r[:-1] + ("a" if i < 10 else "") for i, r in enumerate(rows())),
        ["only the class 'a'", "--classes"],
    ),
    "no labels": (
        GOOD_HEADER + "\n" + "\n".join(r[:-1] for r in rows()),
        ["has no classes", "--classes"],
    ),
    "a measurement as label": (
        GOOD_HEADER + "\n" + "\n".join(f"r{i},{i % 7},{i % 5},{i * 0.37:.2f}" for i in range(200)),
        ["has 200 different values in 200 labeled rows", "--label-column"],
    ),
    "duplicate ids": (
        GOOD_HEADER + "\n" + "\n".join(rows()) + "\nr3,0.1,0.2,a\n",
        ["'r3' more than once", "ids must be unique"],
    ),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_bad_csv_files_are_refused_by_project_new(tmp_path, capsys, case) -> None:
    content, words = REFUSED[case]
    csv = tmp_path / "pool.csv"
    csv.write_bytes(content.encode() if isinstance(content, str) else content)
    code, out, line = new(capsys, csv, "--id-column", "name") if "ids" in case else new(capsys, csv)
    assert code == 2 and line.startswith("dami: error: "), (code, out, line)
    for word in words:
        assert word in line, line
    assert leftovers(tmp_path, {"pool.csv"}) == []  # no project, no temporary file


def test_an_excel_workbook_and_a_missing_label_column(tmp_path, capsys) -> None:
    csv = tmp_path / "pool.csv"
    csv.write_bytes(xlsx_bytes(tmp_path))
    (tmp_path / "book.xlsx").unlink()
    code, _, line = new(capsys, csv)
    assert code == 2 and "Excel workbook" in line
    csv.write_text(GOOD_HEADER + "\n" + "\n".join(rows()))
    code = cli.main(["project", "new", str(csv), "--label-column", "kind", "-o", "p.dami"])
    line = capsys.readouterr().err.strip()
    assert code == 2 and "no column 'kind'" in line and "'species'" in line
    assert leftovers(tmp_path, {"pool.csv"}) == []


def created(tmp_path: Path) -> pd.DataFrame:
    with open_project(tmp_path / "p.dami") as project:
        assert np.isfinite(project.dataset.X).all()
        return project.dataset.frame


def test_semicolons_with_decimal_commas(tmp_path, capsys) -> None:
    lines = [f"r{i};{i},5;-{i},25;{'abc'[i % 3]}" for i in range(30)]
    (tmp_path / "pool.csv").write_text("name;x1;x2;species\n" + "\n".join(lines))
    assert new(capsys, tmp_path / "pool.csv")[0] == 0
    frame = created(tmp_path)
    assert frame["x1"][3] == 3.5 and frame["x2"][2] == -2.25


def test_tabs_and_a_windows_encoding(tmp_path, capsys) -> None:
    lines = [f"r{i}\t{i}\t{i % 4}\t{['café', 'thé', 'crème'][i % 3]}" for i in range(30)]
    text = "name\tx1\tx2\tspecies\n" + "\n".join(lines)
    (tmp_path / "pool.csv").write_bytes(text.encode("cp1252"))
    code, out, _ = new(capsys, tmp_path / "pool.csv")
    assert code == 0 and "classes café, crème, thé" in out


def test_quoted_newlines_mixed_columns_gaps_and_constants(tmp_path, capsys) -> None:
    frame = pool_frame(n=60)
    frame["note"] = [f'"line {i}\nsecond line"' for i in range(60)]
    frame["mostly_numbers"] = [str(i) if i != 7 else "n.d." for i in range(60)]
    frame["words_and_numbers"] = [str(i) if i % 2 else f"w{i % 3}" for i in range(60)]
    frame["gaps"] = ["", "nan", "inf", "-inf", "NA", *map(str, range(55))]
    frame["constant"] = 1
    path = tmp_path / "pool.csv"
    frame.to_csv(path, index=False)
    code, out, line = new(capsys, path)
    assert code == 0, line
    read = created(tmp_path)
    assert len(read) == 60 and read["note"][0] == '"line 0\nsecond line"'
    with open_project(tmp_path / "p.dami") as project:
        roles = project.dataset.report.roles()
        names = project.dataset.feature_names
    assert roles["constant"] == "ignore" and roles["note"] == "ignore"
    assert roles["mostly_numbers"] == "feature" and "mostly_numbers (missing)" in names
    assert roles["words_and_numbers"] == "ignore"  # neither numbers nor few categories
    assert roles["gaps"] == "feature" and "gaps (missing)" in names
    assert "same value (1) in every row" in out and "treated as missing" in out


# ------------------------------------------------------------------------------ big files


def big_pool(path: Path, n: int = 60_000) -> Path:
    """A file of a few MB, read in many chunks once CHUNK_BYTES is made small."""
    frame = pool_frame(n=n, labeled=300)
    frame.to_csv(path, index=False)
    assert path.stat().st_size > 2_000_000
    return path


def test_a_big_file_is_read_in_chunks_with_progress_and_can_be_cancelled(
    tmp_path, monkeypatch
) -> None:
    monkeypatch.setattr(csv_reader, "CHUNK_BYTES", 256 * 1024)
    csv = big_pool(tmp_path / "pool.csv")
    seen: list[tuple[str, float]] = []
    token = CancelToken()

    def progress(stage: str, fraction: float) -> None:
        seen.append((stage, fraction))
        if stage == "Reading file" and fraction > 0.3:
            token.cancel()

    with pytest.raises(Cancelled):
        create_project_from_csv(
            tmp_path / "p.dami", csv, label_column="species", progress=progress, cancel=token
        )
    reading = [f for stage, f in seen if stage == "Reading file"]
    assert len(reading) >= 3 and reading == sorted(reading) and reading[-1] < 0.7
    assert leftovers(tmp_path, {"pool.csv"}) == []

    seen.clear()
    project = create_project_from_csv(
        tmp_path / "p.dami", csv, label_column="species", progress=progress
    )
    project.close()
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert {"Reading file", "Matching rows"} <= {stage for stage, _ in seen}

    token = CancelToken()
    with pytest.raises(Cancelled):
        open_project(tmp_path / "p.dami", progress=progress, cancel=token)
    with open_project(tmp_path / "p.dami") as project:  # the cancelled open let go of the lock
        assert project.session.n_rows == 60_000


def test_running_out_of_memory_is_a_sentence(tmp_path, monkeypatch, capsys) -> None:
    new_project(tmp_path).close()

    def too_big(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr("dami_gui.core.data.dataset.build_dataset", too_big)
    monkeypatch.setattr("dami_gui.core.project.opening.build_dataset", too_big)
    with pytest.raises(DataError, match="does not fit in this computer's memory"):
        open_project(tmp_path / "p.dami")
    (tmp_path / "q").mkdir()
    pool_frame().to_csv(tmp_path / "q" / "pool.csv", index=False)
    code, _, line = new(capsys, tmp_path / "q" / "pool.csv")
    assert code == 2 and "does not fit in this computer's memory" in line
    assert leftovers(tmp_path / "q", {"pool.csv"}) == []
    monkeypatch.undo()
    with open_project(tmp_path / "p.dami") as project:  # and the failed open let go of the lock
        assert project.session.n_labeled == 15


# ------------------------------------------------------------------------- project files


def label(capsys, project: Path, *argv: str) -> tuple[int, str]:
    code = cli.main(["project", "label", str(project), *argv])
    return code, capsys.readouterr().err.strip()


def test_a_locked_project(tmp_path, capsys) -> None:
    with new_project(tmp_path) as first:
        code, err = label(capsys, tmp_path / "p.dami", "r50", "a")
        assert code == 2 and "open in another dami window or command" in err
        assert "\n" not in err and first.session.labels[50] == -1


def test_a_project_from_a_newer_version(tmp_path, capsys) -> None:
    new_project(tmp_path).close()
    conn = sqlite3.connect(tmp_path / "p.dami")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 3}")
    conn.close()
    before = (tmp_path / "p.dami").read_bytes()
    code, err = label(capsys, tmp_path / "p.dami", "r50", "a")
    assert code == 2 and "newer version of dami-gui" in err and "update" in err
    assert (tmp_path / "p.dami").read_bytes() == before


def test_a_truncated_project(tmp_path, capsys) -> None:
    new_project(tmp_path).close()
    path = tmp_path / "p.dami"
    path.write_bytes(path.read_bytes()[:5000])
    code, err = label(capsys, path, "r50", "a")
    assert code == 2 and ("truncated" in err or "damaged" in err) and "backup" in err


def test_a_project_in_a_read_only_folder(tmp_path, capsys, monkeypatch) -> None:
    new_project(tmp_path).close()
    real = os.access
    monkeypatch.setattr(
        os, "access", lambda p, mode, **kw: False if mode & os.W_OK else real(p, mode)
    )
    code, err = label(capsys, tmp_path / "p.dami", "r50", "a")
    assert code == 2 and "read-only" in err and "copy it to a folder" in err
    code = cli.main(["project", "status", str(tmp_path / "p.dami")])
    assert code == 0  # reading still works


class FullDisk:
    """A connection whose inserts fail as on a full disk; everything else is the real one."""

    def __init__(self, conn: sqlite3.Connection, error: Exception) -> None:
        self._conn, self._error = conn, error

    def execute(self, sql: str, *args):
        if sql.lstrip().upper().startswith("INSERT"):
            raise self._error
        return self._conn.execute(sql, *args)

    def __getattr__(self, name: str):
        return getattr(self._conn, name)


@pytest.mark.parametrize(
    "error", [sqlite3.OperationalError("database or disk is full"), OSError(28, "No space left")]
)
def test_a_full_disk_while_labeling_from_the_command_line(tmp_path, capsys, monkeypatch, error):
    new_project(tmp_path).close()
    path = tmp_path / "p.dami"
    assert label(capsys, path, "r50", "a")[0] == 0
    connect = Store._connect
    monkeypatch.setattr(Store, "_connect", lambda self: FullDisk(connect(self), error))
    code, err = label(capsys, path, "r51", "b")
    assert code == 2
    assert "disk holding p.dami is full, so the label was not saved; free some space" in err
    monkeypatch.undo()
    with open_project(path) as project:
        labels = project.session.labels
        assert labels[50] == 0 and labels[51] == -1 and len(project.session.events) == 1
