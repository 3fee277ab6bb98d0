"""Exact explanations: contributions add up to the logit; counts match a direct count."""

from collections import Counter

import numpy as np
import pandas as pd
import pytest

from dami_gui.core.coverage import RoundCoverage, coverage_history, stopping_hint
from dami_gui.core.data.dataset import build_dataset
from dami_gui.core.data.roles import infer_roles
from dami_gui.core.explain import explain_row, label_conflicts, region_groups, region_hex
from dami_gui.core.interpret import interpret
from dami_gui.core.model import MLPConfig
from dami_gui.core.session import Session

SMALL = MLPConfig(hidden=(16, 16), min_epochs=20, min_steps=60)


@pytest.fixture(scope="module")
def session():
    rng = np.random.default_rng(0)
    n = 150
    y = rng.integers(0, 3, n)
    frame = pd.DataFrame(rng.normal(size=(n, 3)) + 2 * np.eye(3)[y], columns=["a", "b", "c"])
    frame["colour"] = np.array(["red", "green", "blue"])[(y + rng.integers(0, 2, n)) % 3]
    frame.loc[::7, "a"] = np.nan  # gives "a (missing)"
    frame["kind"] = [("x", "y", "z")[v] if i < 15 else None for i, v in enumerate(y)]
    dataset = build_dataset(frame, infer_roles(frame, label_column="kind"))
    s = Session(dataset, batch_size=8, model_config=SMALL, truth=y, estimate_accuracy=False)
    for _ in range(3):
        s.run_round()
        for q in s.queries:
            s.label(int(q), int(y[q]))
    s.run_round()
    return s


def test_contributions_and_bias_add_up_to_the_logit_for_any_class(session):
    result = session.last_round
    model = result.model()
    row = int(session.queries[2])
    for k in (None, 0, 2):
        ex = explain_row(
            model,
            session.dataset,
            row,
            session.labels,
            class_index=k,
            region_ids=result.region_ids,
            queries=session.queries,
        )
        total = sum(c.value for c in ex.contributions) + ex.bias
        assert total == pytest.approx(ex.logit, abs=1e-4)
        logits = interpret(model, session.dataset.X[[row]]).logits[0]
        assert ex.logit == pytest.approx(
            float(logits[k if k is not None else logits.argmax()]), abs=1e-5
        )
    assert ex.selection_rank == 3
    columns = [c.column for c in ex.contributions]
    assert sorted(columns) == ["a", "b", "c", "colour"]  # one-hot and missing flag grouped back
    colour = next(c for c in ex.contributions if c.column == "colour")
    assert len(colour.parts) == 3 and colour.value == pytest.approx(sum(v for _, v in colour.parts))
    assert [abs(c.value) for c in ex.contributions] == sorted(
        (abs(c.value) for c in ex.contributions), reverse=True
    )
    assert sum(ex.probabilities.values()) == pytest.approx(1.0, abs=1e-5)


def test_region_counts_label_mix_and_distance_match_a_direct_count(session):
    result = session.last_round
    model = result.model()
    labels = session.labels
    flat = interpret(model, session.dataset.X).flat()
    for row in range(0, session.n_rows, 13):
        ex = explain_row(model, session.dataset, row, labels, region_ids=result.region_ids)
        same = result.region_ids == result.region_ids[row]
        assert ex.region_size == int(same.sum())
        expected = Counter(session.classes[v] for v in labels[same & (labels >= 0)])
        assert ex.region_labels == dict(expected) and ex.region_labeled == sum(expected.values())
        assert ex.region_id == region_hex(result.region_ids[row])
        others = np.flatnonzero((labels >= 0) & (np.arange(session.n_rows) != row))
        d = np.sqrt(((flat[others] - flat[row]) ** 2).sum(1))
        assert ex.distance_to_labeled == pytest.approx(float(d.min()), rel=1e-4, abs=1e-5)
        assert ex.nearest_labeled_row == int(others[np.argmin(d)])


def test_region_groups_match_a_direct_count(session):
    r = session.last_round
    groups = region_groups(
        r.partition, r.centers, r.center_distance, r.proba, session.labels, session.classes
    )
    assert sum(g.size for g in groups) == session.n_rows
    assert [g.size for g in groups] == sorted((g.size for g in groups), reverse=True)
    for g in groups:
        rows = np.flatnonzero(r.partition == g.index)
        np.testing.assert_array_equal(np.sort(g.rows), rows)
        assert g.labeled == int((session.labels[rows] >= 0).sum())
        assert g.mean_confidence == pytest.approx(float(r.proba[rows].max(1).mean()))
        assert g.mean_distance == pytest.approx(float(r.center_distance[rows].mean()))
        assert g.center_row == int(r.centers[g.index])


def test_conflicts_list_regions_with_disagreeing_labels():
    region_ids = np.array([5, 5, 5, 7, 7, 9, 9])
    labels = np.array([0, 1, 0, 2, 2, -1, 1])
    conflicts = label_conflicts(region_ids, labels, ["a", "b", "c"])
    assert len(conflicts) == 1
    assert conflicts[0].rows == [0, 1, 2] and conflicts[0].labels == {"a": 2, "b": 1}
    assert conflicts[0].region_id == region_hex(5)


def test_coverage_history_of_a_real_session(session):
    history = coverage_history(session.rounds)
    assert [h.round for h in history] == [1, 2, 3, 4]
    assert history[0].changed_region is None and history[0].prediction_change is None
    for h, r, prev in zip(history[1:], session.rounds[1:], session.rounds[:-1], strict=True):
        assert 0.0 <= h.labeled_share <= 1.0
        assert h.labeled_share == pytest.approx(float((r.partition < r.labeled_count).mean()))
        assert h.prediction_change == pytest.approx(
            float((r.proba.argmax(1) != prev.proba.argmax(1)).mean())
        )
        assert 0 <= h.new_regions <= len(r.queries)
        assert h.n_exact_regions == len(np.unique(r.region_ids))


def cov(i, share, change, accuracy=0.8):
    return RoundCoverage(i, 10 * i, share, 50, 2, 3, change, accuracy)


@pytest.mark.parametrize(
    ("history", "stop", "words"),
    [
        ([cov(1, 0.5, None), cov(2, 0.6, 0.1)], False, "Too early"),
        ([cov(1, 0.5, None), cov(2, 0.6, 0.005), cov(3, 0.6, 0.05)], False, "5.0 %"),
        ([cov(1, 0.5, None), cov(2, 0.55, 0.005), cov(3, 0.6, 0.004)], False, "moved by 10.0 %"),
        (
            [cov(1, 0.6, 0.2, 0.70), cov(2, 0.6, 0.005, 0.75), cov(3, 0.61, 0.004, 0.78)],
            False,
            "rose by 8.0 %",
        ),
        (
            [cov(1, 0.6, 0.2, 0.80), cov(2, 0.6, 0.005, 0.81), cov(3, 0.61, 0.004, 0.805)],
            True,
            "You could stop",
        ),
        (
            [cov(1, 0.6, 0.2, None), cov(2, 0.6, 0.0, None), cov(3, 0.6, 0.01, None)],
            True,
            "coverage stayed flat.",
        ),
        ([cov(1, 0.6, 0.2), cov(2, 0.6, None), cov(3, 0.6, 0.0)], False, "cannot be compared"),
    ],
)
def test_stopping_rule_on_constructed_histories(history, stop, words):
    hint = stopping_hint(history)
    assert hint.could_stop is stop and words in hint.message
