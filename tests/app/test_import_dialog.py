"""File → Open CSV: reading in the worker, the import dialog, and the session it builds."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
from PySide6.QtCore import Qt

from dami_gui.app.dialogs.import_csv import ImportDialog

from .conftest import BATCH, answer_until_a_model, wait_for_workers

ROWS = 60


@pytest.fixture
def pool_csv(tmp_path):
    rng = np.random.default_rng(0)
    lines = ["sample_id,age,weight,colour,notes,class"]
    for i in range(ROWS):
        label = ("cat", "dog")[i % 2] if i < 12 else ""
        colour = ("red", "green", "blue")[i % 3]
        age, weight = rng.integers(1, 15), rng.normal(10, 2)
        lines.append(f"S{i:03d},{age},{weight:.2f},{colour},note number {i},{label}")
    path = tmp_path / "pets.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def open_dialog(qtbot, window, path) -> ImportDialog:
    window.loading.open_csv(path)
    qtbot.waitUntil(lambda: window.loading.import_dialog is not None, timeout=30_000)
    dialog = window.loading.import_dialog
    assert dialog.isVisible()
    return dialog


def roles_of(dialog: ImportDialog) -> dict[str, str]:
    columns = [str(c) for c in dialog.frame.columns]
    return {c: box.currentData() for c, box in zip(columns, dialog.role_boxes, strict=True)}


def test_dialog_prefills_roles_with_reasons_and_builds_the_session(qtbot, make_window, pool_csv):
    w = make_window()
    dialog = open_dialog(qtbot, w, pool_csv)
    assert dialog.preview.model().rowCount() == ROWS
    roles = roles_of(dialog)
    assert roles["sample_id"] == "id" and roles["class"] == "label"
    assert roles["age"] == roles["weight"] == roles["colour"] == "feature"
    assert roles["notes"] == "ignore"
    reasons = [dialog.roles.item(i, 3).text() for i in range(dialog.roles.rowCount())]
    assert all(reasons) and "every row" in reasons[4]
    assert [dialog.classes.item(i).text() for i in range(dialog.classes.count())] == ["cat", "dog"]

    # the user's changes: weight left out, cat renamed, a new class, a colour
    dialog.set_role("weight", "ignore")
    assert roles_of(dialog)["weight"] == "ignore"
    assert "you chose" in dialog.roles.item(2, 3).text()
    dialog.rename_class(0, "feline")
    dialog.add_class("bird")
    dialog.set_class_color(1, "#123456")
    assert dialog.ok_button.isEnabled()
    with qtbot.waitSignal(w.rounds.committed, timeout=120_000):
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    s = w.session
    assert s.classes == ["feline", "dog", "bird"]
    assert s.n_rows == ROWS and s.n_labeled == 12
    assert s.labels[0] == 0 and s.labels[1] == 1  # cat rows keep their code under the new name
    assert "weight" not in s.dataset.feature_names
    assert w.colors[1] == "#123456"
    assert s.queries.size == BATCH
    assert w.windowTitle().endswith("pets.csv")
    assert w.labels.model.rowCount() == BATCH


def test_without_a_label_column_two_classes_are_needed(qtbot, make_window, tmp_path):
    path = tmp_path / "nolabel.csv"
    path.write_text("a,b\n" + "\n".join(f"{i},{i * 2 % 7}" for i in range(30)) + "\n")
    w = make_window()
    dialog = open_dialog(qtbot, w, path)
    assert dialog.classes.count() == 0
    assert not dialog.ok_button.isEnabled()
    assert "two classes" in dialog.error.text()
    dialog.add_class()
    dialog.add_class()
    assert dialog.ok_button.isEnabled()
    with qtbot.waitSignal(w.rounds.committed, timeout=120_000):
        dialog.accept()
    assert w.session.classes == ["class 1", "class 2"]
    assert w.session.n_labeled == 0


def test_bad_file_shows_a_sentence(qtbot, make_window, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    w = make_window()
    w.loading.open_csv(path)
    qtbot.waitUntil(
        lambda: w.status.error_box is not None and w.status.error_box.isVisible(), timeout=30_000
    )
    assert "empty" in w.status.error_box.text()
    assert "Traceback" not in w.status.error_box.text()
    assert w.session is None and not w.opening.running


def test_main_opens_the_file_in_the_import_dialog(qtbot, run_main, pool_csv):
    """``dami-gui FILE.csv``: main() shows the window and the import dialog for the file."""
    seen = {}

    def inspect(window):
        qtbot.waitUntil(lambda: window.loading.import_dialog is not None, timeout=30_000)
        seen["title"] = window.loading.import_dialog.windowTitle()
        seen["umap"] = window.layouts.use_umap
        try:  # an exception escaping a slot is logged and shown, not lost
            raise ValueError("boom")
        except ValueError as error:
            sys.excepthook(ValueError, error, error.__traceback__)
        seen["hook"] = window.status.error_box.text()

    assert run_main(["--no-umap", str(pool_csv)], inspect) == 0
    assert seen == {
        "title": "Open pets.csv",
        "umap": False,
        "hook": "Something went wrong (ValueError: boom).",
    }


def test_cancel_while_reading_a_big_file(qtbot, make_window, tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "big.csv"
    frame = pd.DataFrame(rng.normal(size=(200_000, 8)), columns=[f"x{i}" for i in range(8)])
    frame.to_csv(path, index=False, float_format="%.5f")  # about 15 MB: read in chunks
    w = make_window()
    w.loading.open_csv(path)
    assert w.status.cancel_button.isVisible() and "reading big.csv" in w.status.text().lower()
    qtbot.waitUntil(
        lambda: w.status.progress_bar.value() > 0, timeout=30_000
    )  # the first chunk is in
    qtbot.mouseClick(w.status.cancel_button, Qt.MouseButton.LeftButton)
    assert w.status.text() == "Opening cancelled."
    wait_for_workers(qtbot)
    assert w.loading.import_dialog is None and w.session is None
    assert w.status.error_box is None


def test_a_full_label_column_is_said_and_used_as_known_answers(qtbot, make_window, tmp_path):
    """Every row already labeled: the dialog says so and offers the column as known answers,
    hidden from the queue, shown once a row is answered, and measured on the learning curve."""
    rng = np.random.default_rng(1)
    lines = ["id,x,size,label"]
    for i in range(ROWS):
        kind = ("round", "square", "star")[i % 3]
        centre = {"round": 0.0, "square": 5.0, "star": 10.0}[kind]
        lines.append(f"R{i:03d},{centre + rng.normal():.3f},{rng.normal():.3f},{kind}")
    path = tmp_path / "known.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    w = make_window()
    dialog = open_dialog(qtbot, w, path)
    assert dialog.filled_note.isVisible() and dialog.known_answers.isVisible()
    assert "Every row already has a label" in dialog.filled_note.text()
    assert f"({ROWS} rows)" in dialog.filled_note.text()
    assert dialog.known_answers.isChecked()  # offered, and on by default for a full column
    assert dialog.choices().known_answers
    with qtbot.waitSignal(w.rounds.committed, timeout=60_000):
        dialog.accept()
    s = w.session
    codes = {"round": 0, "square": 1, "star": 2}
    expected = np.array([codes[("round", "square", "star")[i % 3]] for i in range(ROWS)])
    np.testing.assert_array_equal(s.truth, expected)  # the column, as known answers
    assert s.n_labeled == 0 and s.queries.size == BATCH  # hidden: the queue asks for rows
    assert "known answers" in w.status.text() or "Round 1" in w.status.text()
    row = int(s.queries[0])
    w.select_row(row)
    card = w.labels.row_panel
    assert "known answer" not in card.title.text()  # not before the answer
    wrong = (int(s.truth[row]) + 1) % 3
    s.label(row, wrong)
    assert f"known answer: <b>{s.classes[int(s.truth[row])]}</b> ✗" in card.title.text()
    # answered until a model: the curve has the accuracy against the known answers
    answer_until_a_model(qtbot, w)
    _estimated, true = w.curve.points()
    assert true and true[-1][0] == s.last_round.labeled_count
    assert w.curve.truth.isVisible()


def test_a_partly_filled_label_column_keeps_its_labels_unless_asked(qtbot, make_window, pool_csv):
    w = make_window()
    dialog = open_dialog(qtbot, w, pool_csv)  # 12 of 60 rows labeled
    assert "12 of 60 rows" in dialog.filled_note.text()
    assert dialog.known_answers.isVisible() and not dialog.known_answers.isChecked()
    assert not dialog.choices().known_answers
    dialog.known_answers.setChecked(True)
    assert dialog.choices().known_answers
    dialog.reject()
