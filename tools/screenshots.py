"""Make the screenshots in docs/screenshots: ``python -m tools.screenshots [FOLDER] [--big CSV]``.

Runs the real app headless (Qt's offscreen platform unless a platform is set) and saves each
window at 1280 × 800 (the laptop screen the app must fit) and at 1920 × 1080:

* the demo's round 1 (``cold-start``): no label yet, so no model and no model output, the first
  rows that cover the pool;
* the demo after two rounds (``main-window``, the README's), then *Why this row* for a query
  and the *Regions* tab with the largest group outlined, and *Per class* (``per-class``): what
  learned, the network's fidelity to the ensemble, the per-class figures;
* a CSV whose label column is full (the demo's file with its classes): the import dialog that
  offers them as known answers (``import-known-answers``) and the window after a round with a
  model, the answers hidden, the curve measured against them (``known-answers``);
* a big pool (``big-pool``): a CSV of 200,000 rows written to the temporary folder (or the one
  given with ``--big``; never committed), its UMAP map as a density image and a batch's numbers;
* the import dialog and the dialog of a project whose CSV changed.

Each map waits for its UMAP layout (numba compiles umap's code first: a minute or more on a
busy machine; the 200,000-row map takes minutes). The PNGs keep their 256 most frequent colours,
small enough to commit.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QWidget

from dami_gui.app.application import application
from dami_gui.app.dialogs.import_csv import ImportDialog
from dami_gui.app.main_window import MainWindow
from dami_gui.core.data.demo import demo_path
from dami_gui.core.data.reader import read_csv
from dami_gui.core.embedding.numba_cache import use_numba_cache

DEFAULT_FOLDER = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
SIZES = {"": (1280, 800), "-1920": (1920, 1080)}
BIG_ROWS = 200_000


def wait_until(condition, timeout: float = 900.0, what: str = "the app") -> None:
    """Run the event loop until ``condition()`` holds (or fail after ``timeout`` seconds)."""
    start = time.monotonic()
    loop = QEventLoop()
    while not condition():
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"Gave up waiting for {what} after {timeout:.0f} s.")
        QTimer.singleShot(50, loop.quit)
        loop.exec()


def settle(ms: int = 400) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def save(widget: QWidget, path: Path) -> Path:
    """``widget`` as a PNG of its 256 most frequent colours (a screenshot's flat areas; the few
    antialiased pixels take the nearest): a third of the size, the same to the eye."""
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    width, height = image.width(), image.height()
    words = np.frombuffer(image.constBits(), dtype=np.uint32, count=image.sizeInBytes() // 4)
    pixels = words.reshape(height, -1)[:, :width]
    colours, counts = np.unique(pixels, return_counts=True)
    table = [int(c) for c in colours[np.argsort(-counts, kind="stable")[:256]]]
    small = image.convertToFormat(
        QImage.Format.Format_Indexed8, table, Qt.ImageConversionFlag.ThresholdDither
    )
    small.save(str(path), "PNG", 0)
    return path


def shoot(window: MainWindow, folder: Path, name: str) -> list[Path]:
    """``window`` at each size of :data:`SIZES` (the 1280 × 800 one as ``name.png``)."""
    paths = []
    for suffix, (width, height) in SIZES.items():
        window.resize(width, height)
        wait_until(lambda w=width, h=height: (window.width(), window.height()) == (w, h))
        settle()
        # offscreen, nothing paints until a grab: the first one lets the map apply its pending
        # auto-range (pyqtgraph does so when it paints), and the query numbers follow it
        window.grab()
        settle()
        size = window.size()
        if (size.width(), size.height()) != (width, height):
            raise RuntimeError(f"{name}: the window is {size.width()} × {size.height()}")
        paths.append(save(window, folder / f"{name}{suffix}.png"))
    window.resize(*SIZES[""])
    settle()
    return paths


def new_window() -> tuple[MainWindow, list[str]]:
    window = MainWindow(use_umap=True)
    window.resize(*SIZES[""])
    window.show()
    layouts: list[str] = []
    window.layouts.ready.connect(lambda _positions, name: layouts.append(name))
    return window, layouts


def answer(window: MainWindow, count: int | None = None) -> None:
    """Answer ``count`` queries (all when None) with the session's known classes."""
    session = window.session
    assert session is not None and session.truth is not None
    for row in session.queries[:count].copy():
        session.label(int(row), int(session.truth[row]))


