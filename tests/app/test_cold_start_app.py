"""Round 1 without a label: the app shows no model output (no guess, no confidence, no network
explanation, no colour from a network), only typical rows of the pool to label first."""

from __future__ import annotations

import numpy as np

from dami_gui.app.palette import GREY
from dami_gui.app.panels.query_table import COL_CONFIDENCE, COL_PREDICTION

from .conftest import BATCH, answer_until_a_model


def test_round_one_without_labels_shows_no_model_output(qtbot, demo_window):
    w = demo_window
    s = w.session
    (first,) = s.rounds
    assert s.n_labeled == 0 and first.cold_start and not first.has_model
    assert "that cover the pool (no model yet" in w.status.text()

    # the table: no guess and no confidence, even when guesses are asked for
    w.labels.show_guesses.setChecked(True)
    model = w.labels.model
    for position in range(BATCH):
        for col in (COL_PREDICTION, COL_CONFIDENCE):
            assert model.data(model.index(position, col)) == ""

    # the card: the row's values, the reason, no guess to show or accept
    row = int(s.queries[0])
    w.select_row(row)
    card = w.labels.row_panel
    assert "typical row of an unexplored part of the pool" in card.why.toolTip()
    assert "No model yet" in card.guess.text() and not card.guess_button.isVisible()
    assert card.model.rowCount() == len(s.dataset.frame.columns)
    w.labels.table.setFocus()
    qtbot.keyClick(w.labels.table, "a")  # A: nothing to accept, nothing labeled
    assert s.labels[row] == -1 and "no model yet" in w.labels.key_message.text()

    # no network explanation, no regions, no conflicts
    why = w.explanations.why
    assert why.explanation is None and not why.chart.values
    assert "No model yet" in why.title.text()
    assert "No model yet" in w.explanations.regions.summary.text()
    assert w.explanations.regions.model.rowCount() == 0

    # the map: no colour from a network; every row not labeled is a grey dot
    view = w.map
    assert view.styles.colouring is None and not view.families.isVisible()
    plain = np.setdiff1d(np.arange(s.n_rows), s.queries)
    brushes = view.scatter.data["brush"][view._slot[plain]]
    assert {b.color().name() for b in brushes} == {GREY}
    assert view.legend.text().startswith("No model yet")
    for mode in ("regions", "prediction"):
        view.set_mode(mode)
        brushes = view.scatter.data["brush"][view._slot[plain]]
        assert {b.color().name() for b in brushes} == {GREY}
    view.set_mode("groups")

    # nothing to export or apply, no point on the curve, no coverage figures
    w.project_menu.update()
    w.predictions.update()
    assert not w.project_menu.export_model_action.isEnabled()
    assert not w.predictions.action.isEnabled()
    assert w.curve.points() == ([], [])
    assert "no model yet" in w.explanations.coverage.title.text()

    # once rows of two classes are labeled the next round has a model, and it shows
    answer_until_a_model(qtbot, w)
    assert s.last_round.has_model and view.styles.colouring is not None
    w.select_row(int(s.queries[0]))
    assert card.guess_button.isVisible()  # the guess is there, on request
