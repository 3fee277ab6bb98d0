"""Project files in the app: save as, reopen through the worker, recent list, exports, a CSV that
moved or changed, damaged / locked / newer / read-only files, a failing label write, a crashed
round, and class colours and the map kept in the project.

Everything runs the real window headless on a copy of the demo (so the tests may move and edit
its CSV file) with the small network of ``conftest.py``; ``QSettings`` go to a temporary folder.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading

import numpy as np
import pandas as pd
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QPushButton

from dami_gui.app.controllers import map as map_layout
from dami_gui.app.controllers import project_files, projects
from dami_gui.app.dialogs.source_changed import SourceDialog
from dami_gui.app.panels.query_table import COL_LABEL
from dami_gui.core.data import demo
from dami_gui.core.data.dataset import load_dataset
from dami_gui.core.embedding import pca_layout
from dami_gui.core.project.errors import DiskFull
from dami_gui.core.project.opening import open_project
from dami_gui.core.session import Session

from .conftest import BATCH, answer_until_a_model, open_demo, wait_for_workers
from .test_main_window import key_for

TIMEOUT = 120_000


@pytest.fixture(autouse=True)
def settings_kept_apart(settings_in_tmp):
    """Keep the recent list and folders of these tests out of the user's settings."""
    yield


@pytest.fixture
def demo_csv(tmp_path, monkeypatch):
    """The demo, read from a copy in tmp_path (so a test may move or edit it)."""
    folder = tmp_path / "data"
    folder.mkdir()
    path = folder / "segment.csv"
    shutil.copy(demo.demo_path(), path)
    monkeypatch.setattr(demo, "demo_path", lambda: path)
    return path


def save_as(qtbot, window, path):
    with qtbot.waitSignal(window.projects.opened, timeout=TIMEOUT):
        window.projects.save_as(path)
    return window.projects.project


def reopen(qtbot, window, path):
    """File → Open project (through the worker); waits until it is shown."""
    with qtbot.waitSignal(window.projects.opened, timeout=TIMEOUT):
        window.projects.open(path)
    wait_for_rounds(qtbot, window)
    return window.projects.project


def wait_for_rounds(qtbot, window):
    qtbot.waitUntil(lambda: not window.rounds.running, timeout=TIMEOUT)


def label_with_keys(qtbot, window, n):
    """Answer the next ``n`` open queries with their true class, by key press."""
    s = window.session
    table = window.labels.table
    table.setFocus()
    answered = []
    for _ in range(n):
        row = table.current_row()
        qtbot.keyClick(table, key_for(int(s.truth[row])))
        assert s.labels[row] == s.truth[row]
        answered.append(row)
    return answered


def failure_box(qtbot, window, failing, failed=None):
    """Run ``failing()``, which must end in an error dialog; returns the dialog's text.

    ``failed`` is the signal that reports it (default: the project controller's)."""
    with qtbot.waitSignal(failed or window.projects.failed, timeout=TIMEOUT) as blocker:
        failing()
    box = window.status.error_box
    assert box is not None and box.isVisible()
    assert box.text() == blocker.args[0]
    assert "Traceback" not in box.text() and "Error:" not in box.text()
    box.close()
    return blocker.args[0]


@pytest.fixture
def saved_demo(qtbot, make_window, demo_csv, tmp_path):
    """A window on the demo (round 1 done: a cold start, no model), saved as
    tmp_path/segment.dami."""
    w = make_window()
    w.settings.auto.setChecked(False)
    open_demo(qtbot, w)
    save_as(qtbot, w, tmp_path / "segment.dami")
    return w


# ------------------------------------------------------------------------- save and reopen


