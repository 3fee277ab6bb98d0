"""Fixtures for the app tests: a headless main window on the real demo, with a small network.

The window runs without UMAP (PCA map only) so the tests never pay numba's compilation, and
with a small MLP and batches of five rows so a round takes a fraction of a second.
"""

from __future__ import annotations

import gc
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtWidgets import QApplication

from dami_gui.app.main_window import MainWindow
from dami_gui.app.tasks import Worker
from dami_gui.core.model import MLPConfig

SMALL = MLPConfig(hidden=(32, 32), min_epochs=20, min_steps=100)
BATCH = 5


def wait_for_workers(qtbot, timeout: int = 15_000) -> None:
    """Every worker thread has ended (cancelled ones included)."""
    qtbot.waitUntil(lambda: not Worker.running, timeout=timeout)


@pytest.fixture(autouse=True)
def collect_in_gui_thread():
    """Collect each test's cyclic garbage (Qt objects) here, in the GUI thread.

    Otherwise Python may collect it later in whatever thread allocates, e.g. a worker thread,
    and Qt objects such as timers must not be destroyed from another thread.
    """
    yield
    gc.collect()


@pytest.fixture
def make_window(qtbot):
    """Build windows with chosen session options; closes them and waits for their threads."""
    windows: list[MainWindow] = []

    def make(**session_options) -> MainWindow:
        options = {"batch_size": BATCH, "model_config": SMALL, **session_options}
        window = MainWindow(use_umap=False, session_options=options)
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.show()
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.close()
    wait_for_workers(qtbot)


def open_demo(qtbot, window: MainWindow, timeout: int = 120_000) -> None:
    """Open the demo and wait until round 1 is committed."""
    with qtbot.waitSignal(window.rounds.committed, timeout=timeout):
        window.loading.open_demo()


@pytest.fixture
def demo_window(qtbot, make_window) -> MainWindow:
    """A window on the demo with round 1 done (five queries waiting)."""
    window = make_window()
    open_demo(qtbot, window)
    return window


@pytest.fixture
def run_main(qtbot, monkeypatch, tmp_path):
    """Run ``dami_gui.app.main.main(argv)`` with the event loop replaced: ``inspect(window)`` is
    called on the shown main window, which is then closed; returns main's exit code.

    The log goes to ``tmp_path``, ``sys.excepthook`` is restored after the test, and main's exit
    is a plain return.
    """
    import sys

    from dami_gui.app import main as app_main

    monkeypatch.setattr(app_main, "setup_file_log", lambda: tmp_path / "test.log")
    monkeypatch.setattr(app_main, "leave", lambda code: code)
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)

    def run(argv: list[str], inspect) -> int:
        def exec_stub(self=None):
            window = next(
                w
                for w in QApplication.topLevelWidgets()
                if isinstance(w, MainWindow) and w.isVisible()
            )
            qtbot.addWidget(window)
            inspect(window)
            window.close()
            return 0

        monkeypatch.setattr(QApplication, "exec", exec_stub)
        return app_main.main(argv)

    return run
