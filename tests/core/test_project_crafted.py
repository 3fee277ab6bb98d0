"""Crafted project files: nothing a file says is trusted, and nothing blocks the labels.

Damaged weights and arrays (the last round is computed again from the labels, an older one keeps
its figures), a zlib bomb, label codes out of range, an absurd network, absurd settings, and
stored CSV paths: relative to the project's folder, never the current one, and a file that is not
the recorded one is not read before the user chooses it. Every command works or refuses with one
line; the labels in the history are never lost.
"""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
import struct
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch

from dami_gui.cli import main as cli
from dami_gui.core.errors import DataError
from dami_gui.core.model import MLPConfig
from dami_gui.core.project.arrays import decode_array, decode_state, encode_array
from dami_gui.core.project.errors import ProjectCorrupt
from dami_gui.core.project.opening import open_project
from dami_gui.core.project.source import SourceChanged, SourceMissing

from .project_data import new_project, write_pool


def run(capsys, *argv: object) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err, err
    return code, out, err


def sql(path: Path, statement: str, *params: object) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        with conn:
            return conn.execute(statement, params).fetchall()
    finally:
        conn.close()


def labels(path: Path) -> np.ndarray:
    with open_project(path, readonly=True) as project:
        return project.session.labels.copy()


@pytest.fixture
def played(tmp_path: Path) -> Path:
    """A closed project with two rounds and four labels given (tiny network)."""
    folder = tmp_path / "p"
    folder.mkdir()
    with new_project(folder) as project:
        session = project.session
        session.run_round()
        for row in session.queries[:3]:
            session.label(int(row), int(row) % 3)
        session.run_round()
        session.label(int(session.queries[0]), 0)
    return folder / "p.dami"


# ------------------------------------------------------------------ damaged model and arrays


def check_commands_work(path: Path, expected: np.ndarray, capsys, note: str) -> None:
    """status, export and explain work read-only, and say what was damaged; labels intact."""
    code, _, err = run(capsys, "project", "status", path)
    assert code == 0 and note in err, err
    code, _, err = run(capsys, "project", "export", path, "-o", path.with_name("out.csv"))
    assert code == 0 and note in err, err
    rows = path.with_name("out.csv").read_text().splitlines()
    assert len(rows) == 1 + int((expected >= 0).sum())
    assert run(capsys, "explain", path, "r3")[0] == 0
    np.testing.assert_array_equal(labels(path), expected)


@pytest.mark.parametrize("part", ["weights", "spec", "scores", "partition"])
def test_the_last_rounds_damaged_results_are_computed_again(played: Path, part: str, capsys):
    expected = labels(played)
    if part == "weights":
        sql(played, "UPDATE rounds SET model_state = ? WHERE idx = 2", b"PK\x03\x04 not a model")
    elif part == "spec":  # what made `dami explain` try to allocate 160 GB
        spec = {"n_features": 3, "n_classes": 3, "hidden": [200_000, 200_000]}
        sql(played, "UPDATE rounds SET model_spec = ? WHERE idx = 2", json.dumps(spec))
    else:
        sql(played, "UPDATE round_arrays SET data = ? WHERE round = 2 AND name = ?",
            b"DAMA garbage", part)  # fmt: skip
    note = "of round 2 in p.dami was damaged, so the round was computed again from your labels"
    check_commands_work(played, expected, capsys, note)
    code, _, err = run(capsys, "project", "round", played)  # a writable open saves it again
    assert code == 0 and "and saved" in err and "Round 3 saved" in err, err
    code, out, err = run(capsys, "project", "status", played)
    assert code == 0 and "damaged" not in err and "Rounds    3;" in out
    np.testing.assert_array_equal(labels(played), expected)


def test_an_older_rounds_damage_keeps_its_figures(played: Path, capsys) -> None:
    expected = labels(played)
    sql(played, "UPDATE rounds SET model_state = X'00' WHERE idx = 1")
    sql(played, "UPDATE round_arrays SET data = X'00' WHERE round = 1 AND name = 'queries'")
    code, out, err = run(capsys, "project", "status", played)
    assert code == 0 and "Rounds    2;" in out
    assert "the model and queries of round 1 are damaged; the learning curve keeps" in err
    np.testing.assert_array_equal(labels(played), expected)


