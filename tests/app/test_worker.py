"""The app's one worker class: outcome signals, throttled progress, cancel, errors as objects."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QObject

from dami_gui.app.tasks import Failure, Worker
from dami_gui.core.errors import DataError

from .conftest import wait_for_workers


class Receiver(QObject):
    """Lives in the GUI thread, so the worker's signals are delivered here (queued)."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[str, object]] = []
        self.threads: set[str] = set()

    def progress(self, stage: str, fraction: float) -> None:
        self.events.append(("progress", (stage, fraction)))
        self.threads.add(threading.current_thread().name)

    def finished(self, result: object) -> None:
        self.events.append(("finished", result))
        self.threads.add(threading.current_thread().name)

    def errored(self, error: BaseException) -> None:
        self.events.append(("errored", error))

    def cancelled(self) -> None:
        self.events.append(("cancelled", None))


def start(fn, name: str = "testing") -> tuple[Worker, Receiver]:
    worker = Worker(fn, name=name)
    receiver = Receiver()
    worker.progress.connect(receiver.progress)
    worker.finished.connect(receiver.finished)
    worker.errored.connect(receiver.errored)
    worker.cancelled.connect(receiver.cancelled)
    worker.start()
    return worker, receiver


def test_result_arrives_in_the_gui_thread_with_throttled_progress(qtbot):
    ran_in: list[str] = []

    def task(progress, cancel):
        ran_in.append(threading.current_thread().name)
        for i in range(10_000):
            progress("Counting", i / 10_000)
        progress("Counting", 1.0)
        return 42

    _worker, receiver = start(task)
    # (not qtbot.waitSignal on the worker: pytest-qt would handle it in the worker thread)
    qtbot.waitUntil(
        lambda: bool(receiver.events) and receiver.events[-1][0] == "finished", timeout=10_000
    )
    assert receiver.events[-1] == ("finished", 42)
    n_progress = sum(1 for kind, _ in receiver.events if kind == "progress")
    assert 1 <= n_progress < 200  # 10 000 calls, throttled
    assert receiver.events[-2] == ("progress", ("Counting", 1.0))
    assert ran_in[0] != threading.current_thread().name
    assert receiver.threads == {threading.current_thread().name}
    wait_for_workers(qtbot)
    assert not Worker.running


def test_cancel_stops_the_task(qtbot):
    started = threading.Event()

    def task(progress, cancel):
        started.set()
        while True:
            cancel.check()
            threading.Event().wait(0.001)

    worker, receiver = start(task)
    qtbot.waitUntil(started.is_set)
    worker.cancel()
    qtbot.waitUntil(lambda: receiver.events == [("cancelled", None)], timeout=5_000)
    wait_for_workers(qtbot)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            DataError("The file is empty; choose another file."),
            "The file is empty; choose another file.",
        ),
        (
            ZeroDivisionError("division by zero"),
            "Something went wrong while testing (ZeroDivisionError: division by zero).",
        ),
    ],
)
def test_errors_arrive_as_the_exception_and_become_sentences(qtbot, error, expected):
    def task(progress, cancel):
        raise error

    worker, receiver = start(task)
    qtbot.waitUntil(lambda: len(receiver.events) == 1, timeout=5_000)
    kind, received = receiver.events[0]
    assert kind == "errored" and received is error  # the exception itself, not a copy
    assert "Traceback" in (worker.error_details or "")
    failure = Failure.of(received, worker.name, worker.error_details)
    assert failure.message == expected and failure.error is error
    assert type(error).__name__ in failure.details
    wait_for_workers(qtbot)
