"""Every query of a batch can be found without zooming: the numbers on the map never overlap,
never cover a query's ring and stay inside the plot, also when the batch sits in one blob of a
big pool (dami_gui/app/map/query_labels.py)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, QRectF

from dami_gui.app.map.query_labels import MARKER, place_labels

from .conftest import clustered_session, shown_map


def overlaps(boxes: np.ndarray) -> list[tuple[int, int]]:
    """Pairs of boxes (x0, y0, x1, y1) that overlap by more than rounding."""
    found = []
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            w = min(boxes[i, 2], boxes[j, 2]) - max(boxes[i, 0], boxes[j, 0])
            h = min(boxes[i, 3], boxes[j, 3]) - max(boxes[i, 1], boxes[j, 1])
            if w > 0.5 and h > 0.5:
                found.append((i, j))
    return found


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_placed_labels_neither_overlap_nor_cover_a_point_nor_leave_the_bounds(seed):
    rng = np.random.default_rng(seed)
    n = 20
    anchors = np.array([400.0, 300.0]) + rng.normal(scale=12, size=(n, 2))  # one blob
    anchors[:3] = [[2.0, 2.0], [795.0, 5.0], [400.0, 597.0]]  # and three at the edges
    sizes = np.column_stack([np.where(np.arange(n) < 9, 14.0, 21.0), np.full(n, 17.0)])
    bounds = (0.0, 0.0, 800.0, 600.0)
    corners = place_labels(anchors, sizes, bounds)
    boxes = np.concatenate([corners, corners + sizes], axis=1)
    assert overlaps(boxes) == []
    assert (boxes[:, 0] >= 0).all() and (boxes[:, 1] >= 0).all()
    assert (boxes[:, 2] <= 800).all() and (boxes[:, 3] <= 600).all()
    for box in boxes:  # no label covers a query's ring
        inside = (
            (anchors[:, 0] + MARKER > box[0])
            & (anchors[:, 0] - MARKER < box[2])
            & (anchors[:, 1] + MARKER > box[1])
            & (anchors[:, 1] - MARKER < box[3])
        )
        assert not inside.any()
    # near their point: the farthest is a few label sizes away, not across the plot
    centres = corners + sizes / 2
    assert np.linalg.norm(centres - anchors, axis=1).max() < 160


def label_boxes(view) -> tuple[np.ndarray, list[str]]:
    """Scene rectangles (x0, y0, x1, y1) and texts of the numbers shown on the map."""
    boxes, texts = [], []
    for item in view.numbers:
        if item.isVisible():
            rect: QRectF = item.mapRectToScene(item.boundingRect())
            boxes.append([rect.left(), rect.top(), rect.right(), rect.bottom()])
            texts.append(item.toPlainText())
    return np.array(boxes), texts


def check_numbers(view, session) -> None:
    view.query_labels.place()
    boxes, texts = label_boxes(view)
    queries = session.queries
    assert sorted(texts, key=int) == [str(i) for i in range(1, len(queries) + 1)]
    assert overlaps(boxes) == []
    area = view.viewbox.sceneBoundingRect()
    assert (boxes[:, 0] >= area.left() - 0.5).all() and (boxes[:, 2] <= area.right() + 0.5).all()
    assert (boxes[:, 1] >= area.top() - 0.5).all() and (boxes[:, 3] <= area.bottom() + 0.5).all()
    # each number is tied to its own point: beside it, or a leader line from the point to it
    x, y = view.query_labels.leaders.getData()
    starts = {(round(float(a), 6), round(float(b), 6)) for a, b in zip(x[::2], y[::2], strict=True)}
    for item in view.numbers:
        if not item.isVisible():
            continue
        row = int(queries[int(item.toPlainText()) - 1])
        point = view.scene_pos_of(row)
        rect = item.mapRectToScene(item.boundingRect())
        near = rect.adjusted(-24, -24, 24, 24).contains(point)
        px, py = view.positions[row]
        assert near or (round(float(px), 6), round(float(py), 6)) in starts


@pytest.mark.parametrize("dense", [False, True])
def test_a_batch_in_one_blob_of_a_big_pool_gets_numbers_that_all_read(qtbot, dense):
    """The 200k-row case: 14 of 20 picks in one blob. Fewer rows here, the same clustering."""
    session = clustered_session(6000, ["a", "b", "c"], 4, 30, 20, seed=5)
    view = shown_map(qtbot, session, (760, 560), density_above=1000 if dense else None)
    rng = np.random.default_rng(0)
    positions = rng.normal(size=(session.n_rows, 2)).astype(np.float32) * 3
    queries = np.asarray(session.queries)
    positions[queries[:14]] = np.array([1.0, 1.0]) + rng.normal(scale=0.02, size=(14, 2))
    positions[queries[14]] = positions[:, 0].min() - 0.5, 0.0  # far out on the left: in view
    view.set_layout(positions, "UMAP")
    assert view.dense == dense
    check_numbers(view, session)
    # zoomed out, moved, resized: placed again
    view.viewbox.scaleBy((2.5, 2.5))
    check_numbers(view, session)
    view.resize(520, 420)
    qtbot.waitUntil(lambda: view.plot.width() < 520, timeout=2_000)
    check_numbers(view, session)
    view.reset_view()
    check_numbers(view, session)


def test_hovering_a_query_in_the_table_rings_it_on_the_map(qtbot, model_window):
    w = model_window
    table = w.labels.table
    row = int(w.session.queries[2])
    cell = table.visualRect(w.labels.model.index(2, 0))
    qtbot.mouseMove(table.viewport(), cell.center())  # the mouse over the query's line
    qtbot.waitUntil(w.map.hover_ring.isVisible, timeout=2_000)
    assert w.map.hover_ring.pos() == QPointF(*map(float, w.map.positions[row]))
    table.rowHovered.emit(-1)
    assert not w.map.hover_ring.isVisible()