def test_save_demo_as_project_label_close_and_reopen(qtbot, make_window, demo_csv, tmp_path):
    w = make_window()
    open_demo(qtbot, w)
    ctl = w.projects
    menu = w.project_menu
    assert ctl.project is None
    assert menu.banner.isVisible() and "Not saved in a project yet" in menu.banner_label.text()
    assert menu.save_as_action.isVisible() and menu.save_as_action.isEnabled()
    first = label_with_keys(qtbot, w, 2)  # labels given before saving come along

    project = save_as(qtbot, w, tmp_path / "segment")  # the suffix is added
    assert project.path == tmp_path / "segment.dami" and project.path.is_file()
    assert w.session is project.session and w.session.journal is project
    assert w.windowTitle() == "segment — dami-gui"
    assert not menu.banner.isVisible()
    assert not menu.save_as_action.isVisible()
    assert "Every label is saved as you give it." in w.status.text()
    assert menu.saved_label.isVisible() and "segment.dami" in menu.saved_label.text()
    assert project_files.recent_projects() == [str(project.path)]

    # label the rest of round 1 by keys; round 2 starts by itself and is journaled
    s = w.session
    with qtbot.waitSignal(w.rounds.committed, timeout=TIMEOUT):
        more = label_with_keys(qtbot, w, BATCH - 2)
    qtbot.keyClick(w.labels.table, Qt.Key.Key_Space)  # a "not sure" in round 2
    skipped = int(np.flatnonzero(s.skipped)[0])
    labels, queries = s.labels.copy(), s.queries.copy()
    assert len(s.rounds) == 2
    w.close()  # closes the project: the lock is released
    assert not (tmp_path / "segment.dami.lock").exists()

    w2 = make_window()
    reopened = reopen(qtbot, w2, tmp_path / "segment.dami")
    s2 = w2.session
    assert reopened.session is s2 and s2.journal is reopened
    np.testing.assert_array_equal(s2.labels, labels)
    assert s2.skipped[skipped] and int(s2.skipped.sum()) == 1
    assert len(s2.rounds) == 2 and not w2.rounds.running  # nothing recomputed
    np.testing.assert_array_equal(s2.queries, queries)
    assert [int(s2.labels[r]) for r in first + more] == [int(s2.truth[r]) for r in first + more]
    assert s2.truth is not None  # the demo's hidden answers still drive the true curve
    assert w2.labels.model.rowCount() == queries.size
    assert w2.windowTitle() == "segment — dami-gui"
    assert "Opened segment.dami" in w2.status.text() and "saved as you give it" in w2.status.text()
    assert len(w2.curve.points()[1]) == 1  # round 1 was a cold start: no model, no point
    # and the labeling goes on in the reopened project, by keys at once: no click first
    w2.activateWindow()
    qtbot.waitUntil(lambda: w2.labels.table.hasFocus(), timeout=5_000)
    row = w2.labels.table.current_row()
    qtbot.keyClick(w2.focusWidget(), key_for(int(s2.truth[row])))
    assert s2.labels[row] == s2.truth[row]
    w2.close()
    with open_project(tmp_path / "segment.dami", readonly=True) as check:
        assert check.session.labels[row] == s2.truth[row]


def test_opening_other_data_or_another_project_closes_the_current_one(
    qtbot, saved_demo, make_window, tmp_path
):
    w = saved_demo
    lock = tmp_path / "segment.dami.lock"
    assert lock.exists()
    # the same project again: nothing happens
    w.projects.open(tmp_path / "segment.dami")
    assert "already open" in w.status.text() and not w.opening.running
    # other data (the demo again, unsaved): the project is closed and the banner is back
    with qtbot.waitSignal(w.projects.closed, timeout=TIMEOUT):
        open_demo(qtbot, w)
    assert w.projects.project is None and not lock.exists()
    assert w.project_menu.banner.isVisible() and w.project_menu.save_as_action.isVisible()
    assert w.session.journal is None
    # back to the project through the worker: it takes the lock again
    reopen(qtbot, w, tmp_path / "segment.dami")
    assert lock.exists()


def test_cancel_while_opening_keeps_the_current_session(qtbot, saved_demo, tmp_path):
    w = saved_demo
    other = tmp_path / "other.dami"
    shutil.copy(tmp_path / "segment.dami", other)
    session = w.session
    w.projects.open(other)
    assert w.opening.running and w.status.cancel_button.isVisible()
    w.cancel_task()
    wait_for_workers(qtbot)
    assert w.session is session and w.projects.project.session is session
    assert not (tmp_path / "other.dami.lock").exists()  # whatever was opened was closed again


