"""The session: labels as events with undo, rounds that compute without touching state."""

import threading

import numpy as np
import pandas as pd
import pytest

from dami_gui.core.data.dataset import build_dataset
from dami_gui.core.data.roles import infer_roles
from dami_gui.core.errors import Cancelled, ParameterError
from dami_gui.core.learner import NETWORK_LEARNER
from dami_gui.core.learner.estimate import cross_validated_accuracy
from dami_gui.core.model import MLPConfig
from dami_gui.core.progress import CancelToken
from dami_gui.core.session import Session

SMALL = MLPConfig(hidden=(16, 16), min_epochs=20, min_steps=60)


def make_dataset(n=120, labeled=12, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    X = rng.normal(size=(n, 4)) + 3.0 * np.eye(3, 4)[y]
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    names = np.array(["red", "green", "blue"])[y].astype(object)
    frame["kind"] = [names[i] if i < labeled else None for i in range(n)]
    report = infer_roles(frame, label_column="kind")
    dataset = build_dataset(frame, report, classes=["red", "green", "blue"])
    return dataset, y


@pytest.fixture
def session():
    dataset, truth = make_dataset()
    return Session(dataset, batch_size=10, model_config=SMALL, truth=truth)


def test_initial_labels_come_from_the_file(session):
    assert session.n_labeled == 12 and session.queries.size == 0 and session.predictions() is None


def test_round_trains_selects_and_notifies(session):
    seen = []
    session.subscribe(lambda kind, payload: seen.append(kind))
    result = session.run_round()
    assert result.index == 1 and result.labeled_count == 12 and result.strategy == "dami-plus"
    assert len(session.queries) == 10 and not session.labeled_mask[session.queries].any()
    assert result.partition.shape == (120,) and result.region_ids.shape == (120,)
    assert result.proba.shape == (120, 3)
    assert 0.0 <= result.test_accuracy <= 1.0 and 0.0 <= result.accuracy_estimate <= 1.0
    assert seen == ["round"]
    model = result.model()
    assert model.n_classes == 3


def test_label_skip_undo_are_events_and_state_is_derived(session):
    session.run_round()
    q = [int(r) for r in session.queries[:3]]
    session.label(q[0], 2)
    session.skip(q[1])
    session.label(q[2], 0)
    session.label(q[2], 1)  # a correction
    assert session.query_status() == (3, 10)
    assert session.labels[q[2]] == 1 and session.skipped[q[1]]
    session.undo()  # the correction
    assert session.labels[q[2]] == 0
    session.undo()
    session.undo()  # the skip
    assert session.labels[q[2]] == -1 and not session.skipped[q[1]]
    assert session.labels[q[0]] == 2
    assert [e.kind for e in session.events] == [
        "label",
        "skip",
        "label",
        "label",
        "undo",
        "undo",
        "undo",
    ]
    session.undo()
    assert session.undo() is None and session.labels[q[0]] == -1


def test_replaying_the_events_with_apply_gives_the_same_labels_skips_and_history(session):
    for row, label in [(20, 2), (21, 0), (20, 1)]:
        session.label(row, label)
    session.skip(22)
    session.undo()  # the skip
    session.undo()  # the correction of row 20
    session.label(3, 1)  # a row labeled in the file
    session.skip(21)
    replayed = Session(session.dataset)
    for e in session.events:
        replayed.apply(replayed.new_event(e.row, e.kind, e.label, e.undoes, round_index=e.round,
                                          when=e.time))  # fmt: skip
    assert replayed.events == session.events  # previous_label/_skipped recomputed alike
    np.testing.assert_array_equal(replayed.labels, session.labels)
    np.testing.assert_array_equal(replayed.skipped, session.skipped)
    assert replayed.labels[20] == 2 and replayed.labels[3] == 1 and replayed.skipped[21]


def test_apply_refuses_an_unknown_kind_or_an_undo_of_nothing(session):
    with pytest.raises(ParameterError, match="'kind'"):
        session.apply(session.new_event(5, "forget"))
    with pytest.raises(ParameterError, match="'undoes'"):
        session.apply(session.new_event(5, "undo", undoes=0))
    assert session.events == [] and session.n_labeled == 12 and not session.skipped.any()


def test_a_refusing_journal_leaves_labels_history_and_listeners_untouched(session):
    class Refusing:
        def record_event(self, event):
            raise OSError("disk full")

        def record_round(self, result):
            raise AssertionError("not reached")

    seen = []
    session.subscribe(lambda kind, payload: seen.append(kind))
    session.label(20, 1)
    session.journal = Refusing()
    for act in (lambda: session.label(21, 0), lambda: session.skip(22), session.undo):
        with pytest.raises(OSError, match="disk full"):
            act()
    assert len(session.events) == 1 and session.labels[20] == 1 and seen == ["labels"]
    assert session.labels[21] == -1 and not session.skipped[22]


def test_skipped_rows_are_kept_out_of_training_and_queries(session):
    session.run_round()
    skipped = [int(r) for r in session.queries[:4]]
    for r in skipped:
        session.skip(r)
    session.run_round()
    assert not np.isin(session.queries, skipped).any()
    assert session.last_round.labeled_count == 12


def test_compute_round_changes_nothing_and_commit_drops_rows_labeled_meanwhile(session):
    before = session.labels.copy()
    result = session.compute_round()
    np.testing.assert_array_equal(session.labels, before)
    assert session.rounds == []
    session.label(int(result.queries[0]), 1)  # labeled while the round ran
    session.commit_round(result)
    assert result.queries[0] not in session.queries and len(session.queries) == 9
    with pytest.raises(ParameterError, match="'result'"):
        session.commit_round(result)  # a stale result is refused


def test_cancel_leaves_the_session_as_it_was(session):
    token = CancelToken()

    def cancel_midway(stage, fraction):
        if fraction > 0.2:
            token.cancel()

    with pytest.raises(Cancelled):
        session.compute_round(progress=cancel_midway, cancel=token)
    assert session.rounds == [] and session.n_labeled == 12


def test_labels_can_be_given_from_another_thread_during_a_round(session):
    session.run_round()
    rows = [int(r) for r in session.queries]
    worker = threading.Thread(target=session.compute_round)
    worker.start()
    for r in rows:
        session.label(r, 0)
    worker.join()
    assert session.n_labeled == 22


def test_deterministic_for_a_seed():
    a = Session(make_dataset()[0], batch_size=10, model_config=SMALL, seed=4).run_round()
    b = Session(make_dataset()[0], batch_size=10, model_config=SMALL, seed=4).run_round()
    np.testing.assert_array_equal(a.queries, b.queries)


def test_parameter_errors(session):
    with pytest.raises(ParameterError, match="'row'"):
        session.label(500, 0)
    with pytest.raises(ParameterError, match=r"'label'.*0\.\.2"):
        session.label(0, 3)
    with pytest.raises(ParameterError, match="'strategy'"):
        session.strategy = "magic"
    with pytest.raises(ParameterError, match="'batch_size'"):
        session.batch_size = 0


def test_cross_validated_accuracy_is_none_when_too_few_and_right_when_easy():
    X = np.random.default_rng(0).normal(size=(40, 2)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    assert cross_validated_accuracy(X[:5], y[:5], 2, NETWORK_LEARNER, SMALL, 0) is None
    assert cross_validated_accuracy(X, np.zeros(40, np.int64), 2, NETWORK_LEARNER, SMALL, 0) is None
    assert cross_validated_accuracy(X, y, 2, NETWORK_LEARNER, SMALL, 0) >= 0.85
    noise = np.random.default_rng(1).integers(0, 2, 40)
    # it cannot predict noise
    assert cross_validated_accuracy(X, noise, 2, NETWORK_LEARNER, SMALL, 0) < 0.8
