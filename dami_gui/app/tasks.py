"""The app's one way to run long work off the GUI thread: :class:`Worker` and :class:`TaskSlot`.

Modelled on superqt's ``_qthreading`` and Orange's ``concurrent`` helpers, cut down to what the
app needs. A task is a plain function ``fn(progress, cancel) -> result`` in the style of
:mod:`dami_gui.core.progress`.

:class:`Worker` runs one task in a fresh :class:`QThread` and reports through its signals:

* ``progress(stage, fraction)``, throttled to about 20 per second so a tight loop cannot flood the
  GUI's event queue;
* exactly one of ``finished(result)`` (the function returned, even if a cancel was asked
  meanwhile: whoever asked decides what the result is worth), ``errored(exception)`` (the
  exception object itself; its traceback text is kept in ``error_details``) or ``cancelled()``
  (the function raised :class:`~dami_gui.core.errors.Cancelled`);
* then ``done()``.

:class:`TaskSlot` is how the app uses workers: it owns *the one current task of a kind* (the data
being opened, the running round, the UMAP map, …). ``slot.start(fn, name, on_finished=…)``
cancels the slot's previous task, and whatever a superseded or cancelled task reports later
(progress, result, error) is dropped here, in one place; its result, if it still produced one,
goes to ``on_discarded`` so that, say, a project opened for nothing is closed again. The
callbacks run in the GUI thread: the slot relays the worker's signals through a QObject that
lives there, so they may touch widgets and may be plain functions or lambdas.

Cancelling sets the :class:`~dami_gui.core.progress.CancelToken` the task checks. Nobody waits
for a thread: running workers are kept alive in a class registry until their thread ends, so one
that is stuck in a part that cannot be interrupted simply finishes later, unobserved.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from PySide6.QtCore import QObject, QThread, Signal, Slot

from dami_gui.core.errors import Cancelled, DamiError
from dami_gui.core.progress import CancelToken, ProgressCallback

log = logging.getLogger("dami_gui.app")

T = TypeVar("T")
Task = Callable[[ProgressCallback, CancelToken], T]


class Worker(QObject):
    """Runs one task in its own QThread; see the module docstring for the protocol.

    Connect its signals to *methods of QObjects that live in the GUI thread*: Qt then queues the
    call to the GUI thread. PySide runs a plain lambda or function in the thread that emits,
    i.e. the worker thread, where touching widgets is not allowed. :class:`TaskSlot` does this.
    """

    progress = Signal(str, float)
    finished = Signal(object)
    errored = Signal(object)  # the exception (a BaseException)
    cancelled = Signal()
    done = Signal()

    #: Workers whose thread is still running, kept referenced so Python never deletes them early.
    running: ClassVar[dict[QThread, Worker]] = {}

    PROGRESS_INTERVAL = 0.05  # seconds between two progress signals (a new stage always goes)

    def __init__(self, fn: Task[Any], name: str = "task") -> None:
        super().__init__()
        self.fn = fn
        self.name = name
        self.token = CancelToken()
        self.error_details: str | None = None  # the traceback of a failure, for the log
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
        # ``_ThreadEnd`` lives in the GUI thread, so the references are dropped there, after the
        # thread has ended (dropping the last one inside the thread would delete it mid-run).
        _ThreadEnd(thread)
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
            self.errored.emit(error)
        except Exception as error:
            self.error_details = traceback.format_exc()
            log.error("%s failed:\n%s", self.name, self.error_details)
            self.errored.emit(error)
        else:
            self.finished.emit(result)
        finally:
            self.done.emit()


class _ThreadEnd(QObject):
    """Drops the registry's reference to one worker once its thread has finished (GUI thread)."""

    #: Those whose thread is still running (each drops itself when its thread has ended).
    pending: ClassVar[set[_ThreadEnd]] = set()

    def __init__(self, thread: QThread) -> None:
        super().__init__()
        self.worker_thread = thread
        _ThreadEnd.pending.add(self)
        thread.finished.connect(self.forget)

    @Slot()
    def forget(self) -> None:
        _ThreadEnd.pending.discard(self)
        Worker.running.pop(self.worker_thread, None)
        self.worker_thread.wait()  # already finished: returns at once


# ------------------------------------------------------------------------------ the slot


@dataclass(frozen=True)
class Failure:
    """Why a task failed: the exception, the sentence shown to the user, the traceback text."""

    error: BaseException
    message: str
    details: str

    @classmethod
    def of(cls, error: BaseException, doing: str, details: str | None = None) -> Failure:
        """The failure of the task described by ``doing`` ("running the round").

        A :class:`~dami_gui.core.errors.DamiError` already is a sentence for the user; anything
        else is unexpected and says so, with its type, while the traceback goes to the log.
        """
        if isinstance(error, DamiError):
            message = str(error)
        else:
            message = f"Something went wrong while {doing} ({type(error).__name__}: {error})."
        if details is None:
            details = "".join(traceback.format_exception(error))
        return cls(error, message, details)