def test_new_project_from_csv_goes_through_the_import_dialog(
    qtbot, make_window, demo_csv, tmp_path, monkeypatch
):
    w = make_window()
    target = tmp_path / "pets.dami"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), ""))
    )
    w.projects.new_project(demo_csv)
    qtbot.waitUntil(lambda: w.loading.import_dialog is not None, timeout=30_000)
    dialog = w.loading.import_dialog
    dialog.set_class_color(2, "#123456")
    with qtbot.waitSignal(w.projects.opened, timeout=TIMEOUT):
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    wait_for_rounds(qtbot, w)
    assert w.projects.project.path == target
    assert w.projects.project.class_colours[2] == "#123456"
    assert w.windowTitle() == "pets — dami-gui"


def test_renamed_file_classes_are_refused_with_a_sentence(qtbot, make_window, demo_csv, tmp_path):
    w = make_window()
    dataset = load_dataset(demo_csv, label_column="class", id_column="patch_id")
    dataset.classes = [c.upper() if i == 0 else c for i, c in enumerate(dataset.classes)]
    w.set_session(Session(dataset, **w.session_options), start=False)
    text = failure_box(qtbot, w, lambda: w.projects.save_as(tmp_path / "x.dami"))
    assert "was renamed" in text
    assert not (tmp_path / "x.dami").exists()


# ------------------------------------------------------------------------------ recent list


def test_recent_list_most_recent_first_missing_marked_and_removed(
    qtbot, saved_demo, make_window, tmp_path
):
    w = saved_demo
    first = tmp_path / "segment.dami"
    w.close()
    second = tmp_path / "copy.dami"
    shutil.copy(first, second)
    w2 = make_window()
    reopen(qtbot, w2, second)
    assert project_files.recent_projects() == [str(second), str(first)]
    menu = w2.project_menu.recent_menu
    w2.project_menu.fill_recent_menu()
    entries = [a for a in menu.actions() if a.data()]
    assert [a.data() for a in entries] == [str(second), str(first)]
    assert all(a.isEnabled() for a in entries)

    w2.close()
    first.unlink()
    w3 = make_window()
    w3.project_menu.fill_recent_menu()
    entries = [a for a in w3.project_menu.recent_menu.actions() if a.data()]
    assert entries[1].text().endswith("(not found)")  # choosing it offers to find it
    w3.projects.moved.remove(first)  # (test_predictions_app.py: the question, finding it)
    assert "removed from the recent projects" in w3.status.text()
    assert project_files.recent_projects() == [str(second)]
    # opening through the menu entry
    w3.project_menu.fill_recent_menu()
    with qtbot.waitSignal(w3.projects.opened, timeout=TIMEOUT):
        next(a for a in w3.project_menu.recent_menu.actions() if a.data()).trigger()
    assert w3.projects.project.path == second
    wait_for_rounds(qtbot, w3)


# ----------------------------------------------------------------------------------- export


@pytest.fixture
def notes_csv(tmp_path):
    """A small pool whose text column holds formula-like cells."""
    rng = np.random.default_rng(0)
    n = 40
    y = rng.integers(0, 2, n)
    notes = ['=HYPERLINK("http://x")', "+SUM(A1)", "-2.5", "@cmd", "plain", "-cmd"]
    frame = pd.DataFrame(
        {
            "name": [f"r{i}" for i in range(n)],
            "x1": (rng.normal(size=n) + 3 * y).round(4),
            "x2": rng.normal(size=n).round(4),
            "note": [notes[i % len(notes)] for i in range(n)],
            "kind": np.where(np.arange(n) < 6, np.array(["a", "b"])[y], ""),
        }
    )
    path = tmp_path / "notes.csv"
    frame.to_csv(path, index=False)
    return path