def test_rounds_whose_figures_make_no_sense_are_set_aside(played: Path, capsys) -> None:
    expected = labels(played)
    sql(played, "UPDATE rounds SET labeled_count = 'many' WHERE idx = 2")
    code, out, err = run(capsys, "project", "status", played)
    assert code == 0 and "Rounds    1;" in out and "Rounds 2 to 2 in p.dami are damaged" in err
    assert run(capsys, "project", "round", played)[0] == 0  # round 2 again, in its place
    assert sql(played, "SELECT idx, labeled_count FROM rounds") == [(1, 15), (2, 19)]
    np.testing.assert_array_equal(labels(played), expected)


def bomb(claimed_shape: tuple[int, ...], unpacked: int) -> bytes:
    """An array blob whose header claims ``claimed_shape`` float32 and that inflates hugely."""
    dtype = b"<f4"
    header = struct.pack(
        f"<4sB{len(dtype)}sB{len(claimed_shape)}qB",
        b"DAMA", len(dtype), dtype, len(claimed_shape), *claimed_shape, 1,
    )  # fmt: skip
    return header + zlib.compress(bytes(unpacked), 9)


def test_a_zlib_bomb_costs_nothing_before_it_is_refused(played: Path, capsys) -> None:
    blob = bomb((90, 3), 64 << 20)  # 64 KB that inflate to 64 MB
    tracemalloc.start()
    try:
        with pytest.raises(ProjectCorrupt, match="damaged"):
            decode_array(blob, 90 * 3 * 4)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20  # not the 64 MB it claims to hold
    with pytest.raises(ProjectCorrupt, match="claims"):  # a header that claims too much
        decode_array(encode_array(np.zeros(10)), max_bytes=8)
    sql(played, "UPDATE round_arrays SET data = ? WHERE round = 2 AND name = 'proba'", blob)
    assert run(capsys, "project", "status", played)[0] == 0


def test_weights_are_checked_before_and_after_loading() -> None:
    buffer = io.BytesIO()
    torch.save({"linears.0.weight": torch.zeros(3, 3)}, buffer)
    with pytest.raises(ProjectCorrupt, match="recomputed from your labels"):
        decode_state(buffer.getvalue(), max_bytes=100)
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("archive/data.pkl", bytes(10_000_000))
    with pytest.raises(ProjectCorrupt):  # compressed entries: not what torch.save writes
        decode_state(packed.getvalue())


# ------------------------------------------------------------------------- label events


def insert_event(path: Path, row: int, kind: str, label: object) -> None:
    """An event written behind dami's back (the history takes inserts, not updates)."""
    sql(path, "INSERT INTO events (row, row_key, source_version, kind, label, previous_label, "
        "previous_skipped, round, time) VALUES (?, ?, 1, ?, ?, -1, 0, 2, 0)",
        row, f"r{row}", kind, label)  # fmt: skip


def test_a_label_code_out_of_range_is_set_aside_and_labeling_goes_on(played: Path, capsys):
    expected = labels(played)
    insert_event(played, 60, "label", 7)  # there are 3 classes
    insert_event(played, 61, "label", "seven")
    note = "2 label events in p.dami are damaged and were left out; every other label is here."
    check_commands_work(played, expected, capsys, note)
    code, _, err = run(capsys, "project", "label", played, "r62", "b")
    assert code == 0 and note in err
    assert run(capsys, "project", "undo", played)[0] == 0  # undoes r62, not a damaged event
    code, _, _ = run(capsys, "project", "label", played, "r63", "c")
    after = labels(played)
    assert after[62] == -1 and after[63] == 2 and after[60] == -1
    assert (after[expected >= 0] == expected[expected >= 0]).all()


def test_absurd_settings_fall_back_to_the_defaults(played: Path) -> None:
    settings = json.loads(sql(played, "SELECT value FROM meta WHERE key = 'settings'")[0][0])
    settings["model_config"]["hidden"] = [10**7]
    settings["batch_size"] = "lots"
    sql(played, "UPDATE meta SET value = ? WHERE key = 'settings'", json.dumps(settings))
    with open_project(played, readonly=True) as project:
        assert project.session.model_config == MLPConfig()
        assert project.session.batch_size == 20


