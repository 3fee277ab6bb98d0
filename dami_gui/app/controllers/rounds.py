"""Runs rounds: ``session.compute_round`` in a task, then ``commit_round`` here.

The controller lives in the GUI thread. It starts a round on demand or, when the window asks for
it, once every current query is answered (after a short pause, so a quick Ctrl+Z can still take
the last answer back). Cancelling leaves the session exactly as it was: ``compute_round`` changes
nothing, and a cancelled, superseded or failed result is never committed (its
:class:`~dami_gui.app.tasks.TaskSlot` drops it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from dami_gui.app.binding import SessionLink
from dami_gui.app.tasks import Failure, TaskSlot
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
        self.slot = TaskSlot(self)
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
        return self.slot.running

    def set_session(self, session: Session | None) -> None:
        """Follow ``session``; a round still running for the old one is cancelled and ignored."""
        self.cancel()
        self._auto_timer.stop()
        self.session = session
        self._session_link.switch(session)

    def start(self) -> bool:
        """Start a round in the background; False when one is running or there is no data."""
        session = self.session
        if session is None or self.slot.running:
            return False
        self._auto_timer.stop()

        def task(progress: ProgressCallback, cancel: CancelToken) -> RoundResult:
            return session.compute_round(progress, cancel)

        self.slot.start(
            task,
            "running the round",
            on_finished=lambda result: self._commit(session, result),
            on_errored=self._on_errored,
            on_cancelled=self._on_cancelled,
            on_progress=self.progress.emit,
        )
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
        self.slot.cancel()  # calls _on_cancelled when a round was running

    # -- the round's outcome (GUI thread, current round only) ------------------------------
    def _commit(self, session: Session, result: RoundResult) -> None:
        if session is not self.session:
            return
        try:
            session.commit_round(result)
        except Exception as error:
            log.exception("Could not record the round")
            self._fail(f"The round could not be recorded: {error}")
            return
        estimate = result.accuracy_estimate
        log.info(
            "Round %d done: %d rows to label, %s",
            result.index,
            len(result.queries),
            "no accuracy estimate yet"
            if estimate is None
            else f"estimated accuracy {estimate:.0%}",
        )
        self.committed.emit(result)
        self.stopped.emit()

    def _on_errored(self, failure: Failure) -> None:
        self.last_details = failure.details
        self._fail(failure.message)

    def _fail(self, message: str) -> None:
        self.last_error = message
        self.failed.emit(message)
        self.stopped.emit()

    def _on_cancelled(self) -> None:
        log.info("Round cancelled")
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
