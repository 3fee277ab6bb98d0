"""Per class, beside the learning curve: precision, recall and the confusion matrix from the
round's cross-validated predictions (dami_gui/app/panels/quality_panel.py)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from dami_gui.core.learner import DEFAULT_LEARNER, describe_learning
from dami_gui.core.learner.fidelity import fidelity_share
from dami_gui.core.learner.quality import class_report


def test_per_class_figures_and_the_confusion_matrix_of_the_last_round(qtbot, model_window):
    w = model_window
    s = w.session
    panel = w.explanations.quality
    while s.last_round.cv_predictions is None:  # about ten labels of two classes or more
        assert "appear from about 10 labels" in panel.summary.text()
        with qtbot.waitSignal(w.rounds.committed, timeout=120_000):
            for row in s.queries.copy():
                s.label(int(row), int(s.truth[row]))
    pairs = s.last_round.cv_predictions
    report = class_report(pairs[:, 1], pairs[:, 2], len(s.classes))
    assert f"{len(pairs)} labeled rows" in panel.summary.text()
    assert f"{report.accuracy:.0%}" in panel.summary.text()
    assert report.accuracy == pytest.approx(s.last_round.accuracy_estimate)
    for k, name in enumerate(s.classes):
        assert panel.table.item(k, 0).text() == name
        assert panel.table.item(k, 1).text() == str(int(report.support[k]))
        for col, values in ((2, report.precision), (3, report.recall)):
            value = float(values[k])
            assert panel.table.item(k, col).text() == ("—" if np.isnan(value) else f"{value:.0%}")
    for i in range(len(s.classes)):
        for j in range(len(s.classes)):
            count = int(report.confusion[i, j])
            assert panel.matrix.item(i, j).text() == (str(count) if count else "")
    # a cell clicked: its rows outlined on the map
    i, j = (int(v) for v in np.argwhere(report.confusion > 0)[0])
    rect = panel.matrix.visualItemRect(panel.matrix.item(i, j))
    w.explanations.lower.setCurrentIndex(w.explanations.quality_index)
    qtbot.mouseClick(panel.matrix.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    expected = pairs[(pairs[:, 1] == i) & (pairs[:, 2] == j), 0]
    np.testing.assert_array_equal(w.map.highlighted_rows(), np.sort(expected))


def test_no_figures_without_a_model(qtbot, demo_window):
    panel = demo_window.explanations.quality
    assert panel.report is None and panel.table.rowCount() == 0
    assert "appear from about 10 labels" in panel.summary.text()


def test_each_round_says_how_closely_the_network_follows_the_ensemble(qtbot, model_window):
    w = model_window
    s = w.session
    result = s.last_round
    panel = w.explanations.quality
    fidelity = result.info["fidelity"]
    assert result.info["learner"]["kind"] == "ensemble" and 0.0 <= fidelity <= 1.0
    assert panel.learning.isVisibleTo(panel)
    share = fidelity_share(fidelity)
    shown = panel.learning.text()
    assert f"the ensemble's class on {share} of rows" in shown or f"only {share} of" in shown
    assert panel.learning.toolTip() == describe_learning(DEFAULT_LEARNER, fidelity)
    poor = fidelity < 0.95
    only = "only " if poor else ""
    assert f"agrees with the ensemble on {only}{share} of rows" in w.status.stage.text()
    assert panel.learning.property("poor") is poor and panel.learning.text().startswith("⚠") is poor
    # a round whose network follows the ensemble poorly says so plainly, here and in the status
    result.info["fidelity"] = 0.81
    panel.refresh()
    assert panel.learning.property("poor") is True
    assert panel.learning.text().startswith("⚠ The explained network follows the ensemble poorly")
    assert "only 81 % of rows" in panel.learning.text()
    assert panel.learning.toolTip().startswith("The network follows the ensemble poorly")
    w._round_committed(result)
    assert "agrees with the ensemble on only 81 % of rows" in w.status.stage.text()


def test_the_network_alone_says_so(qtbot, make_window):
    from dami_gui.core.learner import NETWORK_LEARNER

    from .conftest import answer_until_a_model, open_demo

    w = make_window(learner=NETWORK_LEARNER)
    open_demo(qtbot, w)
    answer_until_a_model(qtbot, w)
    text = w.explanations.quality.learning.text()
    assert text == "The network alone learned from the labels."
    assert "ensemble" not in w.status.stage.text()
