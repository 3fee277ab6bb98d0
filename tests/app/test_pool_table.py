"""The Pool tab: filter and sort every row by a column or by the predicted class, outline them
on the map, and label a group of rows at once after looking at them, undone in one step
(dami_gui/app/panels/pool_table.py, dialogs/label_group.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt

from dami_gui.app.panels.pool_table import BY_LABEL, BY_PREDICTED, PoolModel, filter_rows


def test_filter_rows_by_numbers_text_classes_and_what_is_shown(qtbot, model_window):
    s = model_window.session
    frame = s.dataset.frame
    numbers = pd.to_numeric(frame["hue_mean"]).to_numpy()
    np.testing.assert_array_equal(
        filter_rows(s, "hue_mean", "> -1.5"), np.flatnonzero(numbers > -1.5)
    )
    np.testing.assert_array_equal(
        filter_rows(s, "hue_mean", "-2..-1"), np.flatnonzero((numbers >= -2) & (numbers <= -1))
    )
    assert filter_rows(s, "hue_mean", "").size == s.n_rows
    ids = filter_rows(s, "region_pixel_count", "= 9")
    assert (pd.to_numeric(frame["region_pixel_count"]).to_numpy()[ids] == 9).all()
    predicted = s.last_round.proba.argmax(1)
    name = s.classes[int(predicted[0])]
    np.testing.assert_array_equal(
        filter_rows(s, BY_PREDICTED, name[:3].upper()),  # the start of the name, any case
        np.flatnonzero(
            np.isin(predicted, [k for k, c in enumerate(s.classes) if c.startswith(name[:3])])
        ),
    )
    labeled = np.flatnonzero(s.labels >= 0)
    np.testing.assert_array_equal(filter_rows(s, BY_LABEL, "", "labeled"), labeled)
    assert filter_rows(s, BY_LABEL, "none").size == s.n_rows - labeled.size
    assert not np.isin(filter_rows(s, BY_LABEL, "", "open"), labeled).any()
    mask = np.zeros(s.n_rows, dtype=bool)
    mask[[5, 9, 40]] = True
    np.testing.assert_array_equal(filter_rows(s, BY_LABEL, "", "outlined", mask), [5, 9, 40])


def test_sorting_by_a_column_and_by_the_predicted_class(qtbot, model_window):
    s = model_window.session
    model = PoolModel()
    model.set_session(s)
    model.set_rows(np.arange(s.n_rows))
    column = [model.column_name(c) for c in range(model.columnCount())].index("hue_mean")
    model.sort(column, Qt.SortOrder.DescendingOrder)
    values = pd.to_numeric(s.dataset.frame["hue_mean"]).to_numpy()[model.rows]
    assert (np.diff(values) <= 0).all()
    model.sort(2, Qt.SortOrder.AscendingOrder)  # the predicted class
    predicted = s.last_round.proba.argmax(1)[model.rows]
    assert (np.diff(predicted) >= 0).all()
    assert model.data(model.index(0, 2)) == s.classes[int(predicted[0])]


def select(table, positions) -> None:
    selection = QItemSelection()
    for p in positions:
        index = table.model().index(p, 0)
        selection.select(index, index)
    flags = (
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
    )
    table.selectionModel().select(selection, flags)


def test_label_a_group_after_looking_at_it_and_undo_it_in_one_step(qtbot, model_window):
    w = model_window
    s = w.session
    pool = w.labels.pool
    w.labels.tabs.setCurrentIndex(w.labels.pool_index)
    pool.show_box.setCurrentIndex(pool.show_box.findData("open"))
    pool.column.setCurrentText("hue_mean")
    pool.text.setText("> -1.5")
    pool.apply()
    assert pool.model.rowCount() == len(filter_rows(s, "hue_mean", "> -1.5", "open"))
    assert pool.count.text().endswith(f"of {s.n_rows:,}")
    select(pool.table, [0, 2, 4])
    rows = pool.selected_rows()
    assert len(rows) == 3 and pool.label_button.text() == "Label 3 rows…"
    events_before = len(s.events)
    qtbot.mouseClick(pool.label_button, Qt.MouseButton.LeftButton)
    dialog = w.group_dialog
    qtbot.waitUntil(dialog.isVisible, timeout=2_000)
    assert sorted(dialog.model.rows.tolist()) == sorted(rows.tolist())  # what will be labeled
    assert dialog.model.rowCount() == 3 and "Look at these 3 rows" in dialog.intro.text()
    dialog.choose(2)
    assert dialog.ok_button.text() == f"Label 3 rows '{s.classes[2]}'"
    dialog.accept()
    assert (s.labels[rows] == 2).all() and len(s.events) == events_before + 3
    assert "Labeled 3 rows" in w.status.text()
    qtbot.keyClick(w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # one step
    assert (s.labels[rows] == -1).all()
    assert "Undid the labels of 3 rows given together" in w.status.text()


def test_outlined_rows_and_outline_on_the_map(qtbot, model_window):
    w = model_window
    pool = w.labels.pool
    w.map.families.choose_family(0)  # a family chosen in the legend: outlined on the map
    pool.show_box.setCurrentIndex(pool.show_box.findData("outlined"))
    np.testing.assert_array_equal(pool.model.rows, w.map.highlighted_rows())  # file order
    pool.show_box.setCurrentIndex(pool.show_box.findData("all"))
    pool.column.setCurrentText(BY_PREDICTED)
    pool.text.setText(w.session.classes[int(w.session.last_round.proba.argmax(1)[0])])
    pool.apply()
    qtbot.mouseClick(pool.outline_button, Qt.MouseButton.LeftButton)
    np.testing.assert_array_equal(w.map.highlighted_rows(), np.sort(pool.model.rows))
