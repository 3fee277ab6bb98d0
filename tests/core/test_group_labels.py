"""Rows labeled at once, as a group: one event per row through the one apply() rule, undone
together, kept together in a project (core/session.py label_rows and undo, project journal)."""

from __future__ import annotations

import numpy as np
import pytest

from dami_gui.core.data.dataset import load_dataset
from dami_gui.core.errors import DamiError, ParameterError
from dami_gui.core.project.creating import create_project
from dami_gui.core.project.opening import open_project
from dami_gui.core.session import Session

from .test_session import make_dataset


@pytest.fixture
def session():
    dataset, truth = make_dataset()
    return Session(dataset, batch_size=5, truth=truth)


def test_a_group_is_one_event_per_row_and_one_undo_takes_it_back(session):
    seen = []
    session.subscribe(lambda kind, rows: seen.append((kind, sorted(rows))))
    start = session.labels.copy(), session.skipped.copy()
    session.label(50, 1)  # alone, before
    session.skip(61)
    rows = [60, 61, 62, 63, 3]  # 3 has the file's label 'red' (0)
    given = session.label_rows(rows, 0)
    assert [e.row for e in given] == [60, 61, 62, 63]  # 3 already had it: left alone
    assert all(e.kind == "label" and e.label == 0 for e in given)
    assert len({e.group for e in given}) == 1 and given[0].group == len(session.events) - 4
    assert (session.labels[[60, 61, 62, 63]] == 0).all() and not session.skipped[61]
    assert seen[-1] == ("labels", [60, 61, 62, 63])  # listeners hear of them once
    last = session.undo()  # the whole group, in one step
    assert last is not None and last.kind == "undo" and last.group is not None
    n = len(session.events)
    assert {e.undoes for e in session.events[-4:]} == set(range(n - 8, n - 4))
    assert session.skipped[61] and session.labels[61] == -1  # back to "not sure"
    np.testing.assert_array_equal(session.labels[[60, 62, 63]], [-1, -1, -1])
    assert session.labels[50] == 1  # the label given alone before is not touched
    session.undo()  # then the skip, alone
    session.undo()  # then the label, alone
    np.testing.assert_array_equal(session.labels, start[0])
    np.testing.assert_array_equal(session.skipped, start[1])


def test_replaying_the_events_through_apply_gives_the_same_state(session):
    session.label_rows([70, 71, 72], 2)
    session.label(73, 1)
    session.undo()
    session.undo()
    replayed = Session(session.dataset, truth=session.truth)
    for event in session.events:
        replayed.apply(event)
    np.testing.assert_array_equal(replayed.labels, session.labels)
    np.testing.assert_array_equal(replayed.skipped, session.skipped)


def test_bad_group_input_names_the_parameter(session):
    with pytest.raises(ParameterError, match="label"):
        session.label_rows([1, 2], 7)
    with pytest.raises(ParameterError, match="row"):
        session.label_rows([1, 10_000], 0)
    assert session.events == []  # nothing given


class Refusing:
    """A journal whose disk is full."""

    def __init__(self):
        self.calls = 0

    def record_event(self, event):
        self.record_events([event])

    def record_events(self, events):
        self.calls += 1
        raise DamiError("The disk is full.")

    def record_round(self, result):
        pass


def test_a_refused_group_changes_nothing(session):
    session.journal = Refusing()
    with pytest.raises(DamiError, match="full"):
        session.label_rows([80, 81, 82, 83], 1)
    assert session.events == [] and (session.labels[[80, 81, 82, 83]] == -1).all()
    assert session.journal.calls == 1  # one write for the whole group


def test_a_project_keeps_groups_and_undoes_them_together_after_reopening(tmp_path):
    rng = np.random.default_rng(0)
    csv = tmp_path / "pool.csv"
    csv.write_text(
        "a,b,kind\n"
        + "".join(f"{rng.normal():.3f},{rng.normal():.3f},{'xy'[i % 2] if i < 4 else ''}\n"
                  for i in range(40))
    )  # fmt: skip
    session = Session(load_dataset(csv, label_column="kind"), batch_size=4)
    session.label_rows([10, 11], 0)  # before the project exists
    project = create_project(tmp_path / "pool.dami", session)
    session.label(12, 1)
    session.label_rows([20, 21, 22], 1)  # journaled
    project.close()
    with open_project(tmp_path / "pool.dami") as reopened:
        s = reopened.session
        assert [e.group for e in s.events] == [0, 0, None, 3, 3, 3]
        s.undo()  # the last group, together
        assert (s.labels[[20, 21, 22]] == -1).all() and s.labels[12] == 1
    with open_project(tmp_path / "pool.dami") as again:  # and that undo is a group too
        s = again.session
        assert (s.labels[[20, 21, 22]] == -1).all()
        s.undo()  # the label of 12, alone
        assert s.labels[12] == -1 and (s.labels[[10, 11]] == 0).all()
        s.undo()  # the first group, together
        assert (s.labels[[10, 11]] == -1).all()