def test_export_labeled_rows_and_whole_pool(qtbot, make_window, notes_csv, tmp_path):
    w = make_window()
    dataset = load_dataset(
        notes_csv, label_column="kind", id_column="name", roles={"note": "ignore"}
    )
    with qtbot.waitSignal(w.rounds.committed, timeout=TIMEOUT):
        w.set_session(Session(dataset, **w.session_options))
    s = w.session
    row = int(s.queries[0])
    qtbot.keyClick(w.labels.table, Qt.Key.Key_2)  # class "b"
    assert s.labels[row] == 1

    out = tmp_path / "labeled.csv"
    with qtbot.waitSignal(w.exports.exported, timeout=TIMEOUT):
        w.exports.export_rows(False, out)
    assert "Wrote 7 labeled rows" in w.status.text()
    table = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(table.columns) == ["name", "x1", "x2", "note", "kind", "round", "status"]
    assert len(table) == 7  # six from the file and one given now
    given = table[table["name"] == f"r{row}"].iloc[0]
    assert given["kind"] == "b" and given["round"] == "1" and given["status"] == "labeled"
    assert set(table[table["status"] == "from file"]["round"]) == {""}
    notes = dict(zip(table["name"], table["note"], strict=True))
    assert notes["r0"] == '\'=HYPERLINK("http://x")'
    assert notes["r1"] == "'+SUM(A1)"
    assert notes["r2"] == "-2.5"  # a plain number stays a number
    assert notes["r3"] == "'@cmd" and notes["r4"] == "plain"
    assert notes["r5"] == "'-cmd"

    pool = tmp_path / "pool.csv"
    with qtbot.waitSignal(w.exports.exported, timeout=TIMEOUT):
        w.exports.export_rows(True, pool)
    table = pd.read_csv(pool, dtype=str, keep_default_na=False)
    assert len(table) == s.n_rows and (table["status"] == "unlabeled").sum() == s.n_rows - 7


def test_export_model_and_a_failed_export(qtbot, saved_demo, tmp_path):
    w = saved_demo
    target = tmp_path / "model.pt"
    assert not w.project_menu.export_model_action.isEnabled()  # round 1: no model yet
    w.settings.auto.setChecked(True)
    answer_until_a_model(qtbot, w)
    w.project_menu.update()
    assert w.project_menu.export_model_action.isEnabled()
    with qtbot.waitSignal(w.exports.exported, timeout=TIMEOUT):
        w.exports.export_model(target)
    assert target.is_file() and (tmp_path / "model.json").is_file()
    import json

    import torch

    from dami_gui.core.model import MLP

    spec = json.loads((tmp_path / "model.json").read_text())
    model = MLP.from_spec(spec["spec"], torch.load(target, weights_only=True))
    assert model is not None and spec["classes"] == w.session.classes
    # a folder that does not exist: a sentence, and the app goes on
    text = failure_box(
        qtbot, w, lambda: w.exports.export_rows(False, tmp_path / "no" / "x.csv"), w.exports.failed
    )
    assert text.startswith("Cannot write the CSV")


# ---------------------------------------------------------------- the CSV moved or changed


def test_moved_csv_dialog_and_locate(
    qtbot, saved_demo, make_window, demo_csv, tmp_path, monkeypatch
):
    w = saved_demo
    answered = label_with_keys(qtbot, w, 2)
    w.close()
    moved = tmp_path / "elsewhere" / "segment-moved.csv"
    moved.parent.mkdir()
    demo_csv.rename(moved)

    w2 = make_window()
    with qtbot.waitSignal(w2.projects.sourceProblem, timeout=TIMEOUT) as blocker:
        w2.projects.open(tmp_path / "segment.dami")
    dialog = blocker.args[0]
    assert isinstance(dialog, SourceDialog) and dialog.isVisible() and dialog.missing
    assert dialog.accept_button is None
    assert "was not found" in dialog.heading.text()
    assert str(demo_csv) in dialog.body.text()
    assert w2.session is None and w2.projects.project is None  # nothing opened yet

    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(moved), ""))
    )
    with qtbot.waitSignal(w2.projects.opened, timeout=TIMEOUT):
        qtbot.mouseClick(dialog.locate_button, Qt.MouseButton.LeftButton)
    wait_for_rounds(qtbot, w2)
    s = w2.session
    assert s.dataset.source == moved.resolve()
    assert [int(s.labels[r]) for r in answered] == [int(s.truth[r]) for r in answered]
    w2.close()
    with open_project(tmp_path / "segment.dami", readonly=True) as check:  # remembered
        assert check.dataset.source == moved.resolve()


