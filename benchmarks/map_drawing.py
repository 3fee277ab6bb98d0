"""Drawing a big pool on the map: the density image against the scatter of every point.

    python -m benchmarks.map_drawing [--rows 50000 200000 1000000] [--repeat 5]

For each pool size: a seeded 20-d pool (:func:`benchmarks.big_map.pool`), a session with 30
labels and one real round (a small network; the map's colours are its DAMI groups), its PCA
layout, and the same :class:`~dami_gui.app.map.view.MapView` (800 × 600, offscreen) drawn both
ways in one process, side by side:

* ``scatter``: every row a point of the map's ``StyledScatter`` (the path below the threshold);
* ``density``: the plain rows as one density image, the labeled rows and queries as points.

Measured, in milliseconds (medians of ``--repeat``): ``set`` (the layout arrives: everything
drawn and painted once), ``frame`` (one repaint after a small pan, without re-rendering the
image), ``zoom`` (a zoom by 2: the image rendered at the new range, then painted; for the scatter
the repaint), ``pick`` (the row under a point: a hover or a click; the density path's first pick
builds its grid index, reported as ``index``). The ratios are scatter / density.

Results: ``benchmarks/results/map_drawing.json``, printed; docs/big-pools.md quotes them.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pandas as pd

from benchmarks.big_map import pool

if TYPE_CHECKING:
    from dami_gui.core.session import Session

RESULTS = Path(__file__).resolve().parent / "results"


def make_session(n: int) -> tuple[Session, float]:
    """A session on ``n`` rows of the 20-d pool with 30 labels and one round done."""
    from dami_gui.core.data.dataset import build_dataset
    from dami_gui.core.data.roles import infer_roles
    from dami_gui.core.model import MLPConfig
    from dami_gui.core.session import Session

    X = pool(n)
    y = (X[:, 0] > 0).astype(np.int64) + (X[:, 1] > 0).astype(np.int64)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    dataset = build_dataset(frame, infer_roles(frame), classes=["a", "b", "c"])
    session = Session(
        dataset,
        batch_size=20,
        model_config=MLPConfig(hidden=(16, 16), min_epochs=5, min_steps=30),
        estimate_accuracy=False,
    )
    rng = np.random.default_rng(0)
    for row in rng.choice(n, 30, replace=False):
        session.label(int(row), int(y[row]))
    start = time.perf_counter()
    session.run_round()
    return session, time.perf_counter() - start


def median_ms(values: list[float]) -> float:
    return round(float(np.median(values)) * 1000, 2)


def measure(session: Session, positions: np.ndarray, dense: bool, repeat: int) -> dict:
    """Draw ``session`` at ``positions`` one way and time set, frame, zoom and pick."""
    from PySide6.QtCore import QPointF

    from dami_gui.app.map.view import MapView
    from dami_gui.app.palette import ClassColors

    view = MapView(ClassColors())
    view.DENSITY_ABOVE = 0 if dense else session.n_rows  # one instance, one path
    view.resize(800, 600)
    view.show()
    view.set_session(session)
    start = time.perf_counter()
    view.set_layout(positions, "PCA")
    view.plot.grab()
    out: dict = {"set": round((time.perf_counter() - start) * 1000, 1)}
    out["points"] = len(view.order)
    frames = []
    for i in range(repeat):
        view.viewbox.translateBy(x=(-1) ** i * 0.01)  # the image stays, only the paint is timed
        start = time.perf_counter()
        view.plot.grab()
        frames.append(time.perf_counter() - start)
    out["frame"] = median_ms(frames)
    zooms = []
    for i in range(repeat):
        view.viewbox.scaleBy((0.5, 0.5) if i % 2 == 0 else (2.0, 2.0))
        start = time.perf_counter()
        view.pool_image.render()  # what the 40 ms timer would do (nothing when not dense)
        view.plot.grab()
        zooms.append(time.perf_counter() - start)
    out["zoom"] = median_ms(zooms)
    view.reset_view()
    rng = np.random.default_rng(1)
    rect = view.viewbox.sceneBoundingRect()
    targets = [
        QPointF(
            rect.left() + rng.uniform(0.2, 0.8) * rect.width(),
            rect.top() + rng.uniform(0.2, 0.8) * rect.height(),
        )
        for _ in range(repeat + 1)
    ]
    start = time.perf_counter()
    view.row_at(targets[0])
    out["index"] = round((time.perf_counter() - start) * 1000, 1) if dense else None
    picks = []
    for target in targets[1:]:
        start = time.perf_counter()
        view.row_at(target)
        picks.append(time.perf_counter() - start)
    out["pick"] = median_ms(picks)
    view.close()
    view.deleteLater()
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[50_000, 200_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    from PySide6.QtWidgets import QApplication

    from dami_gui.core.embedding import pca_layout

    app = QApplication.instance() or QApplication([])
    results = []
    for n in args.rows:
        session, round_s = make_session(n)
        positions = pca_layout(session.dataset.X)
        density = measure(session, positions, True, args.repeat)
        app.processEvents()
        scatter = measure(session, positions, False, args.repeat)
        app.processEvents()
        ratios = {
            key: round(scatter[key] / density[key], 1)
            for key in ("set", "frame", "zoom", "pick")
            if density[key]
        }
        row = {
            "rows": n,
            "round_s": round(round_s, 1),
            "density": density,
            "scatter": scatter,
            "scatter_over_density": ratios,
        }
        print(json.dumps(row))
        results.append(row)
    RESULTS.mkdir(exist_ok=True)
    load = os.getloadavg()
    (RESULTS / "map_drawing.json").write_text(
        json.dumps({"load_average": load, "results": results}, indent=1) + "\n"
    )


if __name__ == "__main__":
    main()
