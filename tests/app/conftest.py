"""Fixtures for the app tests: a headless main window on the real demo, with a small network.

The window runs without UMAP (PCA map only) so the tests never pay numba's compilation, and
with a small MLP, a small ensemble's student (the default learner's kind, with a short student
training on a few hundred rows) and batches of five rows so a round takes about a second.
"""

from __future__ import annotations

import gc
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pandas as pd
import pytest
from PySide6.QtWidgets import QApplication

from dami_gui.app.main_window import MainWindow
from dami_gui.app.map.view import MapView
from dami_gui.app.palette import ClassColors
from dami_gui.app.tasks import Worker
from dami_gui.core.data.dataset import build_dataset
from dami_gui.core.data.roles import infer_roles
from dami_gui.core.learner import LearnerConfig
from dami_gui.core.model import MLPConfig
from dami_gui.core.session import Session

SMALL = MLPConfig(hidden=(32, 32), min_epochs=20, min_steps=100)
#: The default learner's kind (an ensemble and its student), trained briefly.
FAST_ENSEMBLE = LearnerConfig(
    transfer_rows=400, augment_to=0, student_epochs=3, student_min_steps=60
)
BATCH = 5


def shown_map(
    qtbot, session: Session, size: tuple[int, int] = (800, 600), density_above: int | None = None
) -> MapView:
    """A map of ``session`` shown at ``size``; ``density_above`` replaces the row count above
    which the pool is drawn as a density image (the map's own threshold when None)."""
    view = MapView(ClassColors())
    if density_above is not None:
        view.DENSITY_ABOVE = density_above
    qtbot.addWidget(view)
    view.resize(*size)
    view.show()
    view.set_session(session)
    return view


def clustered_session(
    n: int, classes: list[str], features: int, labeled: int, batch: int, seed: int
) -> Session:
    """A pool of ``n`` rows in one Gaussian cluster per class, ``labeled`` rows labeled at
    random, after one round of ``batch`` picks with a tiny network: the map tests' pool."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(len(classes), features)) * 3
    y = rng.integers(0, len(classes), n)
    X = centers[y] + rng.normal(size=(n, features))
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(features)])
    dataset = build_dataset(frame, infer_roles(frame), classes=classes)
    session = Session(
        dataset,
        batch_size=batch,
        model_config=MLPConfig(hidden=(16, 16), min_epochs=5, min_steps=30),
        estimate_accuracy=False,
        truth=y,
    )
    for row in rng.choice(n, labeled, replace=False):
        session.label(int(row), int(y[row]))
    session.run_round()
    return session


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
def settings_in_tmp(tmp_path):
    """``QSettings`` go to a temporary folder (the recent list, folders, the measured compile
    time), not to the user's settings."""
    from PySide6.QtCore import QSettings

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "settings")
    )
    QSettings().clear()
    yield
    QSettings().clear()


@pytest.fixture
def make_window(qtbot):
    """Build windows with chosen session options; closes them and waits for their threads."""
    windows: list[MainWindow] = []

    def make(**session_options) -> MainWindow:
        options = {
            "batch_size": BATCH,
            "model_config": SMALL,
            "learner": FAST_ENSEMBLE,
            **session_options,
        }
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
    """A window on the demo with round 1 done (five queries waiting). No row is labeled, so
    round 1 is a cold start: typical rows of the pool, no model yet."""
    window = make_window()
    open_demo(qtbot, window)
    return window


def answer_until_a_model(qtbot, window: MainWindow, timeout: int = 120_000) -> None:
    """Answer the queries with the demo's known classes, round after round, until the last
    round has a model (rows of two classes labeled); the next round starts by itself."""
    session = window.session
    assert session is not None and session.truth is not None
    while not session.last_round.has_model:
        with qtbot.waitSignal(window.rounds.committed, timeout=timeout):
            for row in session.queries.copy():
                session.label(int(row), int(session.truth[row]))


@pytest.fixture
def model_window(qtbot, demo_window) -> MainWindow:
    """The demo once round 1 (a cold start) is answered with its known classes: round 2, the
    first with a model, is committed (five queries waiting)."""
    answer_until_a_model(qtbot, demo_window)
    return demo_window


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