def test_changed_csv_dialog_shows_what_changed_and_accept(
    qtbot, saved_demo, make_window, demo_csv, tmp_path
):
    w = saved_demo
    s = w.session
    answered = label_with_keys(qtbot, w, 3)
    ids = s.dataset.ids
    gone, kept = answered[0], answered[1:]
    w.close()
    frame = pd.read_csv(demo_csv)
    frame = frame[frame["patch_id"].astype(str) != str(ids[gone])]  # a labeled row removed
    other = frame.index[(~frame["patch_id"].astype(str).isin([str(ids[r]) for r in kept]))][5]
    frame.loc[other, frame.columns[1]] += 1.0  # an edited row
    extra = frame.iloc[[0]].copy()
    extra["patch_id"] = 999_999
    frame = pd.concat([frame, extra])  # an added row
    frame.to_csv(demo_csv, index=False)

    w2 = make_window()
    with qtbot.waitSignal(w2.projects.sourceProblem, timeout=TIMEOUT) as blocker:
        w2.projects.open(tmp_path / "segment.dami")
    dialog = blocker.args[0]
    assert not dialog.missing and dialog.accept_button is not None
    assert "has changed" in dialog.heading.text()
    values = {k: v.text() for k, v in dialog.values.items()}
    assert values["added"] == "1 new row"
    assert values["removed"] == "1 row is gone"
    assert values["edited"] == "1 row has other values"
    assert values["labels_lost"] == "1 labeled row is no longer in the file"
    assert "patch_id" in values["matched_by"]
    assert "2,310 before, 2,310 now" in values["rows"]

    # Cancel first: nothing is opened or changed
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert w2.session is None and "nothing was changed" in w2.status.text()
    with sqlite3.connect(tmp_path / "segment.dami") as conn:  # no new version of the CSV
        assert conn.execute("SELECT COUNT(*) FROM sources").fetchone()[0] == 1
    with qtbot.waitSignal(w2.projects.sourceProblem, timeout=TIMEOUT) as blocker:
        w2.projects.open(tmp_path / "segment.dami")
    with qtbot.waitSignal(w2.projects.opened, timeout=TIMEOUT):
        qtbot.mouseClick(blocker.args[0].accept_button, Qt.MouseButton.LeftButton)
    wait_for_rounds(qtbot, w2)
    s2 = w2.session
    assert s2.n_rows == s.n_rows
    rows = {str(i): r for r, i in enumerate(s2.dataset.ids)}
    for r in kept:
        assert s2.labels[rows[str(ids[r])]] == s.truth[r]  # labels follow their rows by id
    assert str(ids[gone]) not in rows


def test_a_csv_that_is_not_the_recorded_one_is_read_only_when_chosen(
    qtbot, saved_demo, make_window, demo_csv, tmp_path
):
    saved_demo.close()
    project = tmp_path / "project" / "segment.dami"
    project.parent.mkdir()
    shutil.copyfile(tmp_path / "segment.dami", project)
    other = tmp_path / "elsewhere" / "segment.csv"
    other.parent.mkdir()
    frame = pd.read_csv(demo_csv)
    frame.iloc[:-1].to_csv(other, index=False)  # outside the project's folder, one row less
    with sqlite3.connect(project) as conn:  # as a crafted file would say
        conn.execute("UPDATE sources SET path = ?", (str(other),))
    w2 = make_window()
    with qtbot.waitSignal(w2.projects.sourceProblem, timeout=TIMEOUT) as blocker:
        w2.projects.open(project)
    dialog = blocker.args[0]
    assert not dialog.status.compared and "is not the file" in dialog.heading.text()
    assert dialog.accept_button.text() == "Read this file" and not dialog.values
    with qtbot.waitSignal(w2.projects.sourceProblem, timeout=TIMEOUT) as blocker:
        qtbot.mouseClick(dialog.accept_button, Qt.MouseButton.LeftButton)  # read, compared
    compared = blocker.args[0]
    assert compared.status.compared and compared.values["removed"].text() == "1 row is gone"
    assert w2.session is None  # nothing opened or changed until the changes are accepted
    compared.close()
    w2.close()


