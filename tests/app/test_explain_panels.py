"""The explanation views on the real demo after two rounds: why this row, regions, coverage,
conflicts (dami_gui/app/panels/explanations.py and the panels it wires)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt

from dami_gui.app.map.drawing import SIZE_POOL
from dami_gui.app.panels.coverage_panel import STOP_STYLE, CoveragePanel
from dami_gui.core.coverage import StoppingHint, coverage_history, stopping_hint

from .conftest import BATCH


@pytest.fixture
def window(qtbot, model_window):
    """The demo after two rounds with a model: round 1 (a cold start, no model) and the first
    round with a model answered with the known classes, the next one committed."""
    w = model_window
    s = w.session
    with qtbot.waitSignal(w.rounds.committed, timeout=120_000):
        for row in s.queries.copy():
            s.label(int(row), int(s.truth[row]))
    assert len(s.rounds) >= 3 and s.rounds[-2].has_model and s.queries.size == BATCH
    why = w.explanations.why
    qtbot.waitUntil(lambda: not why._timer.isActive(), timeout=5_000)  # shows the new round
    return w


def model_logits(session, row: int) -> np.ndarray:
    """The last round's network evaluated directly at ``row`` (independent of explain_row)."""
    model = session.last_round.model()
    with torch.no_grad():
        x = torch.as_tensor(session.dataset.X[row : row + 1], dtype=torch.float32)
        return model(x)[0].numpy()


def check_adds_up(why, session, row: int, k: int) -> None:
    ex = why.explanation
    chart = why.chart
    assert ex is not None and ex.row == row
    assert ex.explained_class == session.classes[k]
    # the bars plus the bias are the score shown, and that is the network's own logit
    assert len(chart.values) == len(ex.contributions)
    assert sum(chart.values) + chart.bias == pytest.approx(chart.total, abs=1e-4)
    assert chart.total == pytest.approx(ex.logit)
    assert ex.logit == pytest.approx(float(model_logits(session, row)[k]), abs=1e-4)
    text = why.score.text()
    assert f"Score for '{session.classes[k]}' = {ex.logit:.2f} = sum of the bars" == text
    assert why.scroll_area.isVisible() and chart.height() > 10 * len(chart.values)


def test_why_panel_shows_the_selected_querys_exact_local_model(qtbot, window):
    w = window
    s = w.session
    why = w.explanations.why
    assert w.explanations.pane.isVisible()
    assert w.explanations.tabs.currentWidget() is why  # visible at once, no hunting
    w.labels.table.select_position(0)  # select the first query in the table
    row = int(s.queries[0])
    assert w.selected_row == row
    predicted = int(np.argmax(model_logits(s, row)))
    check_adds_up(why, s, row, predicted)
    assert why.class_box.currentText() == f"predicted class ({s.classes[predicted]})"
    last = s.last_round
    size = int((last.region_ids == last.region_ids[row]).sum())
    assert why.explanation.region_size == size
    assert f"Picked</b> 1st of {BATCH} in round {len(s.rounds)}." in why.details.text()
    assert "Nearest labeled row" in why.details.text()
    assert why.explanation.nearest_labeled_row in np.flatnonzero(s.labels >= 0)

    # hovering a bar tells its column, its value in the file and its exact contribution
    from PySide6.QtCore import QEvent, QPoint
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QToolTip

    chart = why.chart
    top = QPoint(chart.width() // 2, int(chart._bar_y(0)) + 3)
    chart.event(QHelpEvent(QEvent.Type.ToolTip, top, chart.mapToGlobal(top)))
    first = why.explanation.contributions[0]
    assert QToolTip.text().startswith(first.column) and f"{first.value:+.3f}" in QToolTip.text()

    # another class: other bars, and they still add up to that class's score
    other = (predicted + 1) % len(s.classes)
    before = list(why.chart.values)
    why.set_class(other)
    check_adds_up(why, s, row, other)
    assert why.chart.values != before

    # a map click selects another query; the panel follows (the chosen class is kept)
    view = w.map.plot

    def click_pos(q: int):
        return view.mapFromScene(w.map.scene_pos_of(q))

    # a query that no other dot hides at the pixel of the click
    second = next(
        int(q) for q in s.queries[1:] if w.map.row_at(view.mapToScene(click_pos(int(q)))) == q
    )
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=click_pos(second))
    assert w.selected_row == second
    check_adds_up(why, s, second, other)

    # the nearest labeled row is a link that selects it
    near = why.explanation.nearest_labeled_row
    why.details.linkActivated.emit(f"row:{near}")
    assert w.selected_row == near and why.explanation.row == near

    # after the next round the panel explains the selected row (the table moves to the first
    # new query) under the new network
    rounds = len(s.rounds)
    with qtbot.waitSignal(w.rounds.committed, timeout=120_000):
        w.next_round()
    assert len(s.rounds) == rounds + 1
    qtbot.waitUntil(lambda: why.cache.result is s.last_round and why.explanation is not None)
    assert w.selected_row is not None
    check_adds_up(why, s, w.selected_row, other)


