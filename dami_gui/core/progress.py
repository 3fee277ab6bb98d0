"""Progress reporting and cancellation for long work, shared by the CLI and the app's worker.

Long functions take a ``progress`` callback and a ``cancel`` token. They call
``progress(stage, fraction)`` now and then and ``cancel.check()`` between steps, which raises
:class:`~dami_gui.core.errors.Cancelled` once cancellation was requested. Both are optional, so a
test or a script can call the same function with neither.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from dami_gui.core.errors import Cancelled

ProgressCallback = Callable[[str, float], None]


class CancelToken:
    """A flag that one thread sets and another checks; thread-safe."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        if self._event.is_set():
            raise Cancelled()


class Reporter:
    """Bundles a callback and a token, and maps a sub-step's 0..1 onto a slice of the whole.

    ``Reporter(cb, token).sub(0.2, 0.5)`` gives a reporter whose ``0..1`` lands in ``0.2..0.5``
    of the caller's bar, so nested steps need not know where they sit in a round.
    """

    def __init__(
        self,
        callback: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        start: float = 0.0,
        stop: float = 1.0,
        stage: str | None = None,
    ) -> None:
        self.callback = callback
        self.token = cancel
        self.start = start
        self.stop = stop
        self.stage = stage

    def __call__(self, stage: str | None, fraction: float) -> None:
        if self.callback is not None:
            fraction = min(max(fraction, 0.0), 1.0)
            self.callback(
                self.stage or stage or "", self.start + (self.stop - self.start) * fraction
            )

    def check(self) -> None:
        if self.token is not None:
            self.token.check()

    def sub(self, start: float, stop: float, stage: str | None = None) -> Reporter:
        width = self.stop - self.start
        return Reporter(
            self.callback,
            self.token,
            self.start + width * start,
            self.start + width * stop,
            stage if stage is not None else self.stage,
        )


def as_reporter(
    progress: ProgressCallback | Reporter | None = None, cancel: CancelToken | None = None
) -> Reporter:
    """Accept either a plain callback or a ready :class:`Reporter`."""
    if isinstance(progress, Reporter):
        return progress
    return Reporter(progress, cancel)
