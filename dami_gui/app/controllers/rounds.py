"""Runs rounds: ``session.compute_round`` in a :class:`Worker`, then ``commit_round`` here.

The controller lives in the GUI thread. It starts a round on demand or, when the window asks for
it, once every current query is answered (after a short pause, so a quick Ctrl+Z can still take
the last answer back). Cancelling leaves the session exactly as it was: ``compute_round`` changes
nothing, and a cancelled or failed result is never committed.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from dami_gui.app.binding import SessionLink
from dami_gui.app.tasks import Worker
from dami_gui.core.progress import CancelToken, ProgressCallback
from dami_gui.core.records import RoundResult
from dami_gui.core.session import Session

log = logging.getLogger("dami_gui.app")


class RoundController(QObject):
    """Starts, cancels and commits rounds of one session."""

    started = Signal()
    progress = Signal(str, float)
    committed = Signal(object)  # RoundResult
    failed = Signal(str)  # a sentence for the user
    cancelled = Signal()
    stopped = Signal()  # after any of committed / failed / cancelled

    #: Pause between the last answer of a batch and the automatic next round (milliseconds).
    AUTO_DELAY_MS = 600

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session: Session | None = None
        self.worker: Worker | None = None
        self._worker_session: Session | None = None
        self._session_link = SessionLink(self, self._on_session)
        self.auto_next: Callable[[], bool] = lambda: False
        self.last_error: str | None = None
        self.last_details: str | None = None  # traceback of the last failure, for the log
        self._auto_timer = QTimer(self)
        self._auto_timer.setSingleShot(True)
        self._auto_timer.setInterval(self.AUTO_DELAY_MS)
        self._auto_timer.timeout.connect(self._auto_fire)

    @property
    def running(self) -> bool:
        return self.worker is not None

    def set_session(self, session: Session | None) -> None:
        """Follow ``session``; a round still running for the old one is cancelled and ignored."""
        self.cancel()
        self._auto_timer.stop()
        self.session = session
        self._session_link.switch(session)

    def start(self) -> bool:
        """Start a round in the background; False when one is running or there is no data."""
        session = self.session
        if session is None or self.worker is not None:
            return False
        self._auto_timer.stop()

        def task(progress: ProgressCallback, cancel: CancelToken) -> RoundResult:
            return session.compute_round(progress, cancel)

        worker = Worker(task, name="running the round")
        worker.progress.connect(self._on_progress)
        worker.finished.connect(self._on_finished)
        worker.errored.connect(self._on_errored)
        worker.cancelled.connect(self._on_cancelled)
        self.worker = worker
        self._worker_session = session
        worker.start()
        log.info(
            "Round %d started (%s, %d rows)",
            len(session.rounds) + 1,
            session.strategy,
            session.batch_size,
        )
        self.started.emit()
        return True

    def cancel(self) -> None:
        """Stop the running round; the session stays as before. The thread is not waited for."""
        worker = self.worker
        if worker is None:
            return
        worker.cancel()
        self._detach()
        log.info("Round cancelled")
        self.cancelled.emit()
        self.stopped.emit()

    def _detach(self) -> None:
        worker = self.worker
        if worker is not None:
            for signal, slot in (
                (worker.progress, self._on_progress),
                (worker.finished, self._on_finished),
                (worker.errored, self._on_errored),
                (worker.cancelled, self._on_cancelled),
            ):
                with contextlib.suppress(RuntimeError, TypeError):
                    signal.disconnect(slot)
        self.worker = None
        self._worker_session = None

    # -- worker signals (GUI thread) -------------------------------------------------------
    def _current(self) -> bool:
        return self.worker is not None and self.sender() is self.worker

    def _on_progress(self, stage: str, fraction: float) -> None:
        if self._current():
            self.progress.emit(stage, fraction)

    def _on_finished(self, result: object) -> None:
        if not self._current():
            return
        session = self._worker_session
        self._detach()
        if session is None or session is not self.session:
            return
        try:
            session.commit_round(result)  # type: ignore[arg-type]
        except Exception as error:
            log.exception("Could not record the round")
            self._fail(f"The round could not be recorded: {error}")
            return
        estimate = result.accuracy_estimate  # type: ignore[attr-defined]
        log.info(
            "Round %d done: %d rows to label, %s",
            result.index,  # type: ignore[attr-defined]
            len(result.queries),  # type: ignore[attr-defined]
            "no accuracy estimate yet"
            if estimate is None
            else f"estimated accuracy {estimate:.0%}",
        )
        self.committed.emit(result)
        self.stopped.emit()

    def _on_errored(self, message: str) -> None:
        if not self._current():
            return
        self.last_details = self.worker.error_details if self.worker is not None else None
        self._detach()
        self._fail(message)

    def _fail(self, message: str) -> None:
        self.last_error = message
        self.failed.emit(message)
        self.stopped.emit()

    def _on_cancelled(self) -> None:
        if not self._current():
            return
        self._detach()
        self.cancelled.emit()
        self.stopped.emit()

    # -- automatic next round --------------------------------------------------------------
    def _on_session(self, kind: str, payload: object) -> None:
        if kind == "labels" and self.auto_next() and self._batch_done():
            self._auto_timer.start()

    def _batch_done(self) -> bool:
        if self.session is None or not self.session.rounds:
            return False
        done, total = self.session.query_status()
        return total > 0 and done == total

    def _auto_fire(self) -> None:
        if self.auto_next() and self._batch_done() and not self.running:
            self.start()
