"""DAMI+ blend: DAMI+'s typical rows, then its k-means++ draws (boundary rows) as labels grow."""

import numpy as np
import pytest
import torch

from dami_gui.core.progress import as_reporter
from dami_gui.core.strategies import get_strategy, why_picked, why_this_row
from dami_gui.core.strategies.dami_blend import BOUNDARY, TYPICAL, boundary_count
from dami_gui.core.strategies.dami_variants import CHANCE, TIE

from .test_strategies import blobs, context


@pytest.mark.parametrize(
    ("labeled", "k", "expected"),
    [(0, 20, 0), (20, 20, 10), (200, 20, 10), (5, 1, 0), (1000, 7, 3)],
)
def test_half_of_the_batch_is_boundary_rows_once_a_row_is_labeled(labeled, k, expected):
    assert boundary_count(labeled, k) == expected
    assert 0 <= boundary_count(labeled, k) <= k


@pytest.mark.parametrize("n_labeled", [10, 40])
def test_typical_rows_are_dami_plus_picks_and_boundary_rows_its_draws(n_labeled):
    X, y = blobs(n=200)
    ctx = context(X, y, np.arange(n_labeled) * 4, seed=1)
    k = 10
    blend = get_strategy("dami-blend")
    result = blend.query(ctx, k, seed=3)
    kinds = result.info["pick_kinds"]
    assert len(kinds) == len(result.indices) == k == len(set(result.indices.tolist()))
    n_boundary = boundary_count(n_labeled, k)
    assert kinds == [TYPICAL] * (k - n_boundary) + [BOUNDARY] * n_boundary
    # the same search as DAMI+ (same seed): its central rows first, then its k-means++ draws
    res, _ = blend.central(ctx, k, 3, as_reporter(None))  # type: ignore[attr-defined]
    typical = result.indices[: k - n_boundary]
    np.testing.assert_array_equal(typical, res.order[: k - n_boundary])
    assert set(result.indices[k - n_boundary :].tolist()) <= set(res.seeds.tolist())
    plus = get_strategy("dami-plus").query(ctx, k, seed=3)
    np.testing.assert_array_equal(plus.indices[: k - n_boundary], typical)
    np.testing.assert_array_equal(plus.scores, result.scores)


def test_why_this_row_names_the_rule_that_picked_it():
    info = {"pick_kinds": [TYPICAL, BOUNDARY]}
    typical = why_this_row("dami-blend", info, 0)
    boundary = why_this_row("dami-blend", info, 1)
    assert typical.startswith("DAMI+ blend, a typical row") and "most typical" in typical
    assert boundary.startswith("DAMI+ blend, a boundary row") and "unsure" in boundary
    # a round without kinds (or a position past them) gets the strategy's general reason
    assert why_this_row("dami-blend", {}, 0) == why_picked("dami-blend")
    assert why_this_row("dami-blend", info, 5) == why_picked("dami-blend")
    # DAMI+'s typical rows get its one reason; other strategies give theirs for every row; an
    # unknown one is named; kinds this version does not know are not read
    assert why_this_row("dami-plus", info, 0) == why_picked("dami-plus")
    assert why_this_row("dami", info, 1) == why_picked("dami")
    assert why_this_row("from-the-future", {}, 0) == why_picked("from-the-future")
    assert why_this_row("dami-blend", {"pick_kinds": ["later"]}, 0) == why_picked("dami-blend")


def _copies_of_labeled_rows():
    """Eight rows five times each, one copy of each labeled: every open row is a copy."""
    X, y = blobs(n=8, seed=2)
    X, y = np.repeat(X, 5, axis=0), np.repeat(y, 5)
    return context(X, y, np.arange(0, 40, 5)), X


@pytest.mark.parametrize("name", ["dami-blend", "dami-plus"])
def test_a_tie_rounds_picks_say_they_came_from_the_tie_rule(name):
    ctx, X = _copies_of_labeled_rows()
    result = get_strategy(name).query(ctx, 6, seed=0)
    kinds = result.info["pick_kinds"]
    assert result.info["used_fallback"] and kinds == [CHANCE] * 6
    labeled = {X[r].tobytes() for r in np.flatnonzero(ctx.labeled)}
    assert all(X[r].tobytes() in labeled for r in result.indices)  # copies indeed
    why = why_this_row(name, result.info, 5)
    title = get_strategy(name).title
    assert why.startswith(f"{title}, the tie rule: no rule could tell the rows left apart")
    assert "most typical" not in why and "drawn at random" in why


