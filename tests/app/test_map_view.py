"""The map at scale: 100k points build and update without freezing; bigger pools are an image.

The point path is tested at 100k rows with the density threshold raised above them (at the
default threshold a pool of this size is drawn as a density image; test_map_density.py).
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtCore import QPointF

from dami_gui.app.map.view import MapView
from dami_gui.core.embedding import pca_layout
from dami_gui.core.session import Session

from .conftest import clustered_session, shown_map

N = 100_000


@pytest.fixture(scope="module")
def big_session() -> Session:
    return clustered_session(N, ["a", "b", "c"], 5, labeled=30, batch=20, seed=0)


def shown_view(qtbot, session: Session) -> MapView:
    """A map of ``session``, shown at 800 x 600, every row a point."""
    return shown_map(qtbot, session, density_above=N)


def test_map_builds_and_updates_100k_points(qtbot, big_session):
    s = big_session
    view = shown_view(qtbot, s)
    positions = pca_layout(s.dataset.X)
    start = time.perf_counter()
    view.set_layout(positions, "PCA")
    view.plot.grab()  # paint once
    built = time.perf_counter() - start
    assert len(view.order) == N
    assert [t.toPlainText() for t in view.numbers if t.isVisible()] == [
        str(i) for i in range(1, 21)
    ]
    # queries are drawn last (on top), labeled rows just before them
    assert view.order[-20:].tolist() == s.queries.tolist()

    # a label restyles one spot, without a full redraw
    refreshes = view.refresh_count
    row = int(s.queries[0])
    start = time.perf_counter()
    s.label(row, 2)
    view.plot.grab()
    one_label = time.perf_counter() - start
    assert view.refresh_count == refreshes
    slot = view._slot[row]
    assert view.scatter.data["brush"][slot] is view.class_brush(2)

    # switching colour modes redraws everything
    start = time.perf_counter()
    view.set_mode("regions")
    view.plot.grab()
    mode_switch = time.perf_counter() - start
    print(
        f"\n100k points: first draw {built * 1000:.0f} ms, one label {one_label * 1000:.0f} ms, "
        f"colour mode switch {mode_switch * 1000:.0f} ms"
    )
    assert view.row_at(view.scene_pos_of(row)) == row
    s.undo()


def test_a_click_on_a_query_ring_picks_the_query_over_a_dot_beneath_it(qtbot, big_session):
    s = big_session
    view = shown_view(qtbot, s)
    positions = pca_layout(s.dataset.X)
    query = int(s.queries[0])
    under = int(np.flatnonzero((s.labels < 0) & ~np.isin(np.arange(s.n_rows), s.queries))[0])
    view.set_layout(positions, "PCA")
    px, _ = view.viewbox.viewPixelSize()
    positions[under] = positions[query] + [1.5 * px, 0.0]  # 1.5 px off the query's centre
    view.set_layout(positions, "PCA")
    view.plot.grab()
    # The click lands on the plain dot's centre, which lies inside the query's ring drawn on top.
    assert view.row_at(view.scene_pos_of(under)) == query
    far = view.scene_pos_of(under) + QPointF(view.PICK_RADIUS + 40, 0)
    assert view.row_at(far) != query


def test_at_the_default_threshold_100k_rows_are_an_image_with_labeled_rows_and_queries_on_top(
    qtbot, big_session
):
    s = big_session
    view = shown_map(qtbot, s)
    view.set_layout(pca_layout(s.dataset.X), "PCA")
    assert view.dense and view.pool_image.item.isVisible()
    drawn = set(view.order.tolist())
    assert len(view.order) == s.n_labeled + s.queries.size
    assert set(np.flatnonzero(s.labels >= 0).tolist()) <= drawn
    assert set(s.queries.tolist()) <= drawn
    assert "per screen pixel" in view.legend.text()
    # labeling a row of the image brings it in as a point (after the short redraw delay)
    hidden = next(r for r in range(N) if r not in drawn)
    s.label(hidden, 1)
    qtbot.waitUntil(lambda: hidden in set(view.order.tolist()), timeout=2_000)
    s.undo()