@pytest.mark.parametrize(
    ("statement", "words"),
    [
        ("UPDATE classes SET code = 5 WHERE code = 2", "damaged"),
        ("UPDATE columns SET role = 'boss' WHERE position = 0", "damaged"),
        ("UPDATE sources SET key_digests = X'00'", "damaged"),
        ("DELETE FROM sources", "damaged"),
    ],
)
def test_damaged_essentials_refuse_with_one_line(played, capsys, statement, words) -> None:
    sql(played, statement)
    if "key_digests" in statement:
        write_pool(played.with_name("pool.csv"), n=91)  # a changed file is compared by digest
    for argv in (["status", played], ["label", played, "r50", "a"]):
        code, _, err = run(capsys, "project", *argv)
        lines = [line for line in err.splitlines() if line.startswith("dami: error")]
        assert code == 2 and len(lines) == 1 and words in lines[0], err


# ------------------------------------------------------------------------ stored CSV paths


def test_the_csv_path_is_stored_relative_to_the_project(played: Path, tmp_path, monkeypatch):
    assert sql(played, "SELECT path FROM sources") == [("pool.csv",)]
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    write_pool(elsewhere / "pool.csv", seed=7)  # another pool.csv in the current folder
    monkeypatch.chdir(elsewhere)
    expected = labels(played)
    moved = shutil.copytree(played.parent, tmp_path / "moved")  # project and CSV move together
    with open_project(moved / "p.dami") as project:
        assert project.dataset.source == moved / "pool.csv" and not project.status.changed
        np.testing.assert_array_equal(project.session.labels, expected)
    # an older file's absolute path is still used as it is
    sql(played, "UPDATE sources SET path = ?", str(played.with_name("pool.csv")))
    np.testing.assert_array_equal(labels(played), expected)


@pytest.mark.parametrize("stored", ["../outside/secret.csv", "../../../../../../etc/passwd"])
def test_a_path_out_of_the_folder_is_not_read_before_the_user_chooses_it(
    played: Path, tmp_path: Path, stored: str, capsys
) -> None:
    secret = tmp_path / "outside" / "secret.csv"
    secret.parent.mkdir()
    secret.write_text("SECRET-CONTENT,TOKEN\nhunter2,42\n")
    sql(played, "UPDATE sources SET path = ?", stored)
    code, _, err = run(capsys, "project", "status", played)
    assert code == 2 and "relocate" in err
    assert "SECRET" not in err and "hunter2" not in err and "root:" not in err
    with pytest.raises((SourceChanged, SourceMissing)) as refused:
        open_project(played, readonly=True)
    if isinstance(refused.value, SourceChanged):  # there is such a file: it was not read
        assert not refused.value.status.compared and "not compared" in str(refused.value)
    if stored.startswith("../outside"):  # chosen by the user, it is read and compared
        with pytest.raises(DataError):
            open_project(played, source=secret, readonly=True)


def test_a_changed_file_inside_the_folder_is_compared_but_never_quoted(played: Path, capsys):
    played.with_name("pool.csv").write_text("=cmd|' /C calc'!A0,SECRET-CELL\n1,2\n")
    code, _, err = run(capsys, "project", "status", played)
    assert code == 2 and "SECRET-CELL" not in err and "calc" not in err
    assert "not the file this project was saved with" in err


# ------------------------------------------------------------------- the stored preprocessing


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda t: t.update(std=0.0), "its scale is not above 0"),
        (lambda t: t.update(mean="0.5"), "'0.5' is not a finite number"),
        (lambda t: t.update(fill=True), "True is not a finite number"),
        (lambda t: t.update(missing_indicator="yes"), "its gap flag is not true or false"),
        (lambda t: t.update(kind="magic"), "has no known kind"),
    ],
)
def test_a_damaged_preprocessing_is_refused_in_one_line(played: Path, capsys, change, words):
    """The same checks as an exported model's (Preprocessing.from_dict): every field typed,
    every number finite; the labels stay in the file."""
    stored = json.loads(sql(played, "SELECT value FROM meta WHERE key = 'preprocessing'")[0][0])
    change(stored["transforms"][0])
    sql(played, "UPDATE meta SET value = ? WHERE key = 'preprocessing'", json.dumps(stored))
    code, _, err = run(capsys, "project", "status", played)
    lines = [line for line in err.splitlines() if line.startswith("dami: error")]
    assert code == 2 and len(lines) == 1 and words in lines[0], err
    assert "The feature preparation stored in p.dami is damaged" in lines[0]
    assert len(sql(played, "SELECT * FROM events")) == 4
