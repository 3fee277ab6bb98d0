"""Make the screenshots in docs/screenshots: ``python -m tools.screenshots [FOLDER]``.

Runs the real app headless (Qt's offscreen platform unless a platform is set) on the bundled
demo: waits for the UMAP map, answers round 1 with the demo's known classes, lets round 2 run,
answers a few of its rows, and saves the main window at 1280 × 800; then, from the same window,
"Why this row" for a query and the Regions tab with the largest group outlined on the map. Then it
opens the demo file in the import dialog and saves that too. Takes about a minute (UMAP compiles
its code first).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from dami_gui.app.application import application
from dami_gui.app.dialogs.import_csv import ImportDialog
from dami_gui.app.main_window import MainWindow
from dami_gui.core.data.demo import demo_path
from dami_gui.core.data.reader import read_csv

DEFAULT_FOLDER = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
SIZE = (1280, 800)


def wait_until(condition, timeout: float = 300.0, what: str = "the app") -> None:
    """Run the event loop until ``condition()`` holds (or fail after ``timeout`` seconds)."""
    start = time.monotonic()
    loop = QEventLoop()
    while not condition():
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"Gave up waiting for {what} after {timeout:.0f} s.")
        QTimer.singleShot(50, loop.quit)
        loop.exec()


def settle(ms: int = 300) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def main_window_shot(folder: Path) -> Path:
    window = MainWindow(use_umap=True)
    window.resize(*SIZE)
    window.show()
    layouts: list[str] = []
    window.layouts.ready.connect(lambda _positions, name: layouts.append(name))
    window.loading.open_demo()
    wait_until(
        lambda: window.session is not None and len(window.session.rounds) == 1, what="round 1"
    )
    session = window.session
    assert session is not None and session.truth is not None
    wait_until(lambda: "UMAP" in layouts, what="the UMAP map")
    for row in session.queries:  # the expert answers round 1 (the demo knows the answers)
        session.label(int(row), int(session.truth[row]))
    wait_until(lambda: len(session.rounds) == 2 and not window.rounds.running, what="round 2")
    for row in session.queries[:6]:  # and has started on round 2
        session.label(int(row), int(session.truth[row]))
    table = window.labels.table
    table.select_position(6)
    table.setFocus()
    settle()
    path = folder / "main-window.png"
    window.grab().save(str(path))
    EXTRA.append(why_this_row_shot(window, folder))
    EXTRA.append(regions_shot(window, folder))
    window.close()
    return path


#: Shots taken from the main window of :func:`main_window_shot` (written there, listed by main).
EXTRA: list[Path] = []


def why_this_row_shot(window: MainWindow, folder: Path) -> Path:
    """The window after two rounds with a query selected and "Why this row" in front."""
    explanations = window.explanations
    explanations.tabs.setCurrentWidget(explanations.why)
    explanations.why.set_class(None)
    table = window.labels.table
    table.select_position(7)
    table.setFocus()
    settle()
    path = folder / "why-this-row.png"
    window.grab().save(str(path))
    return path


def regions_shot(window: MainWindow, folder: Path) -> Path:
    """The Regions tab with the largest DAMI group selected, so the map outlines its rows."""
    explanations = window.explanations
    explanations.tabs.setCurrentWidget(explanations.regions)
    explanations.regions.select_group(0)
    settle()
    path = folder / "regions.png"
    window.grab().save(str(path))
    explanations.regions.table.clearSelection()
    explanations.tabs.setCurrentWidget(explanations.why)
    return path


def import_dialog_shot(folder: Path) -> Path:
    source = demo_path()
    dialog = ImportDialog(read_csv(source), source)
    dialog.resize(1100, 720)
    dialog.show()
    settle()
    path = folder / "import-dialog.png"
    dialog.grab().save(str(path))
    dialog.close()
    return path


def source_changed_shot(folder: Path) -> Path:
    """The dialog shown when a project's CSV file changed: rows removed, added and edited."""
    import shutil
    import tempfile

    import numpy as np
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
    path = folder / "source-changed.png"
    dialog.grab().save(str(path))
    dialog.close()
    shutil.rmtree(work.parent, ignore_errors=True)
    return path


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0]) if args else DEFAULT_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    app: QApplication = application()
    shots = (import_dialog_shot(folder), source_changed_shot(folder), main_window_shot(folder))
    for path in (*shots, *EXTRA):
        print(f"wrote {path}")
    app.processEvents()
    from dami_gui.app.main import leave

    return leave(0)


if __name__ == "__main__":
    sys.exit(main())
