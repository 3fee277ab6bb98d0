"""The project file itself: bytes codecs, schema versions and migration, lock, damage, disk full."""

from __future__ import annotations

import errno
import hashlib
import os
import sqlite3
from pathlib import Path

import numpy as np
import pytest
import torch

from dami_gui.core.errors import DamiError
from dami_gui.core.project.arrays import decode_array, decode_state, encode_array, encode_state
from dami_gui.core.project.errors import (
    DiskFull,
    ProjectCorrupt,
    ProjectError,
    ProjectLocked,
    ProjectReadOnly,
    ProjectTooNew,
    translate_error,
)
from dami_gui.core.project.opening import open_project
from dami_gui.core.project.schema import APPLICATION_ID, SCHEMA_V1, SCHEMA_VERSION
from dami_gui.core.project.storage import Store, create_file

from .project_data import leftovers, make_v1, new_project


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ------------------------------------------------------------------------------------- bytes


@pytest.mark.parametrize(
    "array",
    [
        np.arange(12, dtype=np.int64).reshape(3, 4),
        np.array([1.5, np.nan, -np.inf], dtype=np.float64),
        np.random.default_rng(0).normal(size=(50, 2)).astype(np.float32),
        np.array([True, False]),
        np.empty((0, 3), dtype=np.float32),
        np.array([2**63 + 5], dtype=np.uint64),
    ],
)
def test_arrays_round_trip_with_dtype_and_shape(array: np.ndarray) -> None:
    for compress in (True, False):
        back = decode_array(encode_array(array, compress))
        assert back.dtype == array.dtype and back.shape == array.shape
        np.testing.assert_array_equal(back, array)
        assert back.flags.writeable


def test_object_arrays_are_not_stored_and_damaged_blobs_are_refused() -> None:
    with pytest.raises(TypeError):
        encode_array(np.array(["a", None], dtype=object))
    blob = encode_array(np.arange(100))
    for damaged in (b"", b"XXXX" + blob[4:], blob[:-7]):
        with pytest.raises(ProjectCorrupt, match="damaged"):
            decode_array(damaged)


def test_model_state_round_trips_as_tensors_only() -> None:
    state = {"w": torch.randn(3, 4), "b": torch.zeros(4)}
    back = decode_state(encode_state(state))
    assert back.keys() == state.keys()
    assert all(torch.equal(back[k], state[k]) for k in state)
    with pytest.raises(ProjectCorrupt):
        decode_state(b"not a torch file")
    import io

    buffer = io.BytesIO()
    torch.save({"w": 3}, buffer)  # loads with weights_only but is not a set of tensors
    with pytest.raises(ProjectCorrupt, match="tensors"):
        decode_state(buffer.getvalue())


# ------------------------------------------------------------------------------- versions


def test_a_version_1_file_is_upgraded_with_a_backup(tmp_path: Path) -> None:
    with new_project(tmp_path) as project:
        session = project.session
        session.run_round()
        session.label(int(session.queries[0]), 1)
        session.skip(int(session.queries[1]))
        labels = session.labels.copy()
    path = tmp_path / "p.dami"
    make_v1(path)
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == 1

    with open_project(path) as project:
        np.testing.assert_array_equal(project.session.labels, labels)
        assert project.class_colours == [None, None, None]
        project.set_class_colours(["#000000", "#111111", "#222222"])
        project.save_layout("pca", np.zeros((project.session.n_rows, 2)))
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()
    backup = tmp_path / "p.dami.v1.bak"
    assert backup.exists()
    old = sqlite3.connect(backup)
    assert old.execute("PRAGMA user_version").fetchone()[0] == 1
    assert old.execute("SELECT count(*) FROM events").fetchone()[0] == 2
    old.close()


def test_a_bare_version_1_schema_migrates_to_the_current_tables(tmp_path: Path) -> None:
    path = tmp_path / "bare.dami"
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA_V1)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute("PRAGMA user_version = 1")
    conn.close()
    store = Store(path)
    tables = {r[0] for r in store.query("SELECT name FROM sqlite_master WHERE type = 'table'")}
    columns = {r[1] for r in store.query("PRAGMA table_info(classes)")}
    store.close()
    assert "layouts" in tables and "colour" in columns


def test_a_file_from_a_newer_version_is_refused_and_left_untouched(tmp_path: Path) -> None:
    new_project(tmp_path).close()
    path = tmp_path / "p.dami"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    before = sha(path)
    with pytest.raises(ProjectTooNew, match=r"newer version.*update dami-gui.*not changed"):
        open_project(path)
    with pytest.raises(ProjectTooNew):
        open_project(path, readonly=True)
    assert sha(path) == before
    assert leftovers(tmp_path, {"p.dami", "pool.csv"}) == []


# --------------------------------------------------------------------------------- damage


