"""PCA first, UMAP when ready, cached per data set, cancellable; UMAP itself is faked here.

The real UMAP is tested in tests/core/test_layout.py; here a fast stand-in checks the app's
side: the map switches from PCA to UMAP, reopening the same data reuses the layout, and a
cancelled layout is dropped without waiting for it.
"""

from __future__ import annotations

import math
import os
import runpy
import threading
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings

from dami_gui.app.controllers import map as map_layout
from dami_gui.app.map.view import MapView
from dami_gui.app.palette import ClassColors
from dami_gui.core.embedding import pca_layout

from .conftest import clustered_session, open_demo, wait_for_workers


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


# ------------------------------------------------- the first map: compiling, said honestly


def test_a_stage_without_a_share_counts_seconds_never_a_frozen_percentage(qtbot):
    view = MapView(ClassColors())
    qtbot.addWidget(view)
    view.show()
    now = [100.0]
    view.progress.clock = lambda: now[0]
    view.show_layout_progress("Preparing UMAP: it compiles its code", math.nan)
    assert view.status.text() == "Map: PCA · preparing UMAP: it compiles its code · 0 s so far"
    busy = view.progress.busy
    assert busy.isVisible() and busy.maximum() == 0  # a busy bar: it moves by itself
    assert view.progress.tick.isActive()
    now[0] += 42
    view.progress.tick.timeout.emit()  # the second timer: the count moves without any report
    assert view.status.text().endswith("· 42 s so far") and "%" not in view.status.text()
    view.show_layout_progress("Finding neighbours for the map (UMAP)", 0.0)  # a new stage
    assert view.status.text().endswith("finding neighbours for the map · 0 s so far")
    view.show_layout_progress("Arranging the map (UMAP)", 0.25)
    assert view.status.text() == "Map: PCA · arranging UMAP 25% · arranging the map"
    assert view.progress.busy.maximum() == 1000 and view.progress.busy.value() == 250
    assert not view.progress.tick.isActive()
    view.set_status("Map: UMAP")
    assert not view.progress.busy.isVisible() and not view.progress.tick.isActive()


def test_the_first_map_says_umap_is_compiling_and_how_long_it_took_last(
    qtbot, make_window, monkeypatch, settings_in_tmp, tmp_path
):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "empty-cache"))
    release = threading.Event()
    monkeypatch.setattr(map_layout, "umap_is_warm", lambda: False)
    monkeypatch.setattr(map_layout, "warm_up_umap", lambda: release.wait(30))
    monkeypatch.setattr(map_layout, "umap_layout", fake_umap([]))
    QSettings().setValue(map_layout.COMPILE_SECONDS_KEY, 48.2)  # measured here before
    w = make_window()
    w.layouts.use_umap = True
    try:
        open_demo(qtbot, w)
        qtbot.waitUntil(lambda: "preparing UMAP" in w.map.status.text(), timeout=10_000)
        text = w.map.status.text()
        assert "the first time after installing this compiles its code: a minute or two" in text
        assert "(last time: 48 s)" in text and "s so far" in text and "%" not in text
        assert w.map.progress.busy.isVisible() and w.map.progress.busy.maximum() == 0
    finally:
        release.set()
    qtbot.waitUntil(lambda: w.map.layout_name == "UMAP", timeout=30_000)
    assert w.map.status.text() == "Map: UMAP" and not w.map.progress.busy.isVisible()


def test_numba_keeps_compiled_code_in_a_user_cache_folder(monkeypatch, tmp_path, run_main):
    from dami_gui.app import main as app_main
    from dami_gui.core.embedding import numba_cache

    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "cache"))
    folder = numba_cache.use_numba_cache()
    assert folder == numba_cache.numba_cache_folder() and folder.is_dir()
    assert os.environ["NUMBA_CACHE_DIR"] == str(folder)
    assert not numba_cache.cache_filled()
    (folder / "umap_layouts.f-1.py311.nbi").write_bytes(b"x")
    assert numba_cache.cache_filled()
    # the frozen app's runtime hook picks the same folder
    hook = runpy.run_path(
        str(Path(__file__).parents[2] / "packaging" / "hooks" / "rthook_numba_cache.py")
    )
    assert hook["_cache_dir"]() == folder
    # a folder the user chose stays chosen
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "mine"))
    assert numba_cache.use_numba_cache() == tmp_path / "mine"
    # the app sets it at start, before anything imports numba
    calls = []
    monkeypatch.setattr(app_main, "use_numba_cache", lambda: calls.append(True))
    assert run_main(["--no-umap"], lambda window: None) == 0
    assert calls == [True]


def test_the_measured_compile_time_is_kept(qtbot, settings_in_tmp):
    controller = map_layout.LayoutController(use_umap=False)
    controller._compiled(12.34)
    assert float(QSettings().value(map_layout.COMPILE_SECONDS_KEY)) == 12.3
    controller._compiled(None)  # nothing compiled (warm already): nothing changes
    assert float(QSettings().value(map_layout.COMPILE_SECONDS_KEY)) == 12.3


# ------------------------------------------------------------ the layout chosen: two columns


def test_a_scatter_of_two_chosen_columns_beside_pca_and_umap(qtbot, model_window):
    from dami_gui.app.map.layouts import COLUMNS, column_positions, numeric_columns

    w = model_window
    s = w.session
    view = w.map
    choice = view.layout_choice
    columns = numeric_columns(s)
    assert "hue_mean" in columns and "patch_id" not in columns  # ids are text here
    pca = view.positions.copy()
    assert choice.mode == "auto" and view.layout_name == "PCA"
    choice.box.setCurrentIndex(choice.box.findData(COLUMNS))
    assert choice.axes.isVisible()
    choice.x_box.setCurrentText("hue_mean")
    choice.y_box.setCurrentText("value_mean")
    frame = s.dataset.frame
    expected = np.column_stack([frame["hue_mean"], frame["value_mean"]]).astype(np.float32)
    np.testing.assert_allclose(view.positions, expected)
    assert view.layout_name == "hue_mean × value_mean"
    assert view.plot.getAxis("bottom").isVisible() and view.plot.getAxis("left").isVisible()
    assert view.plot.getAxis("bottom").labelText == "hue_mean"
    row = int(s.queries[0])  # the rows can be picked there as anywhere
    qtbot.waitUntil(lambda: view.row_at(view.scene_pos_of(row)) == row, timeout=5_000)
    # a UMAP that arrives now is kept, not shown over the user's choice
    view.set_layout(pca[:, ::-1].copy(), "UMAP")
    assert view.layout_name == "hue_mean × value_mean"
    choice.box.setCurrentIndex(choice.box.findData("UMAP"))
    np.testing.assert_array_equal(view.positions, pca[:, ::-1])
    assert not view.plot.getAxis("bottom").isVisible()
    choice.box.setCurrentIndex(choice.box.findData("PCA"))
    np.testing.assert_array_equal(view.positions, pca)
    # an empty cell is placed below the column's smallest value, apart
    small = clustered_session(200, ["a", "b"], 3, labeled=10, batch=4, seed=0)
    small.dataset.frame.loc[3, "f0"] = np.nan
    placed = column_positions(small, "f0", "f1")
    assert placed[3, 0] < np.nanmin(small.dataset.frame["f0"]) and np.isfinite(placed).all()