# ---------------------------------------------------------------------------------- errors


def test_locked_project_is_refused_with_a_sentence(qtbot, saved_demo, make_window, tmp_path):
    w2 = make_window()
    text = failure_box(qtbot, w2, lambda: w2.projects.open(tmp_path / "segment.dami"))
    assert "is open in another dami window or command" in text
    assert f"process {os.getpid()}" in text
    assert w2.session is None and w2.projects.project is None
    assert "Could not open the project" in w2.status.text()
    # the first window still labels and saves
    row = label_with_keys(qtbot, saved_demo, 1)[0]
    assert saved_demo.projects.project.session.labels[row] >= 0


@pytest.mark.parametrize("damage", ["garbage", "empty", "truncated", "too new"])
def test_damaged_or_newer_file_is_refused(qtbot, make_window, saved_demo, tmp_path, damage):
    source = tmp_path / "segment.dami"
    saved_demo.close()
    path = tmp_path / f"{damage.replace(' ', '_')}.dami"
    if damage == "garbage":
        path.write_bytes(b"this is not a project\n" * 20)
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "truncated":
        data = source.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    else:
        shutil.copy(source, path)
        with sqlite3.connect(path) as conn:
            conn.execute("PRAGMA user_version = 99")
    before = path.read_bytes()
    w = make_window()
    text = failure_box(qtbot, w, lambda: w.projects.open(path))
    expected = {
        "garbage": "not a dami project",
        "empty": "empty",
        "truncated": "truncated",
        "too new": "newer version of dami-gui",
    }[damage]
    assert expected in text
    assert path.read_bytes() == before  # never altered
    assert w.session is None
    with qtbot.waitSignal(w.rounds.committed, timeout=TIMEOUT):  # the app goes on
        w.loading.open_demo()


def test_read_only_project_is_refused_with_a_sentence(
    qtbot, saved_demo, make_window, tmp_path, monkeypatch
):
    saved_demo.close()
    path = tmp_path / "segment.dami"
    real_access = os.access

    def access(
        target, mode, *args, **kwargs
    ):  # as if the folder were read-only (tests run as root)
        if mode & os.W_OK and str(target).startswith(str(tmp_path)):
            return False
        return real_access(target, mode, *args, **kwargs)

    monkeypatch.setattr(os, "access", access)
    w = make_window()
    text = failure_box(qtbot, w, lambda: w.projects.open(path))
    assert "read-only" in text and "copy it to a folder you can write to" in text


def test_failing_label_write_shows_a_message_and_no_label(qtbot, saved_demo, monkeypatch):
    w = saved_demo
    s = w.session
    project = w.projects.project
    table = w.labels.table
    table.setFocus()
    row = table.current_row()
    position = w.labels.model.position_of(row)
    counter = w.labels.counter.text()
    message = (
        "The disk holding segment.dami is full, so the label was not saved; free some space and "
        "try again (everything saved before is safe)."
    )

    def full(event):
        raise DiskFull(message)

    monkeypatch.setattr(project, "record_event", full)
    qtbot.keyClick(table, key_for(int(s.truth[row])))
    box = w.status.error_box
    assert box is not None and box.isVisible() and box.text() == message
    assert s.labels[row] == -1 and not s.events  # the label was not applied
    assert w.labels.model.data(w.labels.model.index(position, COL_LABEL)) in ("", None)
    assert w.labels.counter.text() == counter
    assert table.current_row() == row  # the selection did not move on
    box.close()
    # the buttons of the row panel and "not sure" are guarded too
    qtbot.mouseClick(w.labels.row_panel.class_buttons[0], Qt.MouseButton.LeftButton)
    assert s.labels[row] == -1 and w.status.error_box.text() == message
    w.status.error_box.close()
    table.setFocus()
    qtbot.keyClick(table, Qt.Key.Key_Space)
    assert not s.skipped[row]
    w.status.error_box.close()

    monkeypatch.undo()  # space again on the disk: labeling works and is saved
    qtbot.keyClick(table, key_for(int(s.truth[row])))
    assert s.labels[row] == s.truth[row]

    def full_undo(event):
        raise DiskFull(message.replace("the label", "the undo"))

    monkeypatch.setattr(project, "record_event", full_undo)
    w.undo_action.trigger()  # Edit → Undo (Ctrl+Z)
    assert s.labels[row] == s.truth[row]  # not undone: the undo could not be saved
    assert "the undo was not saved" in w.status.error_box.text()
    w.status.error_box.close()
    monkeypatch.undo()
    w.close()
    with open_project(project.path, readonly=True) as check:
        assert check.session.labels[row] == s.truth[row] and len(check.session.events) == 1