def test_damaged_truncated_and_foreign_files_are_refused_plainly(tmp_path: Path) -> None:
    with new_project(tmp_path) as project:
        for row in range(20, 60):
            project.session.label(row, row % 3)
    good = (tmp_path / "p.dami").read_bytes()
    foreign = tmp_path / "other.dami"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE t (x)")
    conn.close()
    cases = {
        "empty.dami": b"",
        "text.dami": b"name,value\n1,2\n",
        "header.dami": good[:50],
        "half.dami": good[: len(good) // 2],
        "cut.dami": good[:-100],
        "scrambled.dami": good[:4096] + bytes(len(good) - 8192) + good[-4096:],
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
    for name in [*cases, "other.dami"]:
        with pytest.raises(ProjectError) as info:
            open_project(tmp_path / name)
        message = str(info.value)
        assert "\n" not in message
        assert any(w in message for w in ("damaged", "not a dami project", "empty")), message
        assert any(w in message for w in ("backup", "choose a .dami", "dami project new")), message
    assert not (tmp_path / "nothing.dami").exists()
    with pytest.raises(ProjectError, match="does not exist"):
        open_project(tmp_path / "nothing.dami")


def test_the_label_history_is_append_only(tmp_path: Path) -> None:
    with new_project(tmp_path) as project:
        project.session.label(30, 1)
        conn = project.store.conn
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("UPDATE events SET label = 2")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("DELETE FROM events")


# ----------------------------------------------------------------------------------- lock


def test_a_second_opener_is_refused_until_the_first_closes(tmp_path: Path) -> None:
    first = new_project(tmp_path)
    path = tmp_path / "p.dami"
    with pytest.raises(ProjectLocked, match=rf"open in another dami.*process {os.getpid()}"):
        open_project(path)
    with open_project(path, readonly=True) as reader:  # status and export still work
        assert reader.session.n_rows == first.session.n_rows
        with pytest.raises(ProjectReadOnly, match="read-only"):
            reader.session.label(40, 0)
        assert reader.session.labels[40] == -1
    first.session.label(41, 2)  # the reader did not disturb the writer
    first.close()
    assert not (tmp_path / "p.dami.lock").exists()
    with open_project(path) as second:
        assert second.session.labels[41] == 2


# ------------------------------------------------------------------------------ read-only


def test_a_read_only_folder_is_reported_and_can_still_be_read(tmp_path, monkeypatch) -> None:
    new_project(tmp_path).close()
    path = tmp_path / "p.dami"
    real_access = os.access

    def no_writing(p, mode, *args, **kwargs):
        if mode & os.W_OK and Path(p).resolve().is_relative_to(tmp_path.resolve()):
            return False
        return real_access(p, mode, *args, **kwargs)

    monkeypatch.setattr(os, "access", no_writing)
    with pytest.raises(ProjectReadOnly, match=r"read-only; copy it to a folder"):
        open_project(path)
    with open_project(path, readonly=True) as project:
        assert project.session.n_labeled == 15
    with pytest.raises(ProjectReadOnly, match=r"folder .* is read-only"):
        new_project(tmp_path, name="q.dami")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only folders anyway")
def test_a_really_read_only_folder(tmp_path: Path) -> None:
    new_project(tmp_path).close()
    tmp_path.chmod(0o555)
    try:
        with pytest.raises(ProjectReadOnly):
            open_project(tmp_path / "p.dami")
        with open_project(tmp_path / "p.dami", readonly=True) as project:
            assert project.session.n_labeled == 15
    finally:
        tmp_path.chmod(0o755)


# ------------------------------------------------------------------------------ disk full


def test_a_full_disk_while_creating_leaves_no_file(tmp_path: Path) -> None:
    def fill(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO meta VALUES ('x', '1')")
        raise sqlite3.OperationalError("database or disk is full")

    with pytest.raises(DiskFull, match=r"full.*free some space"):
        create_file(tmp_path / "new.dami", fill)
    assert leftovers(tmp_path, set()) == []


def test_creating_over_an_existing_file_is_refused_and_keeps_it(tmp_path: Path) -> None:
    path = tmp_path / "p.dami"
    path.write_bytes(b"precious")
    with pytest.raises(ProjectError, match="already exists"):
        create_file(path, lambda conn: None)
    assert path.read_bytes() == b"precious"
    with pytest.raises(ProjectError, match="does not exist"):
        create_file(tmp_path / "no" / "p.dami", lambda conn: None)


@pytest.mark.parametrize(
    ("error", "kind", "words"),
    [
        (sqlite3.OperationalError("database or disk is full"), DiskFull, "free some space"),
        (OSError(errno.ENOSPC, "No space left on device"), DiskFull, "free some space"),
        (sqlite3.OperationalError("attempt to write a readonly database"), ProjectReadOnly, "copy"),
        (OSError(errno.EROFS, "Read-only file system"), ProjectReadOnly, "copy"),
        (sqlite3.OperationalError("database is locked"), ProjectLocked, "close the other"),
        (sqlite3.DatabaseError("database disk image is malformed"), ProjectCorrupt, "backup"),
        (sqlite3.DatabaseError("file is not a database"), ProjectCorrupt, "backup"),
        (sqlite3.OperationalError("disk I/O error"), ProjectError, "check the disk"),
    ],
)
def test_errors_become_one_sentence_with_a_way_out(error, kind, words) -> None:
    translated = translate_error(error, Path("/x/p.dami"), "the label")
    assert type(translated) is kind and isinstance(translated, DamiError)
    message = str(translated)
    assert "p.dami" in message and words in message and "\n" not in message
