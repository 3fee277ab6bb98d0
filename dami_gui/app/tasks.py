"""The app's one way to run long work off the GUI thread: :class:`Worker`, a QObject in a QThread.

Modelled on superqt's ``_qthreading`` and Orange's ``concurrent`` helpers, cut down to what the
app needs. A task is a plain function ``fn(progress, cancel) -> result`` in the style of
:mod:`dami_gui.core.progress`; :meth:`Worker.start` runs it in a fresh :class:`QThread` and the
worker reports through its signals:

* ``progress(stage, fraction)``, throttled to about 20 per second so a tight loop cannot flood the
  GUI's event queue;
* exactly one of ``finished(result)``, ``errored(sentence)`` or ``cancelled()``;
* then ``done()``.

Connect the signals to *methods of QObjects that live in the GUI thread* (a window, a widget):
Qt then queues the call to the GUI thread. PySide runs a plain lambda or function in the thread
that emits, i.e. the worker thread, where touching widgets is not allowed.

Cancelling sets the :class:`~dami_gui.core.progress.CancelToken` the task checks; the worker
reports ``cancelled`` as soon as the task raises :class:`~dami_gui.core.errors.Cancelled`. Nobody
waits for a thread: running workers are kept alive in a module registry until their thread ends,
so one that is stuck in a part that cannot be interrupted simply finishes later, unobserved.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from typing import Any, ClassVar

from PySide6.QtCore import QObject, QThread, Signal, Slot

from dami_gui.core.errors import Cancelled, DamiError
from dami_gui.core.progress import CancelToken, ProgressCallback

log = logging.getLogger("dami_gui.app")

Task = Callable[[ProgressCallback, CancelToken], Any]


class Worker(QObject):
    """Runs one task in its own QThread; see the module docstring for the protocol."""

    progress = Signal(str, float)
    finished = Signal(object)
    errored = Signal(str)
    cancelled = Signal()
    done = Signal()

    #: Workers whose thread is still running, kept referenced so Python never deletes them early.
    running: ClassVar[dict[QThread, Worker]] = {}

    PROGRESS_INTERVAL = 0.05  # seconds between two progress signals (a new stage always goes)

    def __init__(self, fn: Task, name: str = "task") -> None:
        super().__init__()
        self.fn = fn
        self.name = name
        self.token = CancelToken()
        self.error_details: str | None = None
        self.thread_: QThread | None = None
        self._last_emit = 0.0
        self._last_stage: str | None = None

    # -- GUI-thread side -------------------------------------------------------------------
    def start(self) -> Worker:
        """Move to a new QThread and run the task there; returns ``self`` for chaining."""
        thread = QThread()
        thread.setObjectName(f"dami-{self.name}")
        self.thread_ = thread
        self.moveToThread(thread)
        thread.started.connect(self.run)
        self.done.connect(thread.quit)
        # ``_Reaper`` lives in the GUI thread, so the references are dropped there, after the
        # thread has ended (dropping the last one inside the thread would delete it mid-run).
        thread.finished.connect(_reaper().forget)
        Worker.running[thread] = self
        thread.start()
        return self

    def cancel(self) -> None:
        """Ask the task to stop; it raises ``Cancelled`` at its next check."""
        self.token.cancel()

    @property
    def is_running(self) -> bool:
        return self.thread_ is not None and self.thread_.isRunning()

    @classmethod
    def cancel_all(cls) -> None:
        """Cancel every running worker (at exit); does not wait."""
        for worker in list(cls.running.values()):
            worker.cancel()

    # -- worker-thread side ----------------------------------------------------------------
    def _report(self, stage: str, fraction: float) -> None:
        now = time.monotonic()
        if (
            stage != self._last_stage
            or fraction >= 1.0
            or now - self._last_emit >= self.PROGRESS_INTERVAL
        ):
            self._last_stage = stage
            self._last_emit = now
            self.progress.emit(stage, float(fraction))

    @Slot()
    def run(self) -> None:
        """Run the task and emit its outcome; called in the worker thread."""
        try:
            result = self.fn(self._report, self.token)
        except Cancelled:
            self.cancelled.emit()
        except DamiError as error:
            self.error_details = traceback.format_exc()
            log.warning("%s: %s", self.name, error)
            self.errored.emit(str(error))
        except Exception as error:
            self.error_details = traceback.format_exc()
            log.error("%s failed:\n%s", self.name, self.error_details)
            self.errored.emit(
                f"Something went wrong while {self.name} ({type(error).__name__}: {error})."
            )
        else:
            if self.token.cancelled:
                self.cancelled.emit()
            else:
                self.finished.emit(result)
        finally:
            self.done.emit()


class _Reaper(QObject):
    """Drops the registry's reference to a worker once its thread has finished (GUI thread)."""

    @Slot()
    def forget(self) -> None:
        thread = self.sender()
        worker = Worker.running.pop(thread, None)  # type: ignore[call-overload]
        if worker is not None and isinstance(thread, QThread):
            thread.wait()  # already finished: returns at once


_REAPER: _Reaper | None = None


def _reaper() -> _Reaper:
    global _REAPER
    if _REAPER is None:
        _REAPER = _Reaper()
    return _REAPER
