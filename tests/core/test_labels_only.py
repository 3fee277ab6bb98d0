"""A project opened for its labels only (``open_project(..., with_table=False)``; `dami project
label|undo|status`): while its CSV file is the recorded one, the file is not read, and the session,
and every label event written, are the ones the full open gives (issue 24).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from dami_gui.cli import main as cli
from dami_gui.core.data import reader
from dami_gui.core.data.dataset import load_dataset
from dami_gui.core.errors import DataError
from dami_gui.core.project.arrays import encode_array
from dami_gui.core.project.creating import create_project
from dami_gui.core.project.opening import open_project
from dami_gui.core.session import Session

from .project_data import TINY, make_v2, new_project, pool_frame

#: Commands given the same way to two copies of a project (ROW is the row's id, or its number
#: without an id column): new labels, a row the file labels already, a skip, a correction, undos.
COMMANDS = [
    ["label", "{p}", "40", "a"],
    ["label", "{p}", "3", "c"],  # labeled in the file: the event keeps the file's label as before
    ["label", "{p}", "41", "--skip"],
    ["label", "{p}", "40", "b"],
    ["undo", "{p}"],
    ["label", "{p}", "42.0", "B"],  # a number as a float, a class in another case
    ["undo", "{p}"],
    ["undo", "{p}"],
]


@pytest.fixture(params=["id", "content"])
def played(request, tmp_path: Path) -> Path:
    """A project (by id, or without an id column) after a round, labels, a skip and an undo."""
    folder = tmp_path / "played"
    folder.mkdir()
    with new_project(folder, with_id=request.param == "id") as project:
        session = project.session
        session.run_round()
        q = [int(r) for r in session.queries]
        session.label(q[0], 1)
        session.skip(q[1])
        session.label(2, 0)  # a row labeled in the file, relabeled
        session.undo()
    return folder / "p.dami"


@pytest.fixture
def no_reading(monkeypatch) -> None:
    """Reading any CSV file fails the test: the labels-only open must not need it."""

    def refuse(*args, **kwargs):
        raise AssertionError("the CSV file was read")

    monkeypatch.setattr(reader, "read_csv", refuse)


def row_id(path: Path, number: str) -> str:
    """The row ``number`` as the project names it: "r40" with an id column, "40" without one
    (where "40.0" names it too)."""
    conn = sqlite3.connect(path)
    (kind,) = conn.execute("SELECT key_kind FROM sources").fetchone()
    conn.close()
    return f"r{int(float(number))}" if kind == "id" else number


def kept_rows(path: Path) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(
            "SELECT version, key_kind, row_keys, file_labels FROM sources ORDER BY version"
        ).fetchall()
    finally:
        conn.close()


def count_reads(monkeypatch) -> list[str]:
    """The names of the CSV files read from now on."""
    reads: list[str] = []
    read_csv = reader.read_csv

    def counted(path, *args, **kwargs):
        reads.append(Path(path).name)
        return read_csv(path, *args, **kwargs)

    monkeypatch.setattr(reader, "read_csv", counted)
    return reads


def events_without_time(path: Path) -> list[tuple]:
    """Every stored column of every label event but its time (the clock's)."""
    conn = sqlite3.connect(path)
    try:
        names = [r[1] for r in conn.execute("PRAGMA table_info(events)")]
        rows = conn.execute("SELECT * FROM events ORDER BY seq").fetchall()
    finally:
        conn.close()
    assert "time" in names and len(names) == 11
    return [tuple(v for n, v in zip(names, row, strict=True) if n != "time") for row in rows]


def forget_kept_rows(path: Path) -> None:
    """What a project saved before format 3 holds: no rows kept with its CSV file's versions."""
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE sources SET row_keys = NULL, file_labels = NULL")
    conn.close()


def test_the_session_is_the_one_the_full_open_gives(played: Path, no_reading, monkeypatch) -> None:
    with open_project(played, readonly=True, with_models=False, with_table=False) as quick:
        monkeypatch.undo()  # the full open reads the file
        with open_project(played, readonly=True, with_models=False) as full:
            a, b = quick.session, full.session
            assert not quick.dataset.has_table and full.dataset.has_table
            for name in ("labels", "skipped", "queries"):
                np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
            assert a.events == b.events and quick.event_seqs == full.event_seqs
            assert [r.index for r in a.rounds] == [r.index for r in b.rounds]
            np.testing.assert_array_equal(a.rounds[0].proba, b.rounds[0].proba)
            assert a.strategy == b.strategy and a.batch_size == b.batch_size
            assert a.model_config == b.model_config
            np.testing.assert_array_equal(quick.dataset.y, full.dataset.y)
            np.testing.assert_array_equal(quick.dataset.ids, full.dataset.ids)
            assert quick.dataset.ids.dtype == full.dataset.ids.dtype
            assert quick.dataset.classes == full.dataset.classes
            assert quick.dataset.source == full.dataset.source
            assert quick.dataset.n_features == full.dataset.n_features
            assert quick.keys.kind == full.keys.kind
            for name in ("keys", "key_digests", "content_digests"):
                np.testing.assert_array_equal(getattr(quick.keys, name), getattr(full.keys, name))
            assert quick.status.describe() == full.status.describe()
            assert quick.notes == full.notes == []
            assert quick.row_of_id(row_id(played, "7")) == full.row_of_id(row_id(played, "7"))


def test_hidden_file_labels_and_ground_truth_come_back(tmp_path: Path, monkeypatch) -> None:
    pool_frame(labeled=90).to_csv(tmp_path / "pool.csv", index=False)
    dataset = load_dataset(tmp_path / "pool.csv", label_column="species", id_column="name")
    truth = dataset.y.copy()
    dataset.y = np.full_like(truth, -1)  # the demo: the label column is the ground truth
    session = Session(dataset, truth=truth, model_config=TINY, estimate_accuracy=False)
    create_project(tmp_path / "d.dami", session).close()
    monkeypatch.setattr(reader, "read_csv", None)  # not called
    with open_project(tmp_path / "d.dami", with_table=False) as project:
        assert project.session.n_labeled == 0 and not project.dataset.has_table
        np.testing.assert_array_equal(project.session.truth, truth)


def test_commands_write_the_same_event_rows_as_when_the_file_is_read(
    played: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    """The same commands on two copies: one labels without reading its CSV file, the other, whose
    rows are not kept (as a project saved before format 3), reads it for every command."""
    quick, full = tmp_path / "quick", tmp_path / "full"
    shutil.copytree(played.parent, quick)
    shutil.copytree(played.parent, full)
    reads = count_reads(monkeypatch)
    for argv in COMMANDS:
        outputs = []
        for folder in (quick, full):
            if folder == full:
                forget_kept_rows(folder / "p.dami")
            reads.clear()
            args = [a.format(p=folder / "p.dami") for a in argv]
            if argv[0] == "label":
                args[2] = row_id(folder / "p.dami", args[2])
            code = cli.main(["project", *args])
            _, err = capsys.readouterr()
            assert code == 0, err
            assert reads == ([] if folder == quick else ["pool.csv"])
            outputs.append(err.replace(str(folder), "P").rsplit("Done in", 1)[0])
        assert outputs[0] == outputs[1]
    assert events_without_time(quick / "p.dami") == events_without_time(full / "p.dami")
    assert len(events_without_time(quick / "p.dami")) == 4 + len(COMMANDS)
    # the full open kept the rows as the project had kept them when it was made
    assert kept_rows(full / "p.dami") == kept_rows(quick / "p.dami") == kept_rows(played)


def test_a_project_from_format_2_keeps_its_rows_at_the_first_label(
    played: Path, capsys, monkeypatch
) -> None:
    kept = kept_rows(played)
    make_v2(played)
    reads = count_reads(monkeypatch)
    assert cli.main(["project", "label", str(played), row_id(played, "50"), "a"]) == 0
    assert reads == ["pool.csv"] and played.with_name("p.dami.v2.bak").exists()
    assert kept_rows(played) == kept  # as the project keeps them since it was made
    assert cli.main(["project", "label", str(played), row_id(played, "51"), "b"]) == 0
    assert reads == ["pool.csv"]  # the second label did not read the file
    capsys.readouterr()


def listed(keys: list[str], text: bytes | None = None) -> bytes:
    """Row keys stored as a project keeps them: a JSON list's bytes, as a compressed array."""
    data = json.dumps(keys).encode("ascii") if text is None else text
    return encode_array(np.frombuffer(data, np.uint8))


#: Kept rows that make no sense: (column, its value from the keys and the number of rows).
DAMAGES = {
    "text": ("row_keys", lambda keys, n: json.dumps(keys)),
    "json": ("row_keys", lambda keys, n: listed(keys, b"[not json")),
    "nested": ("row_keys", lambda keys, n: listed(keys, b"[" * 100_000)),
    "count": ("row_keys", lambda keys, n: listed(keys[:-1])),
    "repeated": ("row_keys", lambda keys, n: listed([keys[0], *keys[:-1]])),
    "long": ("row_keys", lambda keys, n: listed([keys[0] + "y" * 1000, *keys[1:]])),
    "numbers": ("row_keys", lambda keys, n: encode_array(np.zeros(n, np.int64))),
    "range": ("file_labels", lambda keys, n: encode_array(np.full(n, 3))),  # 3 classes: -1..2
    "length": ("file_labels", lambda keys, n: encode_array(np.zeros(n - 1, np.int64))),
    "cut": ("file_labels", lambda keys, n: encode_array(np.full(n, -1))[:20]),
    "kind": ("key_kind", lambda keys, n: "other"),
}


@pytest.mark.parametrize("damage", DAMAGES.values(), ids=DAMAGES.keys())
def test_kept_rows_that_make_no_sense_are_not_used_and_are_kept_again(played: Path, damage):
    with open_project(played, readonly=True, with_models=False) as intact:
        labels, events = intact.session.labels.copy(), intact.session.events
        keys = intact.keys.keys.tolist()
    column, value = damage
    conn = sqlite3.connect(played)
    with conn:
        conn.execute(f"UPDATE sources SET {column} = ?", (value(keys, len(keys)),))
    conn.close()
    with open_project(played, with_models=False, with_table=False) as project:
        assert project.dataset.has_table  # the file was read instead
        np.testing.assert_array_equal(project.session.labels, labels)
        assert project.session.events == events
    with open_project(played, readonly=True, with_models=False, with_table=False) as project:
        assert not project.dataset.has_table  # the rows were kept again by the open above
        np.testing.assert_array_equal(project.session.labels, labels)


def test_a_changed_file_is_read_and_its_rows_kept_for_the_next_label(
    played: Path, monkeypatch
) -> None:
    pool = played.with_name("pool.csv")
    pool.write_bytes(pool.read_bytes().replace(b"\n", b"\r\n"))  # other bytes, the same rows
    with open_project(played, with_models=False, with_table=False) as project:
        assert project.dataset.has_table and project.status.changed and project.status.same_rows
        assert project.source_version == 2
    assert [r[0] for r in kept_rows(played)] == [1, 2] and kept_rows(played)[1][2] is not None
    monkeypatch.setattr(reader, "read_csv", None)  # not called again
    with open_project(played, with_models=False, with_table=False) as project:
        assert not project.dataset.has_table and project.source_version == 2


def test_a_dataset_without_its_table_refuses_what_needs_the_rows(played: Path) -> None:
    with open_project(played, readonly=True, with_table=False) as project:
        dataset = project.dataset
        for need in (lambda: dataset.X, lambda: dataset.frame, project.session.compute_round):
            with pytest.raises(DataError, match=r"rows of pool.csv were not read.*labels only"):
                need()
        assert dataset.n_rows == 90 and dataset.n_features == 3


def test_a_group_labeled_in_the_app_is_undone_together_from_the_shell(
    played: Path, no_reading, capsys
) -> None:
    """Issue 25's groups (rows labeled at once) meet issue 24's labels-only open: `dami project
    undo` takes the whole group back, without reading the CSV file."""
    with open_project(played, with_models=False, with_table=False) as project:
        session = project.session
        before = session.labels.copy()
        open_rows = np.flatnonzero((session.labels < 0) & ~session.skipped)[:3]
        session.label_rows(open_rows, 2)
    assert cli.main(["project", "undo", str(played)]) == 0
    with open_project(played, readonly=True, with_models=False, with_table=False) as project:
        assert not project.dataset.has_table
        np.testing.assert_array_equal(project.session.labels, before)
    capsys.readouterr()
