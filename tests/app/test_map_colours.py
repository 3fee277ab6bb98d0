"""Region colours a person can read: 80 DAMI groups in a dozen family hues, a legend that lists
the families, hover that names the exact group, and a click that outlines a family or a group."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor

from dami_gui.app.cell_text import counted
from dami_gui.app.map.colouring import Colouring, colouring
from dami_gui.app.map.legend import MapLegend
from dami_gui.app.map.view import MapView
from dami_gui.app.palette import CLASS_COLORS, GREY, ClassColors, class_color, shades
from dami_gui.core.embedding import pca_layout
from dami_gui.core.families import MAX_FAMILIES, group_families
from dami_gui.core.session import Session

from .conftest import clustered_session, shown_map

CLASSES = ["alpha", "beta", "gamma", "delta", "epsilon"]


@pytest.fixture(scope="module")
def many_groups() -> Session:
    """A pool of 3,000 rows after a round with 60 labels and 20 picks: 80 DAMI groups."""
    return clustered_session(3000, CLASSES, 6, labeled=60, batch=20, seed=1)


@pytest.fixture
def view(qtbot, many_groups) -> MapView:
    view = shown_map(qtbot, many_groups, size=(1000, 650))
    view.set_layout(pca_layout(many_groups.dataset.X), "PCA")
    return view


def _plain_slots(view: MapView, s: Session) -> np.ndarray:
    """Scatter slots of the plain pool dots (not labeled, not sure, not a query)."""
    plain = (s.labels < 0) & ~s.skipped
    plain[np.asarray(s.queries)] = False
    return view._slot[np.flatnonzero(plain)]


def test_eighty_groups_show_at_most_a_dozen_hues_each_the_predicted_class(view, many_groups):
    s = many_groups
    partition = np.asarray(s.last_round.partition)
    assert len(np.unique(partition)) >= 40
    brushes = view.scatter.data["brush"][_plain_slots(view, s)]
    colours = {b.color().name() for b in brushes}
    hues = {QColor(c).hslHue() for c in colours}
    assert len(hues) <= MAX_FAMILIES
    # each family has the hue of its class (family = predicted class with 5 classes)
    found = colouring(s, "groups", view.colors)
    assert found is not None and view.styles.colouring is found
    for f, (classes,) in enumerate(found.families.classes):
        class_hue = QColor(view.colors[classes]).hslHue()
        for g in found.families.groups[f]:
            assert abs(QColor(found.colours[g]).hslHue() - class_hue) <= 2
    # shades tell the groups of one family apart: one colour per group in a family
    for chain in found.families.groups:
        assert len({found.colours[g] for g in chain}) == len(chain)


def test_the_legend_lists_the_families_with_their_rows(view, many_groups):
    found = view.styles.colouring
    entries = view.families.family_entries()
    assert len(entries) == found.families.n_families <= MAX_FAMILIES
    for f, text in enumerate(entries):
        (k,) = found.families.classes[f]
        assert text.startswith(CLASSES[k]) and text.endswith(str(len(found.families.groups[f])))
    tree = view.families.tree
    assert sum(int(tree.topLevelItem(i).text(1).replace(",", "")) for i in range(len(entries))) == (
        many_groups.n_rows
    )


def test_hover_names_the_exact_group_its_family_and_size(view, many_groups):
    s = many_groups
    partition = np.asarray(s.last_round.partition)
    row = int(np.flatnonzero(s.labels < 0)[0])
    g = int(partition[row])
    found = view.styles.colouring
    family = found.family_names[int(found.families.family[g])]
    tip = view.tooltip_for(row)
    assert f"DAMI group {g + 1}: {int((partition == g).sum()):,} rows" in tip
    assert f"the {family} family" in tip


def test_clicking_a_legend_family_then_a_group_outlines_exactly_their_rows(
    qtbot, view, many_groups
):
    s = many_groups
    partition = np.asarray(s.last_round.partition)
    found = view.styles.colouring
    tree = view.families.tree
    family_item = tree.topLevelItem(1)
    qtbot.mouseClick(
        tree.viewport(), Qt.MouseButton.LeftButton, pos=tree.visualItemRect(family_item).center()
    )
    expected = np.flatnonzero(np.isin(partition, found.families.groups[1]))
    np.testing.assert_array_equal(view.highlighted_rows(), expected)
    assert f"{len(expected):,} rows outlined" in view.families.detail.text()

    family_item.setExpanded(True)
    child = family_item.child(0)
    qtbot.mouseClick(
        tree.viewport(), Qt.MouseButton.LeftButton, pos=tree.visualItemRect(child).center()
    )
    g = found.families.groups[1][0]
    np.testing.assert_array_equal(view.highlighted_rows(), np.flatnonzero(partition == g))
    assert str(s.dataset.ids[np.flatnonzero(partition == g)[0]]) in view.families.detail.text()

    # another colour mode drops the legend's outline with its colours
    view.set_mode("regions")
    assert view.highlight is None and view.families.chosen is None
    view.set_mode("groups")
    family_item = tree.topLevelItem(1)  # the legend was rebuilt
    family_item.setExpanded(True)
    child = family_item.child(0)
    qtbot.mouseClick(
        tree.viewport(), Qt.MouseButton.LeftButton, pos=tree.visualItemRect(child).center()
    )
    np.testing.assert_array_equal(view.highlighted_rows(), np.flatnonzero(partition == g))
    # the same entry again clears the outline
    qtbot.mouseClick(
        tree.viewport(), Qt.MouseButton.LeftButton, pos=tree.visualItemRect(child).center()
    )
    assert view.highlight is None and view.families.detail.text() == ""


class _Click:
    """A left click at a scene position, with keyboard modifiers (what the scene hands over)."""

    def __init__(self, pos: QPointF, modifiers: Qt.KeyboardModifier) -> None:
        self._pos, self._modifiers = pos, modifiers

    def button(self) -> Qt.MouseButton:
        return Qt.MouseButton.LeftButton

    def scenePos(self) -> QPointF:
        return self._pos

    def modifiers(self) -> Qt.KeyboardModifier:
        return self._modifiers


def test_shift_click_on_a_dot_outlines_its_group_a_plain_click_selects_the_row(
    qtbot, view, many_groups
):
    s = many_groups
    partition = np.asarray(s.last_round.partition)
    query = int(s.queries[0])
    view.plot.grab()
    pos = view.scene_pos_of(query)
    with qtbot.assertNotEmitted(view.rowClicked):
        view._mouse_clicked(_Click(pos, Qt.KeyboardModifier.ShiftModifier))
    np.testing.assert_array_equal(
        view.highlighted_rows(), np.flatnonzero(partition == partition[query])
    )
    with qtbot.waitSignal(view.rowClicked) as clicked:
        view._mouse_clicked(_Click(pos, Qt.KeyboardModifier.NoModifier))
    assert clicked.args == [query]


def test_regions_mode_colours_the_largest_regions_by_family(view, many_groups):
    view.set_mode("regions")
    found = view.styles.colouring
    assert found is not None and found.unit == "region"
    assert found.n_units <= 12 and view.families.family_entries()
    brushes = view.scatter.data["brush"][_plain_slots(view, many_groups)]
    assert len({QColor(b.color().name()).hslHue() for b in brushes}) <= MAX_FAMILIES + 1  # + grey
    view.set_mode("prediction")
    assert view.styles.colouring is None and not view.families.isVisible()


def test_a_legend_family_selects_its_groups_in_the_regions_tab(qtbot, model_window):
    w = model_window
    found = w.map.styles.colouring
    assert found is not None and found.families.n_families
    before = w.map.refresh_count
    w.map.families.choose_family(0)
    chosen = sorted(g.index for g in w.explanations.regions.selected_groups())
    assert chosen == sorted(found.families.groups[0])
    np.testing.assert_array_equal(w.map.highlighted_rows(), found.rows_of_family(0))
    assert w.map.refresh_count == before + 1  # the Regions tab's echo redraws nothing
    # the Regions tab's Clear drops the outline and the legend's choice
    w.explanations.regions.clear_button.click()
    assert w.map.highlight is None and w.map.families.chosen is None


def test_the_regions_tab_swatches_are_the_map_colours(model_window):
    w = model_window
    found = w.map.styles.colouring
    model = w.explanations.regions.model
    assert model.rowCount() >= 5
    for position, group in enumerate(model.groups[:5]):
        icon = model.data(model.index(position, 0), Qt.ItemDataRole.DecorationRole)
        pixel = icon.pixmap(12, 12).toImage().pixelColor(6, 6).name()
        assert pixel == found.colours[group.index]


def test_a_tie_rounds_empty_groups_are_not_counted(qtbot):
    """Every open row copies a labeled row: DAMI+'s tie-rule picks head no group of their own,
    and the legend and the colour note count the same groups, those that hold rows."""
    import pandas as pd

    from dami_gui.core.data.dataset import build_dataset
    from dami_gui.core.data.roles import infer_roles
    from dami_gui.core.model import MLPConfig

    rng = np.random.default_rng(3)
    distinct = rng.normal(size=(6, 2)) * 3
    X = np.repeat(distinct, 10, axis=0)
    y = np.repeat(np.arange(6) % 2, 10)
    frame = pd.DataFrame(X, columns=["a", "b"])
    dataset = build_dataset(frame, infer_roles(frame), classes=["no", "yes"])
    s = Session(
        dataset,
        batch_size=5,
        model_config=MLPConfig(hidden=(16, 16), min_epochs=5, min_steps=30),
        estimate_accuracy=False,
        truth=y,
    )
    for row in range(0, 60, 10):  # one copy of each distinct row
        s.label(row, int(y[row]))
    s.run_round()
    assert s.last_round.info["pick_kinds"] == ["chance"] * 5
    view = shown_map(qtbot, s)
    view.set_layout(pca_layout(X), "PCA")
    partition = np.asarray(s.last_round.partition)
    groups = np.unique(partition).size
    assert len(s.last_round.centers) == 11 and groups <= 6  # the picks' groups are empty
    assert f"for {groups} DAMI groups" in view.families.title.text()
    assert f"({groups} groups of rows" in view.legend.text()
    # an empty group below a full one (a labeled center whose rows all went to a pick's)
    s.last_round.partition = np.where(partition >= 1, partition + 1, partition)
    view.set_session(s)
    assert f"for {groups} DAMI groups" in view.families.title.text()
    assert f"({groups} groups of rows" in view.legend.text()


# ------------------------------------------------------- no class black or grey; counts


def is_greyish(colour: str) -> bool:
    """A colour that reads as grey or black: no hue, almost none, or too dark to see it."""
    c = QColor(colour)
    return c.hslHueF() < 0 or c.hslSaturationF() < 0.25 or c.lightnessF() < 0.28


def test_no_default_class_colour_nor_any_of_its_shades_is_black_or_grey():
    for index in range(2 * len(CLASS_COLORS)):
        colour = class_color(index)
        assert not is_greyish(colour), (index, colour)
        for n in (1, 2, 5, 12, 30):
            for shade in shades(colour, n):
                assert not is_greyish(shade) and shade.lower() != GREY.lower(), (colour, shade)


@pytest.fixture(scope="module")
def eight_classes() -> Session:
    """Eight well-separated classes, 80 labels, a network that learns them all."""
    import pandas as pd

    from dami_gui.core.data.dataset import build_dataset
    from dami_gui.core.data.roles import infer_roles
    from dami_gui.core.model import MLPConfig

    rng = np.random.default_rng(3)
    centers = rng.normal(size=(8, 4)) * 6
    y = rng.integers(0, 8, 1600)
    frame = pd.DataFrame(centers[y] + rng.normal(size=(1600, 4)), columns=list("abcd"))
    dataset = build_dataset(frame, infer_roles(frame), classes=[f"class {i}" for i in range(8)])
    config = MLPConfig(hidden=(32, 32), min_epochs=20, min_steps=200)
    session = Session(dataset, batch_size=16, model_config=config, estimate_accuracy=False)
    for row in rng.choice(1600, 80, replace=False):
        session.label(int(row), int(y[row]))
    session.run_round()
    return session


def eight_class_map(qtbot, session: Session, colours: ClassColors) -> MapView:
    view = MapView(colours)
    qtbot.addWidget(view)
    view.resize(900, 600)
    view.show()
    view.set_session(session)
    view.set_layout(pca_layout(session.dataset.X), "PCA")
    return view


def test_with_eight_classes_every_family_of_groups_has_a_hue(qtbot, eight_classes):
    view = eight_class_map(qtbot, eight_classes, ClassColors())
    found = view.styles.colouring
    assert found is not None
    assert (7,) in found.families.classes  # the eighth class has groups of its own
    eighth = found.families.classes.index((7,))
    assert not any(is_greyish(c) for c in found.family_colours[eighth])
    used = {found.colours[g] for g in np.flatnonzero(found.families.group_size > 0)}
    assert used and not any(is_greyish(c) for c in used)
    plain = _plain_slots(view, eight_classes)
    drawn = {b.color().name() for b in view.scatter.data["brush"][plain]}
    assert not any(is_greyish(c) for c in drawn)  # no dot of a group reads as "not coloured"


def test_a_class_the_user_coloured_black_gets_a_hue_for_its_groups(qtbot, eight_classes):
    colours = ClassColors()
    colours.set(7, "#000000")
    view = eight_class_map(qtbot, eight_classes, colours)
    found = view.styles.colouring
    family = found.families.classes.index((7,))
    assert not any(is_greyish(c) for c in found.family_colours[family])
    taken = {colours[i].lower() for i in range(8)}
    assert QColor(found.family_colours[family][0]).hslHueF() >= 0  # a stand-in palette hue
    assert not taken & {c.lower() for c in found.family_colours[family]}
    assert view.class_brush(7).color().name() == "#000000"  # labeled rows: the user's colour


def test_counts_are_written_with_the_right_noun(qtbot, many_groups):
    assert counted(1, "colour") == "1 colour" and counted(7, "colour") == "7 colours"
    assert counted(1, "DAMI group") == "1 DAMI group" and counted(1200, "row") == "1,200 rows"
    rows = many_groups.n_rows
    fam = group_families(np.zeros(rows, np.int64), np.zeros(rows, np.int64), np.zeros((1, 2)))
    one = Colouring("groups", "group", np.zeros(rows, np.int64), ["#0072B2"], fam, ["alpha"],
                    [["#0072B2"]])  # fmt: skip
    legend = MapLegend()
    qtbot.addWidget(legend)
    legend.set_colouring(many_groups, one)
    assert legend.title.text() == "<b>1 colour</b> for 1 DAMI group"


def test_after_a_round_the_legend_header_and_its_list_change_together(qtbot, model_window):
    """The header never counts the new round's families above the old round's list."""
    w = model_window
    s = w.session
    legend = w.map.families
    seen: list[tuple[str, list[str]]] = []
    real = legend.title.setText

    def spy(text: str) -> None:
        real(text)
        if text:
            seen.append((text, legend.family_entries()))

    legend.title.setText = spy
    with qtbot.waitSignal(w.rounds.committed, timeout=120_000):
        for row in s.queries.copy():
            s.label(int(row), int(s.truth[row]))
    found = w.map.styles.colouring
    assert seen, "the header was not set after the round"
    for text, entries in seen:
        families = int(text.split("</b>")[0].removeprefix("<b>").split()[0])
        assert families == len(entries)  # the list under it holds what it counts
    assert seen[-1][1] == [
        f"{name} · {len(chain)}"
        for name, chain in zip(found.family_names, found.families.groups, strict=True)
    ]


def test_legend_clear_drops_an_outline_the_regions_tab_asked_for(qtbot, model_window):
    w = model_window
    legend = w.map.families
    assert not legend.clear_button.isEnabled()
    regions = w.explanations.regions
    regions.select_group(0)  # the Regions tab outlines a group on the map
    assert w.map.highlight is not None and legend.chosen is None
    assert legend.clear_button.isEnabled()
    qtbot.mouseClick(legend.clear_button, Qt.MouseButton.LeftButton)
    assert w.map.highlight is None
    assert regions.selected_groups() == []
    assert not legend.clear_button.isEnabled()