def test_regions_table_and_map_highlight(qtbot, window):
    w = window
    s = w.session
    panel = w.explanations.regions
    w.explanations.tabs.setCurrentWidget(panel)
    last = s.last_round
    partition = np.asarray(last.partition)
    assert panel.proxy.rowCount() == panel.model.rowCount() == np.unique(partition).size
    assert sum(g.size for g in panel.model.groups) == s.n_rows
    n_regions = np.unique(last.region_ids).size
    assert f"{n_regions:,} exact linear regions in {s.n_rows:,} rows" in panel.summary.text()

    # sortable: ascending by size puts the smallest group first
    panel.table.sortByColumn(1, Qt.SortOrder.AscendingOrder)
    sizes = [
        panel.model.groups[panel.proxy.mapToSource(panel.proxy.index(i, 0)).row()].size
        for i in range(panel.proxy.rowCount())
    ]
    assert sizes == sorted(sizes)
    panel.table.sortByColumn(1, Qt.SortOrder.DescendingOrder)

    panel.select_group(0)
    (group,) = panel.selected_groups()
    expected = np.flatnonzero(partition == group.index)
    assert group.size == expected.size == max(sizes)
    np.testing.assert_array_equal(w.map.highlighted_rows(), expected)
    # on the map: the group's plain dots are bigger, every other plain dot is small and grey
    data = w.map.scatter.data
    plain = (s.labels < 0) & ~s.skipped
    plain[s.queries] = False
    inside = np.zeros(s.n_rows, dtype=bool)
    inside[expected] = True
    slots_in = w.map._slot[np.flatnonzero(plain & inside)]
    slots_out = w.map._slot[np.flatnonzero(plain & ~inside)]
    assert slots_in.size and slots_out.size
    assert np.all(data["size"][slots_in] == SIZE_POOL + 4)
    assert np.all(data["size"][slots_out] == SIZE_POOL)
    grey = w.map.styles.brushes[w.map.styles.grey_index]
    assert all(b is grey for b in data["brush"][slots_out])
    assert "Outlined" in w.map.legend.text()

    # selecting nothing clears it
    panel.table.clearSelection()
    assert w.map.highlight is None and w.map.highlighted_rows().size == 0
    assert np.all(w.map.scatter.data["size"][slots_in] == SIZE_POOL)

    # a label recounts the group in place; a double click selects the group's center
    panel.select_group(0)
    (group,) = panel.selected_groups()
    row = int(next(r for r in group.rows if s.labels[r] < 0 and r not in s.queries))
    s.label(row, 0)
    qtbot.waitUntil(
        lambda: panel.selected_groups() and panel.selected_groups()[0].labeled == group.labeled + 1
    )
    assert w.map.highlighted_rows().size == group.size
    position = next(i for i, g in enumerate(panel.model.groups) if g.index == group.index)
    shown = panel.model.data(panel.model.index(position, 2))
    assert shown.startswith(f"{group.labeled + 1}") and s.classes[0] in shown
    panel.table.doubleClicked.emit(panel.proxy.index(0, 0))
    assert w.selected_row == group.center_row


