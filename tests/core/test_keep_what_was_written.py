"""Issue 16: data in, data out, unchanged; each hostile-file case as a small file the test writes.

Leading zeros, thousands separators, "1" and "1.0", classes called "NA" and "None", a file that
changes while it is read, NUL bytes and over-long lines after the first piece, a huge cell in the
role report, and `dami select` with one class or with no label at all (a cold-start batch).
"""

from __future__ import annotations

import functools
import json
import os
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dami_gui.cli import main as cli
from dami_gui.core.data import pieces
from dami_gui.core.data import reader as csv_reader
from dami_gui.core.data.dataset import build_dataset, load_dataset
from dami_gui.core.data.demo import demo_path
from dami_gui.core.data.reader import read_csv
from dami_gui.core.data.roles import infer_roles, label_values
from dami_gui.core.errors import DataError
from dami_gui.core.project.creating import create_project_from_csv
from dami_gui.core.project.export import export_labels
from dami_gui.core.project.opening import open_project

from .project_data import TINY


def write(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def features(n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    return [f"{a:.4f},{b:.4f}" for a, b in rng.normal(size=(n, 2))]


# ------------------------------------------------------------------------------ leading zeros


def test_leading_zeros_stay_in_ids_labels_and_the_export(tmp_path: Path) -> None:
    rows = [f"{i:03d},{x},{['01', '1', '02'][i % 3]}" for i, x in enumerate(features(30))]
    csv = write(tmp_path / "pool.csv", ["id,x1,x2,label", *rows])
    dataset = load_dataset(csv, label_column="label", id_column="id")
    assert dataset.ids[:3].tolist() == ["000", "001", "002"]
    assert dataset.classes == ["01", "1", "02"]  # "01" and "1" are two classes, as written
    assert dataset.classes[dataset.y[0]] == "01" and dataset.classes[dataset.y[1]] == "1"

    project = create_project_from_csv(
        tmp_path / "p.dami", csv, label_column="label", id_column="id", model_config=TINY
    )
    with project:
        export_labels(project.session, tmp_path / "out.csv", all_rows=True)
    exported = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)
    assert exported["id"].tolist()[:3] == ["000", "001", "002"]
    assert exported["label"].tolist()[:3] == ["01", "1", "02"]
    with open_project(tmp_path / "p.dami") as reopened:  # the project reads the file the same way
        assert reopened.dataset.ids[:3].tolist() == ["000", "001", "002"]


def test_a_zero_padded_column_is_still_a_numeric_feature(tmp_path: Path) -> None:
    rows = [f"r{i},{i % 7:03d},{x}" for i, x in enumerate(features(40))]
    frame = read_csv(write(tmp_path / "pool.csv", ["name,code,x1,x2", *rows]))
    assert frame["code"].tolist()[:3] == ["000", "001", "002"]  # the text, as written
    report = infer_roles(frame)
    assert report.roles()["code"] == "feature"
    dataset = build_dataset(frame, report)
    assert dataset.preprocessing.transforms[0].kind == "numeric"


# ----------------------------------------------------------------------- thousands separators


@pytest.mark.parametrize(
    ("sep", "cells", "values"),
    [
        (",", ['"1,234,567.89"', '"12,000.5"', "7.25"], [1234567.89, 12000.5, 7.25]),
        (";", ["1.234.567,89", "12.000,5", "7,25"], [1234567.89, 12000.5, 7.25]),
        (";", ["1 234 567,89", "12 000,5", "7,25"], [1234567.89, 12000.5, 7.25]),
        (",", ["1'234'567.89", "12'000.5", "7.25"], [1234567.89, 12000.5, 7.25]),
    ],
)
def test_thousands_separators_make_a_number_column(
    tmp_path: Path, sep: str, cells: list[str], values: list[float]
) -> None:
    rows = [sep.join([f"r{i}", cells[i % 3], "ab"[i % 2]]) for i in range(30)]
    csv = write(tmp_path / "pool.csv", [sep.join(["name", "amount", "label"]), *rows])
    frame = read_csv(csv)
    assert frame["amount"].tolist()[:3] == values
    report = infer_roles(frame, label_column="label")
    assert report.roles()["amount"] == "feature"  # not taken for an id and dropped


def test_a_column_that_does_not_agree_on_one_format_keeps_its_text(tmp_path: Path) -> None:
    lines = ["name,a,b", 'r0,"1,234",1.234.567', 'r1,"1,5",2', "r2,3,4"]
    frame = read_csv(write(tmp_path / "pool.csv", lines))
    assert frame["a"].tolist() == ["1,234", "1,5", "3"]  # "1,5" groups no thousands
    assert frame["b"].tolist() == ["1.234.567", "2", "4"]


# ---------------------------------------------------------------------------- "1" and "1.0"


def test_1_and_1_0_are_one_class_only_in_a_column_of_numbers(tmp_path: Path) -> None:
    numeric = [f"r{i},{x},{['1', '1.0', '2'][i % 3]}" for i, x in enumerate(features(30))]
    frame = read_csv(write(tmp_path / "a.csv", ["name,x1,x2,label", *numeric]))
    assert label_values(frame, "label") == ["1", "2"]
    mixed = [f"r{i},{x},{['1', '1.0', 'other'][i % 3]}" for i, x in enumerate(features(30))]
    frame = read_csv(write(tmp_path / "b.csv", ["name,x1,x2,label", *mixed]))
    assert label_values(frame, "label") == ["1", "1.0", "other"]


# ------------------------------------------------------------------- "NA" and "None" classes


def test_classes_called_na_and_none_are_classes_and_select_runs(tmp_path: Path, capsys) -> None:
    rng = np.random.default_rng(1)
    rows = []
    for i in range(60):
        cls = i % 2
        label = ["NA", "None"][cls] if i < 20 else ""
        rows.append(f"r{i},{rng.normal() + 3 * cls:.4f},{rng.normal():.4f},{label}")
    csv = write(tmp_path / "pool.csv", ["name,x1,x2,label", *rows])
    dataset = load_dataset(csv, label_column="label")
    assert dataset.classes == ["NA", "None"] and int((dataset.y >= 0).sum()) == 20
    reason = next(d.reason for d in dataset.report.decisions if d.column == "label")
    assert "'NA' and 'None' are taken as class names" in reason
    code = cli.main(
        [
            "select",
            str(csv),
            "--label-column",
            "label",
            "--batch",
            "4",
            "--out",
            str(tmp_path / "q"),
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert len(pd.read_csv(tmp_path / "q")) == 4


def test_markers_are_gaps_in_features_and_the_report_says_which(tmp_path: Path) -> None:
    rows = [
        f"r{i},{'NA' if i % 10 == 0 else i * 0.5},{['red', 'blue', '?'][i % 3]},{'ab'[i % 2]}"
        for i in range(30)
    ]
    csv = write(tmp_path / "pool.csv", ["name,size,colour,label", *rows])
    dataset = load_dataset(csv, label_column="label")
    reasons = {d.column: d.reason for d in dataset.report.decisions}
    assert "3 missing cells (3 written as 'NA')" in reasons["size"]
    assert "10 missing cells (10 written as '?')" in reasons["colour"]
    assert "size (missing)" in dataset.feature_names and "colour=?" not in dataset.feature_names
    assert dataset.frame["colour"][2] == "?"  # the table keeps what was written


# ------------------------------------------------------------ a file changed while it is read


def big_pool(path: Path, n: int = 4000) -> Path:
    return write(path, ["name,x1,x2,label", *[f"r{i},{x},a" for i, x in enumerate(features(n))]])


def test_a_file_cut_short_while_it_is_read_is_refused(tmp_path: Path) -> None:
    csv = big_pool(tmp_path / "pool.csv")
    size = csv.stat().st_size

    def truncate(stage: str, fraction: float) -> None:
        if fraction < 0.7 and csv.stat().st_size == size:
            with csv.open("r+b") as handle:
                handle.truncate(size // 2)

    with pytest.raises(DataError, match="changed while it was being read") as info:
        read_csv(csv, progress=truncate, chunk_bytes=8000)
    assert f"had {size:,} bytes" in str(info.value)


def test_a_file_rewritten_in_place_while_it_is_read_is_refused(tmp_path: Path) -> None:
    csv = big_pool(tmp_path / "pool.csv")
    before = csv.stat()

    def rewrite(stage: str, fraction: float) -> None:
        if csv.stat().st_mtime_ns == before.st_mtime_ns:
            csv.write_bytes(csv.read_bytes().replace(b",a\n", b",b\n"))  # same size
            os.utime(csv, ns=(before.st_atime_ns, before.st_mtime_ns + 10**9))

    with pytest.raises(DataError, match=r"changed while it was being read.*saved again"):
        read_csv(csv, progress=rewrite, chunk_bytes=8000)
    assert len(read_csv(csv)) == 4000  # left alone, it reads


# --------------------------------------------------- NUL bytes and over-long lines, any piece


def test_nul_bytes_after_the_first_piece_are_refused(tmp_path: Path) -> None:
    csv = big_pool(tmp_path / "pool.csv", n=3000)
    with csv.open("ab") as handle:  # a valid start, then what a sparse file reads as
        handle.write(b"\x00" * 200_000)
    assert csv.stat().st_size > 2 * csv_reader.SAMPLE_BYTES
    with pytest.raises(DataError, match=r"binary data \(a NUL byte on line 3002\)"):
        read_csv(csv, chunk_bytes=16_000)
    with pytest.raises(DataError, match="binary data"):
        read_csv(csv)  # one piece: refused as well


def test_an_over_long_line_is_refused_with_bounded_pieces(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(pieces, "MAX_LINE_BYTES", 50_000)
    csv = big_pool(tmp_path / "pool.csv", n=2000)
    with csv.open("ab") as handle:
        handle.write(b"r9," + b"1" * 400_000 + b",2,a\n")  # one endless number
    handed: list[int] = []
    real = pd.read_csv

    def spy(source, **options):
        handed.append(len(source.getbuffer()))
        return real(source, **options)

    monkeypatch.setattr(csv_reader.pd, "read_csv", spy)
    with pytest.raises(DataError, match="line 2002 is longer than 50000 bytes"):
        read_csv(csv, chunk_bytes=10_000)
    assert handed and max(handed) <= 10_000 + 50_000  # the parser never got the whole line


def test_an_unclosed_quote_in_a_big_file_is_refused(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(pieces, "MAX_LINE_BYTES", 30_000)
    lines = ["name,x1,x2,label", *[f"r{i},{x},a" for i, x in enumerate(features(3000))]]
    lines[100] = 'r99,"1.5,2,a'
    csv = write(tmp_path / "pool.csv", lines)
    with pytest.raises(DataError, match="a quoted value near line 101 is never closed"):
        read_csv(csv, chunk_bytes=5_000)


def test_quoted_values_across_pieces_and_errors_in_late_pieces(tmp_path: Path) -> None:
    lines = ["name,note,x"]
    lines += [f'r{i},"line {i}\nstill {i}, quoted",{i}' for i in range(2000)]
    csv = write(tmp_path / "pool.csv", lines)
    whole, pieced = read_csv(csv), read_csv(csv, chunk_bytes=3_000)
    pd.testing.assert_frame_equal(whole, pieced)
    assert pieced["note"][1999] == "line 1999\nstill 1999, quoted"
    write(csv, [*lines[:1500], "r1500,a,1,surprise", *lines[1500:]])
    messages = []
    for chunk_bytes in (None, 3_000):  # the same line, counted as the parser counts lines
        with pytest.raises(DataError, match="line 1501 has 4 values but the header has 3") as info:
            read_csv(csv, chunk_bytes=chunk_bytes)
        messages.append(str(info.value))
    assert messages[0] == messages[1]


# ---------------------------------------------------------------- a huge cell in the report


def test_a_huge_cell_is_cut_to_a_preview_in_the_report(tmp_path: Path) -> None:
    rows = [f"r{i},{x},{i},{'ab'[i % 2]}" for i, x in enumerate(features(60))]
    rows[5] = rows[5].replace(",5,", "," + "9" * 100_000 + "x,")
    csv = write(tmp_path / "pool.csv", ["name,x1,x2,count,label", *rows])
    dataset = load_dataset(csv, label_column="label")
    text = dataset.report.describe()
    assert max(len(line) for line in text.splitlines()) < 300
    assert "99999..." in text


# ------------------------------------------------------ dami select: one class, or no label


def pool(tmp_path: Path, labels: list[str]) -> Path:
    rng = np.random.default_rng(2)
    centres = np.array([[0, 0], [8, 0], [0, 8], [8, 8]])
    X = centres[np.arange(80) % 4] + rng.normal(size=(80, 2))
    rows = [
        f"{i:03d},{a:.4f},{b:.4f},{labels[i] if i < len(labels) else ''}"
        for i, (a, b) in enumerate(X)
    ]
    return write(tmp_path / "pool.csv", ["id,x1,x2,label", *rows])


def select(tmp_path: Path, csv: Path, capsys, *options: str) -> tuple[int, str, pd.DataFrame]:
    out = tmp_path / "q.csv"
    argv = ["select", str(csv), "--label-column", "label", "--id-column", "id", "--out", str(out)]
    code = cli.main([*argv, *options])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    table = pd.read_csv(out, dtype={"id": str}) if code == 0 else pd.DataFrame()
    lines = err.strip().splitlines()
    said = [line for line in lines if line.startswith(("dami: error", "No row", "Only the"))]
    assert len(said) == 1, err
    return code, said[0], table


def test_select_refuses_a_single_class(tmp_path: Path, capsys) -> None:
    code, line, _ = select(tmp_path, pool(tmp_path, ["a"] * 10), capsys)
    assert code == 2
    assert line.startswith("dami: error: ") and "only the class 'a'" in line and "--classes" in line


def test_select_without_labels_makes_a_cold_start_batch(tmp_path: Path, capsys) -> None:
    csv = pool(tmp_path, [])
    code, line, table = select(tmp_path, csv, capsys, "--batch", "4", "--seed", "3")
    assert code == 0 and "No row is labeled yet" in line and "cover the pool" in line
    rows = table["row"].to_numpy() - 1
    assert sorted(rows % 4) == [0, 1, 2, 3]  # one typical row of each of the four groups
    assert table["id"].tolist() == [f"{r:03d}" for r in rows]
    again = select(tmp_path, csv, capsys, "--batch", "4", "--seed", "3")[2]
    pd.testing.assert_frame_equal(table, again)  # the same rows for the same seed


def test_select_with_named_classes_and_one_labeled_covers_the_rest(tmp_path: Path, capsys) -> None:
    labels = ["a" if i % 4 == 0 else "" for i in range(40)]  # only the first group is labeled
    code, line, table = select(
        tmp_path, pool(tmp_path, labels), capsys, "--classes", "a,b", "--batch", "3"
    )
    assert code == 0 and "Only the class 'a' is labeled so far" in line
    assert sorted((table["row"].to_numpy() - 1) % 4) == [1, 2, 3]  # the groups left uncovered


# --------------------------------------------------------- ordinary files read as they were


def test_ordinary_files_read_exactly_as_before() -> None:
    """The first versions' rule (kept for old projects) and today's agree on the demo file."""
    now, before = read_csv(demo_path()), read_csv(demo_path(), rules=1)
    pd.testing.assert_frame_equal(now, before, check_exact=True)
    a = load_dataset(demo_path(), label_column="class", id_column="patch_id")
    b = build_dataset(before, infer_roles(before, label_column="class", id_column="patch_id"))
    assert np.array_equal(a.X, b.X) and np.array_equal(a.y, b.y)


def test_a_project_from_the_first_versions_reads_its_file_as_it_did(
    tmp_path: Path, monkeypatch
) -> None:
    rows = [f"{i:03d},{x},{'ab'[i % 2] if i < 12 else ''}" for i, x in enumerate(features(40))]
    csv = write(tmp_path / "pool.csv", ["id,x1,x2,label", *rows])
    # made as the first versions made it: ids read as numbers ("20", not "020"), record version 1
    monkeypatch.setattr(csv_reader, "read_csv", functools.partial(read_csv, rules=1))
    project = create_project_from_csv(
        tmp_path / "p.dami", csv, label_column="label", id_column="id", model_config=TINY
    )
    with project:
        assert project.dataset.ids[20] == "20"
        project.session.label(20, 1)
    monkeypatch.undo()
    conn = sqlite3.connect(tmp_path / "p.dami")
    record = json.loads(
        conn.execute("SELECT value FROM meta WHERE key='preprocessing'").fetchone()[0]
    )
    record["version"] = 1
    with conn:
        conn.execute("UPDATE meta SET value=? WHERE key='preprocessing'", (json.dumps(record),))
    conn.close()
    with open_project(tmp_path / "p.dami") as reopened:  # read with the first versions' rule
        assert reopened.dataset.ids[20] == "20"
        assert reopened.session.labels[20] == 1 and reopened.status.labels_lost == 0
