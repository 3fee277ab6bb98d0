"""The labeling keys of a domain expert: the class's number (two digits with ten classes or
more), Space for not sure, A for the model's guess: shown first, then accepted; and the guess is
never shown before the row is answered unless asked for (dami_gui/app/label_keys.py, the query
table and the row's card)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from dami_gui.app.label_keys import LabelKeys, key_of_class
from dami_gui.app.palette import ClassColors
from dami_gui.app.panels.label_panel import LabelPanel
from dami_gui.app.panels.query_table import COL_CONFIDENCE, COL_PREDICTION

from .conftest import clustered_session

TWELVE = [f"kind {i:02d}" for i in range(1, 13)]


def test_keys_of_classes_one_digit_up_to_nine_two_digits_from_ten():
    assert [key_of_class(c, 7) for c in range(7)] == [str(i) for i in range(1, 8)]
    assert key_of_class(0, 12) == "01" and key_of_class(11, 12) == "12"
    keys = LabelKeys()
    none = Qt.KeyboardModifier.NoModifier
    assert keys.press(Qt.Key.Key_3, none, 7).code == 2
    assert keys.press(Qt.Key.Key_8, none, 7).kind == "invalid"  # no class 8 of 7
    assert keys.press(Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier, 7) is None
    assert keys.press(Qt.Key.Key_1, none, 12).kind == "pending"
    assert keys.press(Qt.Key.Key_2, none, 12).code == 11  # "1" "2": class 12
    assert keys.press(Qt.Key.Key_0, none, 12).kind == "pending"
    assert keys.press(Qt.Key.Key_3, none, 12).code == 2  # "0" "3": class 3
    assert keys.press(Qt.Key.Key_1, none, 12).kind == "pending"
    assert keys.press(Qt.Key.Key_Backspace, none, 12).kind == "cleared"
    assert keys.pending == ""
    assert keys.press(Qt.Key.Key_5, none, 12).kind == "invalid"  # 50-59: no such classes
    assert keys.press(Qt.Key.Key_1, none, 12).kind == "pending"
    assert keys.press(Qt.Key.Key_9, none, 12).kind == "invalid"  # 19 > 12
    assert keys.press(Qt.Key.Key_A, none, 12).kind == "accept"
    assert keys.press(Qt.Key.Key_Space, none, 12).kind == "skip"


@pytest.fixture
def twelve(qtbot):
    session = clustered_session(900, TWELVE, 5, labeled=60, batch=6, seed=2)
    panel = LabelPanel(ClassColors())
    qtbot.addWidget(panel)
    panel.resize(420, 700)
    panel.show()
    panel.set_session(session)
    return panel, session


def test_twelve_classes_are_labeled_with_two_key_chords(qtbot, twelve):
    panel, s = twelve
    table = panel.table
    table.setFocus()
    first, second = (int(r) for r in s.queries[:2])
    assert table.current_row() == first
    assert "<b>01</b>…<b>12</b> (two digits)" in panel.keys.text()
    assert panel.row_panel.class_buttons[11].text().startswith("12 ")
    qtbot.keyClick(table, Qt.Key.Key_1)
    assert s.labels[first] == -1  # waits for the second digit, and says what it can be
    assert "10 kind 10, 11 kind 11, 12 kind 12" in panel.key_message.text()
    qtbot.keyClick(table, Qt.Key.Key_2)
    assert s.labels[first] == 11 and table.current_row() == second
    qtbot.keyClick(table, Qt.Key.Key_0)
    qtbot.keyClick(table, Qt.Key.Key_4)
    assert s.labels[second] == 3


def test_the_guess_is_hidden_until_answered_or_asked_for_then_a_accepts_it(qtbot, twelve):
    panel, s = twelve
    model, table, card = panel.model, panel.table, panel.row_panel
    table.setFocus()
    row = table.current_row()
    position = model.position_of(row)
    guess = int(s.last_round.proba[row].argmax())
    assert model.data(model.index(position, COL_PREDICTION)) == ""
    assert model.data(model.index(position, COL_CONFIDENCE)) == ""
    assert card.row == row and "Model's guess" not in card.guess.text()
    assert card.guess_button.isVisible() and card.guess_button.text() == "Guess? (A)"
    qtbot.keyClick(table, Qt.Key.Key_A)  # A once: shown, not given
    assert s.labels[row] == -1 and table.current_row() == row
    assert model.data(model.index(position, COL_PREDICTION)) == s.classes[guess]
    assert f"'{s.classes[guess]}': A again accepts it" in panel.key_message.text()
    assert "Model's guess: <b>" in card.guess.text() and s.classes[guess] in card.guess.text()
    assert card.guess_button.text() == "Accept (A)"
    qtbot.keyClick(table, Qt.Key.Key_A)  # A again: accepted, on to the next query
    assert s.labels[row] == guess and table.current_row() != row
    # another row: answered without asking, its guess shows once answered
    nxt = table.current_row()
    nxt_position = model.position_of(nxt)
    assert model.data(model.index(nxt_position, COL_PREDICTION)) == ""
    qtbot.keyClick(table, Qt.Key.Key_Space)
    assert model.data(model.index(nxt_position, COL_PREDICTION)) != ""
    # the card's button does what A does
    third = table.current_row()
    card.guess_button.click()
    assert s.labels[third] == -1 and model.guess_shown(third)
    card.guess_button.click()
    assert s.labels[third] == int(s.last_round.proba[third].argmax())
    # or every guess shown from the start, as the user chooses
    panel.show_guesses.setChecked(True)
    assert all(model.data(model.index(p, COL_PREDICTION)) != "" for p in range(model.rowCount()))


def test_keys_reach_the_current_query_also_without_a_click_after_a_round(qtbot, model_window):
    """After a round (and after reopening a project) the table has the keys: no click first."""
    w = model_window
    s = w.session
    w.activateWindow()
    qtbot.waitUntil(lambda: w.labels.table.hasFocus(), timeout=5_000)
    row = w.labels.table.current_row()
    qtbot.keyClick(w.focusWidget(), Qt.Key.Key_2)
    assert s.labels[row] == 1
    assert np.count_nonzero(s.labels >= 0) > 0