@dataclass(frozen=True)
class _Callbacks(Generic[T]):
    finished: Callable[[T], object] | None
    errored: Callable[[Failure], object] | None
    cancelled: Callable[[], object] | None
    progress: Callable[[str, float], object] | None
    discarded: Callable[[T], object] | None


class _Run(QObject):
    """One start of a :class:`TaskSlot`: relays its worker's signals while it is the current one.

    It lives in the GUI thread (a child of the slot), so the worker's signals reach it queued,
    and it is the only place that tells a current task from a superseded one.
    """

    def __init__(self, slot: TaskSlot, worker: Worker, callbacks: _Callbacks[Any]) -> None:
        super().__init__(slot)
        self.slot = slot
        self.worker = worker
        self.callbacks = callbacks
        worker.progress.connect(self.on_progress)
        worker.finished.connect(self.on_finished)
        worker.errored.connect(self.on_errored)
        worker.cancelled.connect(self.on_cancelled)

    def _take(self) -> bool:
        """Is this the slot's current task? Then it no longer is (it has ended)."""
        self.slot._runs.discard(self)
        self.deleteLater()  # its worker has reported its outcome: nothing more will come
        if self.slot._current is not self:
            return False
        self.slot._current = None
        return True

    @Slot(str, float)
    def on_progress(self, stage: str, fraction: float) -> None:
        if self.slot._current is self and self.callbacks.progress is not None:
            self.callbacks.progress(stage, fraction)

    @Slot(object)
    def on_finished(self, result: object) -> None:
        current = self._take()
        if current and not self.worker.token.cancelled:
            if self.callbacks.finished is not None:
                self.callbacks.finished(result)
            return
        if self.callbacks.discarded is not None:
            self.callbacks.discarded(result)  # nobody wants it: release what it holds
        if current and self.callbacks.cancelled is not None:  # cancelled from outside the slot
            self.callbacks.cancelled()

    @Slot(object)
    def on_errored(self, error: BaseException) -> None:
        if not self._take():
            log.debug("%s failed after it was superseded: %s", self.worker.name, error)
            return
        failure = Failure.of(error, self.worker.name, self.worker.error_details)
        if self.callbacks.errored is not None:
            self.callbacks.errored(failure)

    @Slot()
    def on_cancelled(self) -> None:
        if self._take() and self.callbacks.cancelled is not None:
            self.callbacks.cancelled()


class TaskSlot(QObject):
    """The one current task of a kind: starting one cancels the previous one.

    Each callback is called at most once per start, in the GUI thread, and only while that start
    is the slot's current task: a superseded or cancelled task never reaches them (except
    ``on_discarded``, which receives the result a superseded or cancelled task still produced).
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._current: _Run | None = None
        self._runs: set[_Run] = set()  # started and not yet ended, kept alive until they end

    @property
    def running(self) -> bool:
        """A task of this slot is running and its outcome is still wanted."""
        return self._current is not None

    def start(
        self,
        fn: Task[T],
        name: str,
        *,
        on_finished: Callable[[T], object] | None = None,
        on_errored: Callable[[Failure], object] | None = None,
        on_cancelled: Callable[[], object] | None = None,
        on_progress: Callable[[str, float], object] | None = None,
        on_discarded: Callable[[T], object] | None = None,
    ) -> Worker:
        """Cancel the current task (quietly) and run ``fn`` as the new one.

        ``name`` says what it does ("reading pool.csv"): the thread's name, and the sentence of
        an unexpected failure ("Something went wrong while reading pool.csv …").
        """
        self.cancel(quiet=True)
        worker = Worker(fn, name=name)
        callbacks = _Callbacks(on_finished, on_errored, on_cancelled, on_progress, on_discarded)
        run = _Run(self, worker, callbacks)
        self._runs.add(run)
        self._current = run
        worker.start()
        return worker

    def cancel(self, quiet: bool = False) -> bool:
        """Cancel the current task; False when there is none.

        Its ``on_cancelled`` is called at once unless ``quiet``; nothing it reports later arrives.
        The thread is not waited for.
        """
        run = self._current
        if run is None:
            return False
        self._current = None
        run.worker.cancel()
        if not quiet and run.callbacks.cancelled is not None:
            run.callbacks.cancelled()
        return True