def next_round(window: MainWindow, rounds: int, timeout: float = 900.0) -> None:
    """Wait until round ``rounds`` of the window's session is committed."""

    def done() -> bool:
        session = window.session
        return session is not None and len(session.rounds) == rounds and not window.rounds.running

    wait_until(done, timeout, f"round {rounds}")


def demo_shots(folder: Path) -> list[Path]:
    """Round 1 of the demo (a cold start), then two rounds, Why this row and Regions."""
    window, layouts = new_window()
    window.loading.open_demo()
    next_round(window, 1)
    wait_until(lambda: "UMAP" in layouts, what="the UMAP map")
    window.labels.table.select_position(0)
    window.labels.table.setFocus()
    shots = shoot(window, folder, "cold-start")
    answer(window)
    next_round(window, 2)
    answer(window, 6)  # and has started on round 2
    table = window.labels.table
    table.select_position(6)
    table.setFocus()
    shots += shoot(window, folder, "main-window")
    explanations = window.explanations
    explanations.tabs.setCurrentWidget(explanations.why)
    explanations.why.set_class(None)
    table.select_position(7)
    settle()
    shots.append(save(window, folder / "why-this-row.png"))
    explanations.tabs.setCurrentWidget(explanations.regions)
    explanations.regions.select_group(0)
    settle()
    shots.append(save(window, folder / "regions.png"))
    explanations.regions.select_groups([])
    explanations.lower.setCurrentIndex(explanations.quality_index)
    shots += shoot(window, folder, "per-class")
    window.close()
    return shots


def known_answers_shots(folder: Path, work: Path) -> list[Path]:
    """A CSV whose label column is full: the dialog's offer, then the window after a round with
    a model (the answers hidden while labeling; the curve measured against them)."""
    csv = work / "segment-labeled.csv"
    csv.write_bytes(demo_path().read_bytes())  # every row of the demo's file has its class
    window, layouts = new_window()
    window.loading.open_csv(csv)
    wait_until(lambda: window.loading.import_dialog is not None, what="the import dialog")
    dialog = window.loading.import_dialog
    assert dialog is not None and dialog.known_answers.isChecked()
    dialog.resize(1100, 720)
    settle()
    shots = [save(dialog, folder / "import-known-answers.png")]
    accept(dialog)
    next_round(window, 1)
    wait_until(lambda: "UMAP" in layouts, what="the UMAP map")
    for rounds in (2, 3):
        answer(window)
        next_round(window, rounds)
    answer(window, 3)
    window.labels.table.select_position(2)  # an answered row: its known answer is shown
    window.explanations.lower.setCurrentIndex(window.explanations.quality_index)
    shots += shoot(window, folder, "known-answers")
    window.close()
    return shots


def accept(dialog: ImportDialog) -> None:
    """Open the data as the dialog shows it; say why not when it refuses."""
    dialog.accept()
    if dialog.isVisible():
        raise RuntimeError(f"The import dialog refused: {dialog.error.text()}")


