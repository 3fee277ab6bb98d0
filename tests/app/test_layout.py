"""A laptop screen: the window fits 1280 x 800 and 1366 x 768, nothing in it is cut, the map is the
biggest panel (dami_gui/app/main_window.py's three columns)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStyle,
    QStyleOptionComboBox,
    QWidget,
)

from dami_gui.app.main_window import FRAME_ALLOWANCE
from tests.app.conftest import open_demo

SCREENS = [(1280, 800), (1366, 768)]


def client_size(screen: tuple[int, int]) -> tuple[int, int]:
    """The room a window has on ``screen`` once the frame, the title and a task bar are off."""
    return screen[0] - FRAME_ALLOWANCE[0], screen[1] - FRAME_ALLOWANCE[1]


def inside_scroll_area(widget: QWidget) -> bool:
    """Whether ``widget`` lives in a scroll area's viewport (there it may be larger, and scroll),
    or is a part of a spin box."""
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QAbstractScrollArea) and parent.viewport().isAncestorOf(widget):
            return True
        if isinstance(parent, QAbstractSpinBox):  # its line edit is the spin box's own business
            return True
        parent = parent.parentWidget()
    return False


def combo_text_room(combo: QComboBox) -> tuple[int, int]:
    """The width of a drop-down box's current text and of the field that shows it (pixels):
    Qt cuts the text with an ellipsis where the first is larger."""
    option = QStyleOptionComboBox()
    combo.initStyleOption(option)
    field = combo.style().subControlRect(
        QStyle.ComplexControl.CC_ComboBox, option, QStyle.SubControl.SC_ComboBoxEditField, combo
    )
    return combo.fontMetrics().horizontalAdvance(combo.currentText()), field.width()


def squeezed(window: QWidget) -> list[str]:
    """Visible widgets smaller than their own minimum (their text or content is cut), or
    reaching outside the window."""
    problems = []
    frame = QRect(QPoint(0, 0), window.size())
    for widget in window.findChildren(QWidget):
        if not widget.isVisible() or widget.window() is not window or inside_scroll_area(widget):
            continue
        if isinstance(widget, QHeaderView):  # a table's header is part of the table
            continue
        policy = widget.sizePolicy()
        hint = widget.minimumSizeHint()
        name = f"{type(widget).__name__}({widget.objectName() or getattr(widget, 'text', str)()!r})"
        ignored = QSizePolicy.Policy.Ignored
        if policy.horizontalPolicy() != ignored and widget.width() < hint.width() - 1:
            problems.append(f"{name}: {widget.width()} px wide, needs {hint.width()}")
        if policy.verticalPolicy() != ignored and widget.height() < hint.height() - 1:
            problems.append(f"{name}: {widget.height()} px high, needs {hint.height()}")
        if isinstance(widget, QLabel) and widget.wordWrap() and widget.text():
            needed = widget.heightForWidth(widget.width())
            if needed > widget.height() + 1:
                problems.append(f"{name}: wrapped text needs {needed} px, has {widget.height()}")
        if isinstance(widget, QPushButton | QCheckBox) and widget.text():
            text = widget.fontMetrics().horizontalAdvance(widget.text().replace("&", ""))
            if text > widget.width():
                problems.append(f"{name}: text {text} px in {widget.width()} px")
        if isinstance(widget, QComboBox) and widget.currentText():
            shown, room = combo_text_room(widget)
            if shown > room:
                problems.append(f"{name}: {widget.currentText()!r} {shown} px in {room} px")
        where = QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())
        if not frame.contains(where):
            problems.append(f"{name}: at {where.getRect()}, outside the window {frame.getRect()}")
    return problems


def test_the_window_fits_a_1280_x_800_and_a_1366_x_768_screen(qtbot, make_window):
    window = make_window()
    open_demo(qtbot, window)
    hint = window.minimumSizeHint()
    for screen in SCREENS:
        width, height = client_size(screen)
        assert hint.width() <= width and hint.height() <= height, (screen, hint)


@pytest.mark.parametrize("screen", [*SCREENS, (1920, 1080)])
def test_at_laptop_sizes_nothing_is_cut_and_the_map_is_the_biggest_panel(
    qtbot, make_window, screen
):
    window = make_window()
    open_demo(qtbot, window)
    w, h = client_size(screen)
    window.resize(w, h)
    qtbot.waitUntil(lambda: window.width() == w and window.height() == h, timeout=5_000)
    session = window.session
    window.select_row(int(session.queries[0]))  # the card and "Why this row" show a query
    qtbot.wait(50)
    problems = squeezed(window)
    assert not problems, "\n".join(problems)
    panes = [window.splitter.widget(i) for i in range(window.splitter.count())]
    areas = [pane.width() * pane.height() for pane in panes]
    assert areas[0] == max(areas) and areas[0] > 1.3 * max(areas[1:]), areas
    plot = window.map.plot
    plot_area = plot.width() * plot.height()
    for other in (window.labels.table, window.labels.row_panel, window.explanations.why):
        assert plot_area > other.width() * other.height(), type(other).__name__
    # the query table shows the row's id first, whole
    table = window.labels.table
    header = table.horizontalHeader()
    first = str(session.dataset.ids[int(session.queries[0])])
    assert header.sectionViewportPosition(1) + header.sectionSize(1) <= table.viewport().width()
    assert table.fontMetrics().horizontalAdvance(first) < header.sectionSize(1)


def test_every_title_offered_in_the_round_settings_can_be_read_whole_at_1280_x_800(
    qtbot, make_window
):
    """Not only the chosen one: each strategy, learner and network a user can pick is shown
    whole in its box once picked (the longer description is the item's tooltip)."""
    window = make_window()
    open_demo(qtbot, window)
    w, h = client_size(SCREENS[0])
    window.resize(w, h)
    qtbot.waitUntil(lambda: window.width() == w and window.height() == h, timeout=5_000)
    settings = window.settings
    cut = []
    for combo in (settings.strategy, settings.learner, settings.network):
        _, room = combo_text_room(combo)
        for i in range(combo.count()):
            text = combo.itemText(i)
            if combo.fontMetrics().horizontalAdvance(text) > room:
                cut.append(f"{text!r}: {combo.fontMetrics().horizontalAdvance(text)} > {room} px")
    assert not cut, "\n".join(cut)