def test_a_crash_mid_round_leaves_project_and_labels_intact(
    qtbot, saved_demo, make_window, monkeypatch, tmp_path
):
    w = saved_demo
    s = w.session
    answered = label_with_keys(qtbot, w, BATCH)

    def broken(self, progress=None, cancel=None):
        raise RuntimeError("simulated crash in training")

    monkeypatch.setattr(Session, "compute_round", broken)
    with qtbot.waitSignal(w.rounds.failed, timeout=TIMEOUT):
        w.next_round()
    assert w.status.error_box.text().startswith("Something went wrong while running the round")
    w.status.error_box.close()
    assert len(s.rounds) == 1
    with open_project(tmp_path / "segment.dami", readonly=True) as check:
        assert [int(check.session.labels[r]) for r in answered] == [
            int(s.truth[r]) for r in answered
        ]
        assert len(check.session.rounds) == 1
    monkeypatch.undo()
    with qtbot.waitSignal(w.rounds.committed, timeout=TIMEOUT):  # the app is still usable
        w.next_round()
    w.close()
    w2 = make_window()
    reopen(qtbot, w2, tmp_path / "segment.dami")
    assert len(w2.session.rounds) == 2
    assert [int(w2.session.labels[r]) for r in answered] == [int(s.truth[r]) for r in answered]


# ----------------------------------------------------------------- colours and the map kept


def test_class_colours_and_umap_map_are_kept(qtbot, make_window, demo_csv, tmp_path, monkeypatch):
    calls: list[int] = []

    def fake_umap(X, seed=0, progress=None, cancel=None):
        calls.append(len(X))
        return pca_layout(X)[:, ::-1].copy()  # recognisably not the PCA map

    monkeypatch.setattr(map_layout, "warm_up_umap", lambda: None)
    monkeypatch.setattr(map_layout, "umap_layout", fake_umap)
    w = make_window()
    w.layouts.use_umap = True
    open_demo(qtbot, w)
    qtbot.waitUntil(lambda: w.map.layout_name == "UMAP", timeout=30_000)
    w.projects.set_class_colour(1, "#abcdef")  # before saving: goes into the new project
    project = save_as(qtbot, w, tmp_path / "segment.dami")
    assert project.class_colours[1] == "#abcdef"
    assert project.load_layout("umap") is not None
    w.projects.set_class_colour(0, "#123456")  # in a project: saved at once
    assert project.class_colours[:2] == ["#123456", "#abcdef"]
    umap = w.map.positions.copy()
    w.close()
    wait_for_workers(qtbot)

    w2 = make_window()
    w2.layouts.use_umap = True
    names: list[str] = []
    w2.layouts.ready.connect(lambda _p, name: names.append(name))
    reopen(qtbot, w2, tmp_path / "segment.dami")
    assert names == ["UMAP"] and calls == [w.session.n_rows]  # reused, not recomputed
    np.testing.assert_array_equal(w2.map.positions, umap)
    assert w2.colors[0] == "#123456" and w2.colors[1] == "#abcdef"
    assert w2.map.class_brush(1).color().name() == "#abcdef"