def test_coverage_panel_shows_the_last_round_and_the_hint(qtbot, window):
    w = window
    s = w.session
    panel = w.explanations.coverage
    w.explanations.lower.setCurrentIndex(w.explanations.coverage_index)
    assert panel.isVisible()
    history = coverage_history(s.rounds)
    last = history[-1]
    assert panel.coverage == last
    assert panel.values["share"].text() == f"{last.labeled_share:.0%}"
    assert panel.values["new"].text() == f"{last.new_regions} of {BATCH}"
    assert panel.values["changed"].text() == f"{last.changed_region:,}"
    assert panel.values["predictions"].text() == f"{last.prediction_change:.1%}"
    hint = stopping_hint(history)
    assert panel.hint_label.text() == hint.message
    assert f"Coverage after round {len(s.rounds)}" in panel.title.text()


def test_coverage_panel_turns_green_when_it_could_stop(qtbot, window, monkeypatch):
    from dami_gui.app.panels import coverage_panel

    monkeypatch.setattr(
        coverage_panel, "stopping_hint", lambda _h: StoppingHint(True, "You could stop: test.")
    )
    panel = CoveragePanel()
    qtbot.addWidget(panel)
    panel.set_session(window.session)
    assert panel.hint_label.text() == "✔ You could stop: test."
    assert panel.hint_label.styleSheet() == STOP_STYLE


def test_conflict_is_listed_and_clicking_selects_the_row(qtbot, window):
    w = window
    s = w.session
    last = s.last_round
    ids = last.region_ids
    free = (s.labels < 0) & ~s.skipped
    free[s.queries] = False
    uniq, counts = np.unique(ids[free], return_counts=True)
    region = uniq[np.argmax(counts)]
    a, b = (int(r) for r in np.flatnonzero(free & (ids == region))[:2])
    s.label(a, 0)
    s.label(b, 1)  # same exact region, different labels
    panel = w.explanations.conflicts
    qtbot.waitUntil(lambda: panel.item_for_row(b) is not None, timeout=5_000)
    conflict = next(c for c in panel.conflicts if a in c.rows)
    assert b in conflict.rows
    assert conflict.labels[s.classes[0]] >= 1 and conflict.labels[s.classes[1]] >= 1
    n = len(panel.conflicts)
    assert w.explanations.tabs.tabText(w.explanations.conflicts_index) == f"Conflicts ({n})"
    assert not w.explanations.coverage.conflicts.isHidden()  # in the Coverage tab
    assert "labeling mistake" in panel.intro.text()

    w.explanations.coverage.conflicts.linkActivated.emit("conflicts")  # the link beside the curve
    assert w.explanations.tabs.currentWidget() is panel
    item = panel.item_for_row(b)
    rect = panel.tree.visualItemRect(item)
    qtbot.mouseClick(panel.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert w.selected_row == b
    assert w.map.selected == b and w.labels.row_panel.row == b
    assert w.explanations.why.explanation.row == b

    s.undo()  # b unlabeled again: the conflict goes away
    qtbot.waitUntil(lambda: panel.item_for_row(b) is None, timeout=5_000)
    assert w.explanations.coverage.conflicts.isHidden() != bool(panel.conflicts)


def test_missing_region_ids_are_computed_off_the_gui_thread(qtbot, window):
    """A round without its region ids (an older round of a reopened project): the bars show at
    once, the region figures once a worker has recomputed the ids."""
    from dami_gui.app.panels.conflicts_panel import ConflictsPanel
    from dami_gui.app.panels.explain_panel import ExplainPanel
    from dami_gui.app.panels.round_view import RoundCache

    s = window.session
    last = s.last_round
    ids = last.region_ids
    last.region_ids = np.zeros(0, np.int64)
    try:
        cache = RoundCache()
        why = ExplainPanel(window.colors, cache)
        conflicts = ConflictsPanel(window.colors, cache)
        qtbot.addWidget(why)
        qtbot.addWidget(conflicts)
        why.set_session(s)
        conflicts.set_session(s)
        row = int(s.queries[0])
        with qtbot.waitSignal(cache.ready, timeout=30_000):
            why.show_row(row)
            assert "being worked out" in why.details.text()
            assert why.explanation is not None and why.chart.values  # the bars need no regions
        np.testing.assert_array_equal(cache.region_ids(s), ids)
        assert why.explanation.region_size == int((ids == ids[row]).sum())
        assert "being worked out" not in why.details.text()
        assert "exact region" in conflicts.status.text() or conflicts.conflicts
    finally:
        last.region_ids = ids
