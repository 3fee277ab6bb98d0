"""TaskSlot: the one current task of a kind; whatever a superseded or cancelled task reports is
dropped in the slot, its errors arrive as the exception itself, and cancel is immediate."""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal

from dami_gui.app.tasks import Failure, TaskSlot
from dami_gui.core.errors import DataError

from .conftest import wait_for_workers

TIMEOUT = 10_000


class Recorder(QObject):
    """Records the callbacks a slot calls, with the thread they run in; ``got`` after each."""

    got = Signal(str, object)

    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[str, object]] = []
        self.threads: set[str] = set()

    def callbacks(self, name: str) -> dict:
        def record(kind: str):
            def call(*args):
                value = args[0] if len(args) == 1 else (args or None)
                self.events.append((f"{name} {kind}", value))
                self.threads.add(threading.current_thread().name)
                self.got.emit(f"{name} {kind}", value)

            return call

        return {
            f"on_{kind}": record(kind)
            for kind in ("finished", "errored", "cancelled", "progress", "discarded")
        }

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.events]


def wait_for(qtbot, recorder: Recorder, kind: str):
    """Wait until the callback ``kind`` ("A finished") is called; returns its argument."""
    with qtbot.waitSignal(
        recorder.got, timeout=TIMEOUT, check_params_cb=lambda k, _value: k == kind
    ) as blocker:
        pass
    return blocker.args[1]


def gated(gate: threading.Event, started: threading.Event, result: object, fail: bool = False):
    """A task that starts, waits for ``gate`` (ignoring cancel), reports progress and returns
    ``result`` (or raises)."""

    def task(progress, cancel):
        started.set()
        gate.wait(TIMEOUT / 1000)
        progress("Working", 0.5)
        if fail:
            raise RuntimeError("late failure")
        return result

    return task


def test_the_current_task_reports_progress_and_its_result_in_the_gui_thread(qtbot):
    slot, recorder = TaskSlot(), Recorder()

    def task(progress, cancel):
        progress("Counting", 0.5)
        return 42

    with qtbot.waitSignal(recorder.got, check_params_cb=lambda k, _v: k == "A finished"):
        slot.start(task, "counting", **recorder.callbacks("A"))
        assert slot.running
    assert recorder.events == [("A progress", ("Counting", 0.5)), ("A finished", 42)]
    assert recorder.threads == {threading.current_thread().name}
    assert not slot.running
    wait_for_workers(qtbot)


def test_a_superseded_task_reaches_none_of_its_callbacks(qtbot):
    slot, recorder = TaskSlot(), Recorder()
    gate_a, started_a = threading.Event(), threading.Event()
    gate_b, started_b = threading.Event(), threading.Event()
    slot.start(gated(gate_a, started_a, "A's result"), "task A", **recorder.callbacks("A"))
    qtbot.waitUntil(started_a.is_set)
    slot.start(gated(gate_b, started_b, "B's result"), "task B", **recorder.callbacks("B"))
    gate_a.set()  # A goes on: progress, then its result, all while B is the current task
    assert wait_for(qtbot, recorder, "A discarded") == "A's result"  # only for cleanup
    assert recorder.kinds() == ["A discarded"]
    gate_b.set()
    assert wait_for(qtbot, recorder, "B finished") == "B's result"
    assert recorder.kinds() == ["A discarded", "B progress", "B finished"]
    wait_for_workers(qtbot)


def test_a_superseded_task_that_fails_is_dropped(qtbot):
    slot, recorder = TaskSlot(), Recorder()
    gate, started = threading.Event(), threading.Event()
    slot.start(gated(gate, started, None, fail=True), "task A", **recorder.callbacks("A"))
    qtbot.waitUntil(started.is_set)
    with qtbot.waitSignal(recorder.got, check_params_cb=lambda k, _v: k == "B finished"):
        slot.start(lambda progress, cancel: "B", "task B", **recorder.callbacks("B"))
    gate.set()
    wait_for_workers(qtbot)  # A's thread has ended, so its error signal has been handled
    assert recorder.kinds() == ["B finished"]


def test_errored_carries_the_exception_instance(qtbot):
    slot, recorder = TaskSlot(), Recorder()
    error = DataError("The label column is empty; label a few rows first.")

    def task(progress, cancel):
        raise error

    slot.start(task, "checking", **recorder.callbacks("A"))
    failure = wait_for(qtbot, recorder, "A errored")
    assert isinstance(failure, Failure)
    assert failure.error is error
    assert failure.message == str(error)  # a DamiError is already a sentence
    assert "Traceback" in failure.details and "DataError" in failure.details

    unexpected = KeyError("x")

    def broken(progress, cancel):
        raise unexpected

    slot.start(broken, "doing it", **recorder.callbacks("B"))
    failure = wait_for(qtbot, recorder, "B errored")
    assert failure.error is unexpected
    assert failure.message == "Something went wrong while doing it (KeyError: 'x')."
    assert not slot.running
    wait_for_workers(qtbot)


def test_cancel_is_immediate_and_nothing_of_the_task_arrives_later(qtbot):
    slot, recorder = TaskSlot(), Recorder()
    gate, started = threading.Event(), threading.Event()
    slot.start(gated(gate, started, "late result"), "task A", **recorder.callbacks("A"))
    qtbot.waitUntil(started.is_set)
    assert slot.cancel()
    assert recorder.kinds() == ["A cancelled"]  # at once, not when the thread notices
    assert not slot.running and not slot.cancel()  # nothing left to cancel
    gate.set()  # the task ignores the cancel and returns: its result is only released
    assert wait_for(qtbot, recorder, "A discarded") == "late result"
    wait_for_workers(qtbot)
    assert recorder.kinds() == ["A cancelled", "A discarded"]


def test_a_cooperative_task_is_cancelled_once(qtbot):
    slot, recorder = TaskSlot(), Recorder()
    started = threading.Event()

    def task(progress, cancel):
        started.set()
        while True:
            cancel.check()
            threading.Event().wait(0.001)

    slot.start(task, "looping", **recorder.callbacks("A"))
    qtbot.waitUntil(started.is_set)
    slot.cancel(quiet=True)  # as when a new task supersedes it: no callback at all
    wait_for_workers(qtbot)
    assert recorder.events == []


def test_a_callback_may_start_the_next_task_of_the_same_slot(qtbot):
    slot, recorder = TaskSlot(), Recorder()
    second = recorder.callbacks("B")

    def first_done(value):
        slot.start(lambda progress, cancel: value + 1, "second", **second)

    slot.start(lambda progress, cancel: 1, "first", on_finished=first_done)
    assert wait_for(qtbot, recorder, "B finished") == 2
    wait_for_workers(qtbot)