def test_a_certain_network_ties_on_dp_dx_and_plain_dami_takes_over(monkeypatch):
    # dp/dx = 0 for every row (as when the network is sure of all of them): the picks come from
    # plain DAMI's rule on the logits' local models, and say so
    from dami_gui.core.geometry.points import Matrix
    from dami_gui.core.strategies import dami_variants

    def zeros(ctx, models):
        return Matrix(torch.zeros((ctx.labeled.size, 4)))

    monkeypatch.setattr(dami_variants, "probability_jacobian", zeros)
    X, y = blobs(n=120)
    ctx = context(X, y, np.arange(10) * 3, seed=1)
    result = get_strategy("dami-plus").query(ctx, 5, seed=0)
    assert result.info["used_fallback"] and result.info["pick_kinds"] == [TIE] * 5
    why = why_this_row("dami-plus", result.info, 0)
    assert why.startswith("DAMI+, the tie rule:") and "plain DAMI's rule" in why


@pytest.mark.parametrize("name", ["dami-plus", "dami-blend"])
@pytest.mark.parametrize("kinds", [[["boundary"]], [{"a": 1}], [None], [3.5], "boundary", {}])
def test_a_damaged_kind_gets_the_general_reason(name, kinds):
    assert why_this_row(name, {"pick_kinds": kinds}, 0) == why_picked(name)


def test_draws_before_a_tie_are_boundary_rows_and_the_rest_tie_picks():
    # five distinct rows are open (three copies each, none labeled), every other open row is a
    # copy of a labeled row: the first five picks are k-means++ draws, then the tie rule
    X, y = blobs(n=16, seed=4)
    X, y = np.repeat(X, 3, axis=0), np.repeat(y, 3)
    labeled = np.array([3 * i for i in range(16) if i not in (1, 4, 6, 9, 12)])
    ctx = context(X, y, labeled, seed=1)
    result = get_strategy("dami-plus").query(ctx, 10, seed=0)
    kinds = result.info["pick_kinds"]
    assert result.info["used_fallback"] and len(kinds) == 10
    assert set(kinds) <= {BOUNDARY, TIE, CHANCE} and BOUNDARY in kinds
    n_new = kinds.count(BOUNDARY)
    assert n_new == 5 and kinds[:n_new] == [BOUNDARY] * n_new
    seen = {X[r].tobytes() for r in labeled}
    for row in result.indices[:n_new]:  # each draw is a row unlike every labeled row
        assert X[row].tobytes() not in seen
        seen.add(X[row].tobytes())
    assert why_this_row("dami-plus", result.info, 0).startswith("DAMI+, a boundary row:")


@pytest.mark.parametrize("drop_a_pick", [True, False])
def test_kinds_are_dropped_when_a_picked_row_left_the_csv(tmp_path, drop_a_pick):
    import pandas as pd

    from dami_gui.core.project.opening import open_project

    from .project_data import new_project

    project = new_project(tmp_path)
    project.session.strategy = "dami-blend"
    project.session.run_round()
    picks = [str(project.dataset.ids[r]) for r in project.session.queries]
    kinds = project.session.rounds[-1].info["pick_kinds"]
    assert len(kinds) == len(picks) == 5
    unlabeled = project.dataset.ids[project.session.labels < 0]
    gone = picks[1] if drop_a_pick else next(i for i in unlabeled if i not in picks)
    project.close()
    frame = pd.read_csv(tmp_path / "pool.csv", keep_default_na=False)
    frame[frame["name"] != gone].to_csv(tmp_path / "pool.csv", index=False)
    with open_project(tmp_path / "p.dami", accept_changes=True) as reopened:
        info = reopened.session.rounds[-1].info
        if drop_a_pick:  # the picks after it moved up: their kinds would be another pick's
            assert len(reopened.session.rounds[-1].queries) == 4 and "pick_kinds" not in info
        else:
            assert info["pick_kinds"] == kinds
