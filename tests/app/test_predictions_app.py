"""File → Apply model to a file… (in a worker, with progress and Cancel), Help → About, the data
folder named once, and a recent project that moved."""

from __future__ import annotations

import shutil
import threading

import numpy as np
import pandas as pd
import torch
from PySide6.QtCore import qVersion
from PySide6.QtGui import QGuiApplication

from dami_gui import __version__
from dami_gui.app.controllers import predictions, project_files
from dami_gui.app.main import autosave_folder
from dami_gui.app.panels.log_panel import log_file_path
from dami_gui.app.paths import data_folder

from .test_projects import TIMEOUT, demo_csv, saved_demo, settings_kept_apart  # noqa: F401


def pool_sample(window, path, n=60):
    """The first ``n`` pool rows as a new file, label column dropped; their pool rows' proba."""
    session = window.session
    frame = session.dataset.frame.iloc[:n]
    frame.drop(columns=[session.dataset.report.column("label")]).to_csv(path, index=False)
    return session.last_round.proba[:n]


def test_apply_model_to_a_file_in_the_background(qtbot, model_window, tmp_path):
    w = model_window
    ctl = w.predictions
    file_menu = w.menuBar().actions()[0].menu()
    assert ctl.action in file_menu.actions()
    ctl.update()
    assert ctl.action.isEnabled()
    proba = pool_sample(w, tmp_path / "new.csv")
    seen: list[float] = []
    with qtbot.waitSignal(ctl.finished, timeout=TIMEOUT) as blocker:
        ctl.apply(tmp_path / "new.csv", tmp_path / "out.csv")
        assert ctl.running and ctl.dialog is not None and ctl.dialog.isVisible()
        ctl.dialog.bar.valueChanged.connect(seen.append)
    assert not ctl.running and ctl.dialog is None
    assert seen and max(seen) > 0  # the bar moved
    out = pd.read_csv(tmp_path / "out.csv")
    classes = w.session.classes
    np.testing.assert_allclose(out[[f"p_{c}" for c in classes]], proba, atol=1e-6)
    assert {"region", "group", "group_center", "top3_column"} <= set(out.columns)
    report = blocker.args[0]
    assert report.n_rows == 60 and "Wrote 60 predictions" in w.status.text()
    assert ctl.result_box.isVisible() and "Predicted 60 rows" in ctl.result_box.informativeText()


def test_a_file_without_a_needed_column_is_one_sentence(qtbot, model_window, tmp_path):
    w = model_window
    pool_sample(w, tmp_path / "new.csv")
    frame = pd.read_csv(tmp_path / "new.csv")
    needed = w.session.dataset.preprocessing.transforms[0].column
    frame.drop(columns=[needed]).to_csv(tmp_path / "new.csv", index=False)
    with qtbot.waitSignal(w.predictions.failed, timeout=TIMEOUT) as blocker:
        w.predictions.apply(tmp_path / "new.csv", tmp_path / "out.csv")
    message = blocker.args[0]
    assert f"no column '{needed}'" in message and "Traceback" not in message
    assert w.status.error_box is not None and w.status.error_box.isVisible()
    assert w.status.error_box.text() == message
    assert not (tmp_path / "out.csv").exists()


def test_cancel_writes_nothing(qtbot, model_window, tmp_path, monkeypatch):
    w = model_window
    pool_sample(w, tmp_path / "new.csv")
    release = threading.Event()
    real = predictions.predict_file

    def held(*args, **kwargs):  # runs in the worker: wait until the test has pressed Cancel
        release.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(predictions, "predict_file", held)
    with qtbot.waitSignal(w.predictions.cancelled, timeout=TIMEOUT):
        w.predictions.apply(tmp_path / "new.csv", tmp_path / "out.csv")
        w.predictions.dialog.cancel_button.click()
        release.set()
    assert not (tmp_path / "out.csv").exists() and "no file was written" in w.status.text()


def test_no_model_yet(qtbot, make_window):
    w = make_window()
    w.predictions.update()
    assert not w.predictions.action.isEnabled()
    with qtbot.waitSignal(w.predictions.failed, timeout=TIMEOUT) as blocker:
        w.predictions.apply()
    assert "run a round" in blocker.args[0]


def test_about_shows_versions_and_the_data_folder(qtbot, make_window):
    w = make_window()
    help_menu = w.menuBar().actions()[-1].menu()
    about = next(a for a in help_menu.actions() if a.text().startswith("&About"))
    about.trigger()
    dialog = w.about_dialog
    qtbot.waitUntil(dialog.isVisible)
    text = dialog.label.text()
    for needed in (__version__, torch.__version__, qVersion(), str(data_folder())):
        assert needed in text
    dialog.copy()
    assert QGuiApplication.clipboard().text() == dialog.text()
    assert f"dami-gui: {__version__}" in dialog.text()
    dialog.close()
    assert w.show_about() is w.about_dialog and w.about_dialog.isVisible()


def test_data_folder_names_the_app_once():
    folder = data_folder()
    assert folder.name == "dami-gui" and folder.parts.count("dami-gui") == 1
    assert autosave_folder() == folder / "projects"
    assert log_file_path().parent == folder


def test_a_moved_recent_project_can_be_found_or_removed(qtbot, request, make_window, tmp_path):
    w = request.getfixturevalue("saved_demo")  # from test_projects.py
    first = tmp_path / "segment.dami"
    w.close()
    moved = tmp_path / "elsewhere" / "segment.dami"
    moved.parent.mkdir()
    shutil.move(first, moved)  # the project and its CSV file (stored relative to it) move together
    shutil.move(tmp_path / "data", moved.parent / "data")
    w2 = make_window()
    w2.project_menu.fill_recent_menu()
    entry = next(a for a in w2.project_menu.recent_menu.actions() if a.data() == str(first))
    assert entry.text().endswith("(not found)") and entry.isEnabled()
    entry.trigger()
    box = w2.projects.moved.box
    assert box.isVisible() and "segment.dami is no longer at" in box.text()
    assert project_files.recent_projects() == [str(first)]  # still listed until the user decides
    box.close()

    with qtbot.waitSignal(w2.projects.opened, timeout=TIMEOUT):
        w2.projects.moved.find(first, moved)
    assert w2.projects.project.path == moved
    assert project_files.recent_projects() == [str(moved)]

    w2.close()
    moved.unlink()
    w3 = make_window()
    w3.projects.open_recent(moved)
    box = w3.projects.moved.box
    box.buttonClicked.emit(w3.projects.moved.remove_button)
    assert project_files.recent_projects() == []
    assert "removed from the recent projects" in w3.status.text()