def test_cancel_save_as_leaves_no_file(qtbot, make_window, demo_csv, tmp_path, monkeypatch):
    w = make_window()
    open_demo(qtbot, w)
    import threading

    gate = threading.Event()
    real = projects.create_project

    def slow(path, session, **kwargs):
        gate.wait(10)
        return real(path, session, **kwargs)

    monkeypatch.setattr(projects, "create_project", slow)
    w.projects.save_as(tmp_path / "segment.dami")
    dialog = w.projects.save_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.windowModality() == Qt.WindowModality.WindowModal  # no answers meanwhile
    cancel = next(b for b in dialog.findChildren(QPushButton) if b.text() == "Cancel")
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    gate.set()
    wait_for_workers(qtbot)
    qtbot.waitUntil(lambda: not (tmp_path / "segment.dami").exists(), timeout=5_000)
    assert w.projects.project is None and w.session.journal is None
    assert w.project_menu.banner.isVisible()
    assert "Saving cancelled" in w.status.text()


def test_main_opens_a_project_given_on_the_command_line(qtbot, run_main, saved_demo, tmp_path):
    """``dami-gui segment.dami``: main() opens the project (no import dialog)."""
    saved_demo.close()
    seen = {}

    def inspect(window):
        qtbot.waitUntil(lambda: window.projects.project is not None, timeout=TIMEOUT)
        seen["title"] = window.windowTitle()
        seen["rounds"] = len(window.session.rounds)
        seen["dialog"] = window.loading.import_dialog

    assert run_main(["--no-umap", str(tmp_path / "segment.dami")], inspect) == 0
    assert seen == {"title": "segment — dami-gui", "rounds": 1, "dialog": None}
    assert not (tmp_path / "segment.dami.lock").exists()


def test_data_opened_without_a_project_is_saved_at_once(qtbot, make_window, demo_csv, tmp_path):
    """The app autosaves the demo (or an opened CSV) in the user's projects folder: a label given
    before any "Save as" is in a file the moment it is shown."""
    w = make_window()
    w.projects.autosave_folder = tmp_path / "autosaved"
    with qtbot.waitSignal(w.projects.opened, timeout=TIMEOUT):
        open_demo(qtbot, w)
    project = w.projects.project
    assert project.path.parent == tmp_path / "autosaved" and project.path.suffix == ".dami"
    assert project.path.name.startswith("segment-")
    assert not w.project_menu.banner.isVisible() and w.session.journal is project
    wait_for_rounds(qtbot, w)
    answered = label_with_keys(qtbot, w, 2)
    with open_project(project.path, readonly=True) as again:  # read while the app holds it
        for row in answered:
            assert again.session.labels[row] == w.session.labels[row] >= 0
    assert project_files.recent_projects() == [str(project.path)]


def test_the_automatic_save_comes_first_with_the_only_progress_bar(
    qtbot, make_window, demo_csv, tmp_path, monkeypatch
):
    """Data opened without a project: saved first (its dialog the one progress bar and Cancel,
    the banner says it is saving), round 1 after it; never two progress bars at once."""
    release = threading.Event()
    real = projects.create_project

    def slow_create(*args, **kwargs):
        release.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(projects, "create_project", slow_create)
    w = make_window()
    w.projects.autosave_folder = tmp_path / "autosaved"
    w.loading.open_demo()
    try:
        qtbot.waitUntil(lambda: w.projects.save_dialog is not None, timeout=TIMEOUT)
        assert w.projects.save_dialog.isVisible()
        assert "in your projects folder" in w.projects.save_dialog.label.text()
        assert w.project_menu.banner.isVisible()
        assert w.project_menu.banner_label.text().startswith("Saving this session")
        assert not w.project_menu.banner_action.isVisible()  # no "Save as" while it saves
        assert not w.rounds.running and w.session.rounds == []  # round 1 waits
        assert not w.status.progress_bar.isVisible() and not w.status.cancel_button.isVisible()
    finally:
        release.set()
    with qtbot.waitSignal(w.rounds.committed, timeout=TIMEOUT):
        pass  # the save ends, then round 1 runs
    assert w.projects.saved and w.projects.save_dialog is None
    assert not w.project_menu.banner.isVisible()
