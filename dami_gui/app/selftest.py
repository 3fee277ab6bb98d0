"""``dami-gui --selftest``: prove that an installed (frozen) app works, step by step.

Runs offscreen, with no user: opens the demo, runs a round with each stage (train, interpret,
select, then both map layouts, UMAP included so numba's compiler is exercised in the bundle),
labels the queries from the demo's ground truth, runs a second round (the ensemble teacher and
its exact student network: scikit-learn's members must be in the bundle), shows the session in the
main window and renders it, writes a project file to a temporary folder and reopens it. Each
step's time is printed; the exit code is 0 only if every step worked.

On Linux it also says whether the system libraries Qt needs for a window (X11) are here, in the
bundle or on the system, and which packages to install if not (:mod:`.qt_libraries`): the
self-test itself runs offscreen, so a missing one is a warning about this machine, not a failure
of the installation.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np

T = TypeVar("T")


class _StepFailed(Exception):
    """A step failed (already reported); the steps after it are skipped."""


class _Steps:
    """Runs named steps, prints each one's time, and stops at the first failure."""

    def __init__(self) -> None:
        self.failed: str | None = None
        self.started = time.perf_counter()

    def __call__(self, name: str, fn: Callable[[], T]) -> T:
        """``fn()``, timed; a failure is printed, then raised again as :class:`_StepFailed`."""
        t0 = time.perf_counter()
        try:
            value = fn()
        except Exception as exc:  # the self-test reports every failure as a failed step
            self.failed = name
            print(f"FAIL  {name}: {exc}", flush=True)
            traceback.print_exc()
            raise _StepFailed(name) from exc
        print(f"ok    {name:<48} {time.perf_counter() - t0:7.2f} s", flush=True)
        return value


def _accuracy(value: float | None) -> str:
    """A round's test accuracy, or what stands for it before a model exists (a cold start)."""
    return "none yet (no model)" if value is None else f"{value:.3f}"


def window_libraries() -> str:
    """One line: whether every library Qt's X11 plugin needs is found, and where."""
    from dami_gui.app.qt_libraries import (
        LIBRARIES,
        bundle_folders,
        install_sentence,
        missing_libraries,
    )

    missing = missing_libraries()
    if missing:
        return f"WARN  system libraries for a window: {install_sentence(missing)}"
    bundled = [s for s in LIBRARIES if any((f / s).exists() for f in bundle_folders())]
    return (
        f"ok    system libraries for a window (X11): all {len(LIBRARIES)} found, "
        f"{len(bundled)} of them in the bundle"
    )


def run_selftest(umap: bool = True) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from dami_gui.app.application import application
    from dami_gui.app.main_window import MainWindow
    from dami_gui.core.data.demo import load_demo
    from dami_gui.core.embedding import pca_layout, umap_layout
    from dami_gui.core.project.creating import create_project
    from dami_gui.core.project.opening import open_project

    step = _Steps()
    print(f"dami-gui self-test ({sys.platform}, frozen={getattr(sys, 'frozen', False)})")
    if sys.platform.startswith("linux"):
        print(window_libraries(), flush=True)
    try:
        app = step("start Qt", lambda: application([]))
        window = step("create the main window", lambda: MainWindow(use_umap=False))
        demo = step("load the demo data set", load_demo)
        from dami_gui.core.records import RoundResult
        from dami_gui.core.session import Session

        session = Session(demo.dataset, truth=demo.truth, batch_size=20)
        first = step("round 1: train, interpret, select", lambda: session.run_round())
        stages = ", ".join(f"{k} {v:.2f} s" for k, v in first.timings.items())
        print(f"      stages: {stages}; {len(first.queries)} queries")
        step("map layout: PCA", lambda: pca_layout(demo.dataset.X))
        if umap:
            step("map layout: UMAP (compiles numba code)", lambda: umap_layout(demo.dataset.X))

        def label_queries() -> None:
            if len(session.queries) == 0:
                raise RuntimeError("round 1 chose no rows")
            for row in session.queries:
                session.label(int(row), int(demo.truth[row]))

        step("label the queries from the ground truth", label_queries)

        def teacher_round() -> RoundResult:
            result = session.run_round()
            if result.info.get("learner", {}).get("kind") != "ensemble" or result.teacher is None:
                raise RuntimeError("round 2 did not learn with the ensemble and its student")
            return result

        second = step("round 2: the ensemble teacher and its exact student", teacher_round)
        stages = ", ".join(f"{k} {v:.2f} s" for k, v in second.timings.items())
        print(f"      stages: {stages}; fidelity {second.info.get('fidelity')}")
        print(
            f"      test accuracy {_accuracy(first.test_accuracy)} -> "
            f"{_accuracy(second.test_accuracy)}"
        )

        def show() -> None:
            window.set_session(session, start=False)
            window.resize(1280, 800)
            window.show()
            app.processEvents()
            if window.grab().isNull():
                raise RuntimeError("the window rendered nothing")

        step("show the session in the main window", show)
        folder = Path(tempfile.mkdtemp(prefix="dami-selftest-"))
        path = folder / "selftest.dami"

        def write() -> None:
            create_project(path, session).close()

        def reopen() -> None:
            with open_project(path, readonly=True) as project:
                again = project.session
                if not np.array_equal(again.labels, session.labels):
                    raise RuntimeError("the reopened project has other labels")
                if len(again.rounds) != 2:
                    raise RuntimeError(
                        f"the reopened project has {len(again.rounds)} rounds, not 2"
                    )

        step("write a project file", write)
        step("reopen it and compare", reopen)
        window.close()
    except _StepFailed:
        pass  # printed by the step
    total = time.perf_counter() - step.started
    if step.failed is not None:
        print(f"SELF-TEST FAILED at '{step.failed}' after {total:.1f} s")
        return 1
    print(f"SELF-TEST PASSED in {total:.1f} s")
    return 0
