"""A big pool drawn as a density image: the counting itself (plain numpy), the grid index for
picking, and the map widget in density mode (a lowered threshold on a small session)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from dami_gui.app.map import view as map_view
from dami_gui.app.map.density import MIN_ALPHA, colour_pixels, count_pixels, density_image
from dami_gui.app.map.drawing import style_codes
from dami_gui.app.map.picking import PointIndex
from dami_gui.app.map.pool_image import style_colours
from dami_gui.app.map.view import MapView
from dami_gui.core.embedding import pca_layout
from dami_gui.core.session import Session

from .conftest import clustered_session, shown_map

N = 3_000
LOW = 1_000  # the lowered threshold: N rows are a "big" pool

# -- the counting (plain numpy) -------------------------------------------------------------


def test_counts_and_dominant_code_per_pixel():
    # a 4 x 2 image over [0, 4) x [0, 2): one unit per pixel
    x = np.array([0.5, 0.5, 0.5, 0.2, 3.9, 3.9, 1.5, 9.0, -0.1])
    y = np.array([0.5, 0.5, 0.5, 0.9, 1.5, 1.5, 0.5, 0.5, 0.5])
    codes = np.array([7, 7, 2, 2, 5, 3, 4, 1, 1])
    counts, dominant = count_pixels(x, y, codes, (0, 4), (0, 2), (4, 2))
    expected = np.zeros((4, 2), dtype=np.int64)
    expected[0, 0], expected[3, 1], expected[1, 0] = 4, 2, 1  # the last two rows are outside
    np.testing.assert_array_equal(counts, expected)
    assert dominant[0, 0] == 2  # a 2-2 tie between 7 and 2: the smaller code wins
    assert dominant[3, 1] == 3  # a 1-1 tie as well
    assert dominant[1, 0] == 4
    assert (dominant[counts == 0] == -1).all()
    # three of one code beat one of another
    counts, dominant = count_pixels(
        x[:3].repeat(2), y[:3].repeat(2), [9, 9, 1, 1, 1, 1], (0, 4), (0, 2), (4, 2)
    )
    assert counts[0, 0] == 6 and dominant[0, 0] == 1


def test_priority_rows_win_their_pixel_and_one_code_is_shortcut():
    x, y = np.full(5, 0.5), np.full(5, 0.5)
    codes = np.array([1, 1, 1, 1, 6])
    _, dominant = count_pixels(x, y, codes, (0, 1), (0, 1), (1, 1))
    assert dominant[0, 0] == 1
    priority = np.array([False, False, False, False, True])
    _, dominant = count_pixels(x, y, codes, (0, 1), (0, 1), (1, 1), priority)
    assert dominant[0, 0] == 6
    counts, dominant = count_pixels(x, y, np.full(5, 4), (0, 2), (0, 2), (2, 2))
    assert counts[0, 0] == 5 and dominant[0, 0] == 4 and dominant[1, 1] == -1


def test_empty_view_and_bad_shape():
    counts, dominant = count_pixels(
        np.empty(0), np.empty(0), np.empty(0, int), (0, 1), (0, 1), (3, 2)
    )
    assert counts.shape == (3, 2) and not counts.any() and (dominant == -1).all()
    with pytest.raises(ValueError, match="shape must be two positive sizes"):
        count_pixels(np.zeros(1), np.zeros(1), np.zeros(1, int), (0, 1), (0, 1), (0, 5))


def test_colours_opacity_grows_with_the_count_and_pale_colours_mix_with_white():
    counts = np.array([[0, 1], [30, 0]])
    dominant = np.array([[-1, 0], [1, -1]])
    colours = np.array([[255, 0, 0, 255], [0, 0, 255, 127]], dtype=np.uint8)
    image = colour_pixels(counts, dominant, colours, grow=0)
    assert image.shape == (2, 2, 4) and image.dtype == np.uint8
    assert tuple(image[0, 1]) == (255, 0, 0, round(255 * MIN_ALPHA))
    assert tuple(image[1, 0, :3]) == (128, 128, 255)  # half-transparent blue: paler
    assert image[1, 0, 3] == 255  # the densest pixel is opaque
    assert image[0, 0, 3] == 0 and image[1, 1, 3] == 0


def test_grow_spreads_a_lone_pixel_into_a_dot_without_covering_drawn_pixels():
    counts = np.zeros((7, 7), dtype=np.int64)
    dominant = np.full((7, 7), -1)
    counts[3, 3], dominant[3, 3] = 1, 0
    counts[0, 0], dominant[0, 0] = 5, 1
    colours = np.array([[255, 0, 0, 255], [0, 128, 0, 255]], dtype=np.uint8)
    image = colour_pixels(counts, dominant, colours, grow=1)
    drawn = image[:, :, 3] > 0
    assert drawn[2:5, 2:5].all()  # the lone red pixel is a 3 x 3 dot
    assert (image[2:5, 2:5, 0] == 255).all()
    assert tuple(image[0, 0, :3]) == (0, 128, 0)  # the green one keeps its own colour
    assert int(drawn.sum()) == 9 + 4  # the green corner pixel grew into its 3 neighbours
    same = density_image(
        np.array([3.5, 0.5, 0.5, 0.5, 0.5, 0.5]),
        np.array([3.5, 0.5, 0.5, 0.5, 0.5, 0.5]),
        np.array([0, 1, 1, 1, 1, 1]),
        colours,
        (0, 7),
        (0, 7),
        (7, 7),
        grow=1,
    )
    np.testing.assert_array_equal(same, image)


# -- the grid index --------------------------------------------------------------------------


def test_point_index_finds_the_nearest_row_within_the_radius_like_a_full_search():
    rng = np.random.default_rng(3)
    positions = np.concatenate([rng.normal(size=(4_000, 2)), rng.normal(5, 0.01, (500, 2))])
    positions[7] = np.nan  # a row without a position is never found
    index = PointIndex(positions)
    pixel = (0.01, 0.02)
    for _ in range(200):
        x, y = rng.uniform(-3, 6), rng.uniform(-3, 6)
        d2 = ((positions[:, 0] - x) / pixel[0]) ** 2 + ((positions[:, 1] - y) / pixel[1]) ** 2
        d2 = np.nan_to_num(d2, nan=np.inf)
        best = int(np.argmin(d2))
        expected = best if d2[best] <= 8.0**2 else None
        assert index.nearest(x, y, pixel, 8.0) == expected
    assert index.nearest(100.0, 100.0, pixel, 8.0) is None
    row = 4_100
    assert index.nearest(*positions[row], pixel, 8.0) == row


# -- the map in density mode ------------------------------------------------------------------


@pytest.fixture(scope="module")
def session() -> Session:
    return clustered_session(N, ["a", "b", "c"], 5, labeled=20, batch=10, seed=0)


def plain_rows(s: Session) -> np.ndarray:
    plain = (s.labels < 0) & ~s.skipped
    plain[s.queries] = False
    return np.flatnonzero(plain)


def make_view(qtbot, s: Session, threshold: int = LOW) -> MapView:
    return shown_map(qtbot, s, density_above=threshold)


def pixel_of(view: MapView, x: float, y: float) -> tuple[int, int]:
    rect, (width, height) = view.pool_image.rect, view.pool_image.shape
    return (
        int((x - rect.left()) / rect.width() * width),
        int((y - rect.top()) / rect.height() * height),
    )


def test_above_the_threshold_the_pool_is_an_image_and_the_few_special_rows_points(qtbot, session):
    s = session
    view = make_view(qtbot, s)
    view.set_layout(pca_layout(s.dataset.X), "PCA")
    assert view.dense and view.pool_image.active and view.pool_image.item.isVisible()
    assert view.pool_image.item.image is not None
    # the scatter holds the labeled rows and the queries only, queries last (on top)
    assert len(view.order) == s.n_labeled + len(s.queries) < N
    assert len(view.scatter.data) == len(view.order)
    assert view.order[-len(s.queries) :].tolist() == s.queries.tolist()
    assert [t.toPlainText() for t in view.numbers if t.isVisible()] == [
        str(i) for i in range(1, len(s.queries) + 1)
    ]
    assert len(view.pool_image.x) == len(plain_rows(s))
    view.set_selected(int(plain_rows(s)[0]))
    assert view.target.isVisible()
    assert "per screen pixel" in view.legend.text()


def test_below_the_threshold_the_scatter_draws_every_row_and_no_image(qtbot, session):
    s = session
    view = make_view(qtbot, s, threshold=map_view.DENSITY_ABOVE)
    assert N <= map_view.DENSITY_ABOVE
    view.set_layout(pca_layout(s.dataset.X), "PCA")
    assert not view.dense and not view.pool_image.active
    assert not view.pool_image.item.isVisible()
    assert len(view.order) == N and len(view.scatter.data) == N
    assert "per screen pixel" not in view.legend.text()


def test_each_pixel_takes_the_colour_most_of_its_rows_have(qtbot, session):
    s = session
    view = make_view(qtbot, s)
    plain = plain_rows(s)
    # the colour each plain row has as a dot: the map's own style codes and brushes
    colours = style_colours(view.styles.table)[style_codes(s, plain, "groups", view.styles, None)]
    words = colours.view("<u4").reshape(-1)
    kinds, counts = np.unique(words, return_counts=True)
    assert len(kinds) >= 2 and np.sort(counts)[-2] >= 3
    first_word, second_word = kinds[np.argsort(-counts)[:2]]
    first = plain[words == first_word][:3]
    second = plain[words == second_word][:3]
    first_rgb = tuple(colours[words == first_word][0, :3])
    second_rgb = tuple(colours[words == second_word][0, :3])

    def colour_at_origin(positions: np.ndarray) -> tuple[int, ...]:
        view.set_layout(positions, "PCA")
        view.viewbox.setRange(xRange=(-1.0, 1.0), yRange=(-1.0, 1.0), padding=0)
        view.pool_image.render()
        i, j = pixel_of(view, 0.0, 0.0)
        pixel = view.pool_image.item.image[i, j]
        assert pixel[3] > 0
        return tuple(pixel[:3])

    # every row far away, then three of one colour and two of another on one spot
    positions = np.zeros((N, 2), dtype=np.float32)
    positions[:, 0] = np.linspace(10.0, 20.0, N)
    positions[:, 1] = 10.0
    positions[first] = (0.0, 0.0)
    positions[second[:2]] = (0.0, 0.0)
    assert colour_at_origin(positions) == first_rgb
    # one of the first moves away and the third of the second comes: the pixel turns
    positions[first[0]] = (0.5, 0.5)
    positions[second[2]] = (0.0, 0.0)
    assert colour_at_origin(positions) == second_rgb


def test_zoom_renders_the_image_again_at_the_new_range(qtbot, session):
    s = session
    view = make_view(qtbot, s)
    view.set_layout(pca_layout(s.dataset.X), "PCA")
    before = view.pool_image.render_count
    rect = view.pool_image.rect
    view.viewbox.scaleBy((0.25, 0.25))
    qtbot.waitUntil(lambda: view.pool_image.render_count > before, timeout=2_000)
    after = view.pool_image.rect
    assert after.width() == pytest.approx(rect.width() / 4, rel=0.02)
    assert after.height() == pytest.approx(rect.height() / 4, rel=0.02)
    # one image pixel per screen pixel: the shape follows the widget, the extent the view
    assert view.pool_image.shape == (round(view.viewbox.width()), round(view.viewbox.height()))
    counts_zoomed = int((view.pool_image.item.image[:, :, 3] > 0).sum())
    assert counts_zoomed > 0
    # the render read only the rows between the view's edges: the same image as from all rows
    image = view.pool_image
    full = density_image(
        image.x,
        image.y,
        image.codes,
        image.colours,
        (after.left(), after.right()),
        (after.top(), after.bottom()),
        image.shape,
        None,
        image.GROW,
    )
    np.testing.assert_array_equal(image.item.image, full)
    view.resize(400, 300)
    qtbot.waitUntil(lambda: view.pool_image.shape[0] < 600, timeout=2_000)


def test_a_click_on_the_image_selects_the_nearest_row(qtbot, session):
    s = session
    view = make_view(qtbot, s)
    view.set_layout(pca_layout(s.dataset.X), "PCA")
    row = int(plain_rows(s)[5])
    # zoomed in on the row, so that no other row lies within a pixel of it
    x, y = (float(v) for v in view.positions[row])
    view.viewbox.setRange(xRange=(x - 0.05, x + 0.05), yRange=(y - 0.05, y + 0.05), padding=0)
    assert view.row_at(view.scene_pos_of(row)) == row
    assert view.row_at(view.scene_pos_of(row) + QPointF(3, -2)) == row  # a few pixels off
    clicked: list[int] = []
    view.rowClicked.connect(clicked.append)
    plot = view.plot
    qtbot.mouseClick(
        plot.viewport(), Qt.MouseButton.LeftButton, pos=plot.mapFromScene(view.scene_pos_of(row))
    )
    assert clicked == [row]
    # the queries' rings are drawn on top and win over the image beneath
    query = int(s.queries[0])
    view.reset_view()
    assert view.row_at(view.scene_pos_of(query)) == query


def test_labeling_a_plain_row_makes_it_a_point_and_highlights_show(qtbot, session, monkeypatch):
    s = session
    view = make_view(qtbot, s)
    view.set_layout(pca_layout(s.dataset.X), "PCA")
    row = int(plain_rows(s)[0])
    s.label(row, 1)
    try:
        qtbot.waitUntil(lambda: row in set(view.order.tolist()), timeout=2_000)
        assert row not in set(plain_rows(s).tolist())
        assert len(view.pool_image.x) == len(plain_rows(s))
    finally:
        s.undo()
    # answering a query restyles its point only: no full redraw, no new image
    query = int(s.queries[0])
    refreshes, renders = view.refresh_count, view.pool_image.render_count
    s.label(query, 2)
    try:
        assert view.refresh_count == refreshes and view.pool_image.render_count == renders
        assert view.scatter.data["brush"][view._slot[query]] is view.class_brush(2)
    finally:
        s.undo()
    assert view.scatter.data["brush"][view._slot[query]] is not view.class_brush(2)
    # a small group highlighted: its rows are points too; a big one only in the image
    group = plain_rows(s)[:50]
    view.set_highlight(group)
    assert set(group.tolist()) <= set(view.order.tolist())
    assert view.pool_image.priority is not None and view.pool_image.priority.sum() == 50
    monkeypatch.setattr(map_view, "HIGHLIGHT_POINTS_MAX", 10)
    view.set_highlight(plain_rows(s)[:60])
    assert len(view.order) == s.n_labeled + len(s.queries)
    assert view.pool_image.priority is not None and view.pool_image.priority.sum() == 60
    view.set_highlight(None)
    assert view.pool_image.priority is None
