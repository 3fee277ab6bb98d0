"""The first batch without a model: rows that cover the pool, the same for the same seed."""

from __future__ import annotations

import numpy as np
import pytest

from dami_gui.core.cold_start import cold_start_batch
from dami_gui.core.errors import ParameterError

CENTRES = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0], [5.0, 20.0]])


def blobs(n_per: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Five well-separated groups; the group of each row."""
    rng = np.random.default_rng(seed)
    group = np.repeat(np.arange(len(CENTRES)), n_per)
    X = CENTRES[group] + rng.normal(scale=0.5, size=(group.size, 2))
    return X.astype(np.float32), group


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_one_typical_row_per_group_largest_first(seed: int) -> None:
    X, group = blobs()
    batch = cold_start_batch(X, 5, seed=seed)
    assert sorted(group[batch.rows]) == [0, 1, 2, 3, 4]
    assert batch.group_size.tolist() == [40] * 5
    for row in batch.rows:  # typical: near its group's middle, not an outlier
        centre = X[group == group[row]].mean(0)
        assert np.linalg.norm(X[row] - centre) < 0.6


def test_the_same_seed_gives_the_same_rows() -> None:
    X, _ = blobs(seed=4)
    a, b = cold_start_batch(X, 7, seed=11), cold_start_batch(X, 7, seed=11)
    assert np.array_equal(a.rows, b.rows) and np.array_equal(a.group_size, b.group_size)
    assert len(set(a.rows.tolist())) == 7


def test_labeled_rows_are_fixed_centres_and_never_picked() -> None:
    X, group = blobs()
    labeled = group <= 1  # the first two groups are covered already
    batch = cold_start_batch(X, 3, seed=0, labeled=labeled)
    assert sorted(group[batch.rows]) == [2, 3, 4]
    assert not labeled[batch.rows].any()


def test_candidates_and_a_batch_larger_than_the_pool() -> None:
    X, group = blobs(n_per=2)
    candidates = group != 0
    batch = cold_start_batch(X, 50, seed=0, candidates=candidates)
    assert sorted(batch.rows.tolist()) == np.flatnonzero(candidates).tolist()


def test_identical_rows_still_give_a_batch() -> None:
    batch = cold_start_batch(np.ones((10, 3), dtype=np.float32), 4, seed=0)
    assert len(set(batch.rows.tolist())) == 4


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 2.5}, "batch_size"),
        ({"labeled": np.zeros(3, dtype=bool)}, "labeled"),
        ({"candidates": np.ones(200)}, "candidates"),
    ],
)
def test_bad_parameters_name_the_parameter(kwargs: dict, name: str) -> None:
    X, _ = blobs()
    options = {"batch_size": 3, **kwargs}
    with pytest.raises(ParameterError, match=f"'{name}'"):
        cold_start_batch(X, **options)