def write_big_csv(path: Path, rows: int = BIG_ROWS, seed: int = 0) -> Path:
    """A pool of ``rows`` rows in eight Gaussian clusters of five classes, 200 of them labeled
    (the ``label`` column, which the import dialog takes as the label column)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(8, 6)) * 4
    cluster = rng.integers(0, 8, rows)
    X = centres[cluster] + rng.normal(size=(rows, 6)) * rng.uniform(0.5, 1.5, size=(8, 1))[cluster]
    kind = np.array(["alder", "birch", "cedar", "oak", "pine"])[cluster % 5]
    labeled = np.zeros(rows, dtype=bool)
    labeled[rng.choice(rows, 200, replace=False)] = True
    with path.open("w", encoding="utf-8") as out:
        out.write("id," + ",".join(f"m{j}" for j in range(6)) + ",label\n")
        for i in range(rows):
            values = ",".join(f"{v:.3f}" for v in X[i])
            out.write(f"T{i:06d},{values},{kind[i] if labeled[i] else ''}\n")
    return path


def big_pool_shots(folder: Path, csv: Path) -> list[Path]:
    """A 200,000-row pool: its UMAP map as a density image, the numbers of a batch readable."""
    window, layouts = new_window()
    window.loading.open_csv(csv)
    wait_until(lambda: window.loading.import_dialog is not None, 300, "the import dialog")
    dialog = window.loading.import_dialog
    assert dialog is not None
    accept(dialog)
    next_round(window, 1, 3600)
    wait_until(lambda: "UMAP" in layouts, 3600, "the UMAP map of the big pool")
    window.labels.table.select_position(0)
    shots = shoot(window, folder, "big-pool")
    window.close()
    return shots


def import_dialog_shot(folder: Path) -> Path:
    source = demo_path()
    frame = read_csv(source)
    frame.loc[30:, "class"] = ""  # the demo as a user's file: 30 rows labeled, the rest not
    dialog = ImportDialog(frame, source)
    dialog.resize(1100, 720)
    dialog.show()
    settle()
    path = save(dialog, folder / "import-dialog.png")
    dialog.close()
    return path


def source_changed_shot(folder: Path) -> Path:
    """The dialog shown when a project's CSV file changed: rows removed, added and edited."""
    import shutil

    import pandas as pd

    from dami_gui.app.dialogs.source_changed import SourceDialog
    from dami_gui.core.data.dataset import load_dataset
    from dami_gui.core.project.creating import create_project
    from dami_gui.core.project.opening import open_project
    from dami_gui.core.project.source import SourceChanged
    from dami_gui.core.session import Session

    work = Path(tempfile.gettempdir()) / "dami-screenshots" / "survey"  # shown in the dialog
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    csv = work / "segment.csv"
    shutil.copy(demo_path(), csv)
    dataset = load_dataset(csv, label_column="class", id_column="patch_id")
    truth, dataset.y = dataset.y.copy(), np.full_like(dataset.y, -1)
    session = Session(dataset, truth=truth)
    labeled = np.random.default_rng(0).choice(session.n_rows, 40, replace=False)
    for row in labeled:
        session.label(int(row), int(truth[row]))
    create_project(work / "segment.dami", session).close()
    frame = pd.read_csv(csv)
    gone = set(labeled[:3].tolist()) | set(range(100, 109))  # 3 labeled rows among 12 removed
    edited = [200, 201, 202, 203]
    frame.iloc[edited, 1] += 1
    added = frame.iloc[:7].copy()
    added["patch_id"] = [f"N{i:04d}" for i in range(7)]
    frame = pd.concat([frame.drop(index=sorted(gone)), added])
    frame.to_csv(csv, index=False)
    try:
        open_project(work / "segment.dami").close()
        raise RuntimeError("the changed CSV was not noticed")
    except SourceChanged as problem:
        dialog = SourceDialog(problem, work / "segment.dami")
    dialog.show()
    settle()
    path = save(dialog, folder / "source-changed.png")
    dialog.close()
    shutil.rmtree(work.parent, ignore_errors=True)
    return path


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    big = None
    if "--big" in args:
        at = args.index("--big")
        big = Path(args[at + 1])
        del args[at : at + 2]
    folder = Path(args[0]) if args else DEFAULT_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    use_numba_cache()
    app: QApplication = application()
    work = Path(tempfile.mkdtemp(prefix="dami-screenshots-"))
    if big is None:
        big = write_big_csv(work / "pool-200k.csv")
    shots = [import_dialog_shot(folder), source_changed_shot(folder)]
    shots += demo_shots(folder)
    shots += known_answers_shots(folder, work)
    shots += big_pool_shots(folder, big)
    for path in shots:
        print(f"wrote {path}")
    app.processEvents()
    from dami_gui.app.main import leave

    return leave(0)


if __name__ == "__main__":
    sys.exit(main())
