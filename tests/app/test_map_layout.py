"""PCA first, UMAP when ready, cached per data set, cancellable; UMAP itself is faked here.

The real UMAP is tested in tests/core/test_layout.py; here a fast stand-in checks the app's
side: the map switches from PCA to UMAP, reopening the same data reuses the layout, and a
cancelled layout is dropped without waiting for it.
"""

from __future__ import annotations

import threading

import numpy as np

from dami_gui.app.controllers import map as map_layout
from dami_gui.core.embedding import pca_layout

from .conftest import open_demo, wait_for_workers


def fake_umap(calls: list[int], gate: threading.Event | None = None):
    def umap_layout(X, seed=0, progress=None, cancel=None):
        calls.append(len(X))
        for epoch in range(100):
            if gate is not None:
                gate.wait(0.01)
            if cancel is not None:
                cancel.check()
            if progress is not None:
                progress("Arranging the map (UMAP)", epoch / 100)
        return pca_layout(X)[:, ::-1].copy()  # recognisably not the PCA map

    return umap_layout


def test_map_switches_to_umap_and_reuses_it(qtbot, make_window, monkeypatch):
    calls: list[int] = []
    monkeypatch.setattr(map_layout, "warm_up_umap", lambda: None)
    monkeypatch.setattr(map_layout, "umap_layout", fake_umap(calls))
    w = make_window()
    w.layouts.use_umap = True
    names: list[str] = []
    w.layouts.ready.connect(lambda _p, name: names.append(name))
    open_demo(qtbot, w)
    qtbot.waitUntil(lambda: w.map.layout_name == "UMAP", timeout=30_000)
    assert names == ["PCA", "UMAP"]
    assert w.map.status.text() == "Map: UMAP"
    np.testing.assert_array_equal(w.map.positions, pca_layout(w.session.dataset.X)[:, ::-1])
    # the same data again: the cached UMAP map at once, no second computation
    open_demo(qtbot, w)
    assert names[-1] == "UMAP" and calls == [w.session.n_rows]


def test_cancelled_layout_is_dropped(qtbot, make_window, monkeypatch):
    calls: list[int] = []
    gate = threading.Event()  # never set: each epoch waits 10 ms, so the job runs a second
    monkeypatch.setattr(map_layout, "warm_up_umap", lambda: None)
    monkeypatch.setattr(map_layout, "umap_layout", fake_umap(calls, gate))
    w = make_window()
    w.layouts.use_umap = True
    open_demo(qtbot, w)
    qtbot.waitUntil(lambda: "arranging UMAP" in w.map.status.text(), timeout=10_000)
    w.layouts.cancel()
    assert not w.layouts.running
    wait_for_workers(qtbot, timeout=5_000)
    assert w.map.layout_name == "PCA"
