"""Families of groups (core/families.py): a dozen hues instead of one colour per group."""

from __future__ import annotations

import numpy as np
import pytest

from dami_gui.core.errors import ParameterError
from dami_gui.core.families import MAX_FAMILIES, group_families, group_means


def _pool(n_groups: int, n_classes: int, seed: int = 0, rows_per_group: int = 30):
    """Rows in ``n_groups`` groups; each group's rows mostly predicted as one class."""
    rng = np.random.default_rng(seed)
    group = np.repeat(np.arange(n_groups), rows_per_group)
    main = rng.integers(0, n_classes, n_groups)
    prediction = main[group].copy()
    noise = rng.random(len(group)) < 0.2  # a minority of rows predicted otherwise
    prediction[noise] = rng.integers(0, n_classes, int(noise.sum()))
    centres = rng.normal(size=(n_groups, 5)) * 3
    X = centres[group] + rng.normal(size=(len(group), 5))
    return group, prediction, X, main


def _majority(group, prediction, g):
    return int(np.bincount(prediction[group == g]).argmax())


def test_eighty_groups_get_at_most_cap_families_and_family_is_majority_class():
    group, prediction, X, _ = _pool(80, 7)
    fam = group_families(group, prediction, group_means(group, X, 80))
    assert 1 <= fam.n_families <= MAX_FAMILIES
    assert fam.n_families == len(np.unique([_majority(group, prediction, g) for g in range(80)]))
    for g in range(80):  # family f holds exactly class classes[f]
        assert fam.classes[fam.family[g]] == (_majority(group, prediction, g),)
    assert sum(fam.rows) == len(group)
    assert sorted(g for chain in fam.groups for g in chain) == list(range(80))


def test_shades_are_distinct_within_a_family_and_follow_the_chain():
    group, prediction, X, _ = _pool(80, 5, seed=3)
    fam = group_families(group, prediction, group_means(group, X, 80))
    for f, chain in enumerate(fam.groups):
        shades = fam.shade[list(chain)]
        assert list(shades) == list(range(len(chain)))
        assert set(fam.family[list(chain)]) == {f}


def test_similar_groups_get_neighbouring_shades():
    # one class, groups on a line: the chain from the largest walks the line in order
    group = np.repeat(np.arange(6), [50, 10, 10, 10, 10, 10])
    vectors = np.array([[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]])[[0, 3, 1, 5, 2, 4]]
    fam = group_families(group, np.zeros(len(group), dtype=int), vectors)
    assert fam.groups == ((0, 2, 4, 1, 5, 3),)  # positions 0,1,2,3,4,5 on the line


def test_deterministic():
    group, prediction, X, _ = _pool(60, 15, seed=5)
    vectors = group_means(group, X, 60)
    a = group_families(group, prediction, vectors)
    b = group_families(group.copy(), prediction.copy(), vectors.copy())
    assert np.array_equal(a.family, b.family) and np.array_equal(a.shade, b.shade)
    assert a.classes == b.classes and a.groups == b.groups


def test_more_classes_than_cap_merges_the_closest_classes():
    group, prediction, X, _ = _pool(80, 20, seed=2)
    fam = group_families(group, prediction, group_means(group, X, 80), cap=6)
    assert fam.n_families == 6
    merged = [k for ks in fam.classes for k in ks]
    assert sorted(merged) == sorted(set(merged))  # every class in exactly one family
    for g in range(80):
        assert _majority(group, prediction, g) in fam.classes[fam.family[g]]


def test_classes_merge_by_similarity():
    # classes 0 and 1 live close together, 2 far away: with cap 2, {0, 1} and {2}
    group = np.repeat(np.arange(3), 10)
    prediction = np.repeat([0, 1, 2], 10)
    vectors = np.array([[0.0, 0.0], [0.1, 0.0], [9.0, 9.0]])
    fam = group_families(group, prediction, vectors, cap=2)
    assert fam.classes == ((0, 1), (2,))


def test_one_group_and_empty_input():
    fam = group_families(np.zeros(5, dtype=int), np.full(5, 2), np.zeros((1, 3)))
    assert fam.family.tolist() == [0] and fam.shade.tolist() == [0] and fam.classes == ((2,),)
    empty = group_families(np.empty(0, dtype=int), np.empty(0, dtype=int), np.empty((0, 2)))
    assert empty.n_families == 0 and len(empty.family) == 0


def test_groups_without_rows_and_rows_without_prediction():
    group = np.array([0, 0, 2, 2, 3])
    prediction = np.array([1, 1, -1, -1, 0])
    vectors = group_means(group, np.arange(10.0).reshape(5, 2), 5)
    assert np.isnan(vectors[1]).all() and np.isnan(vectors[4]).all()
    fam = group_families(group, prediction, vectors)
    assert fam.family[1] == -1 and fam.shade[1] == -1 and fam.family[4] == -1
    assert fam.classes == ((0,), (1,), (-1,))  # classes first, then "no prediction"
    assert fam.family[[3, 0, 2]].tolist() == [0, 1, 2]
    assert fam.group_size.tolist() == [2, 0, 2, 1, 0]


def test_bad_input_is_a_sentence():
    with pytest.raises(ParameterError, match="cap"):
        group_families(np.zeros(3, dtype=int), np.zeros(3, dtype=int), np.zeros((1, 1)), cap=0)
    with pytest.raises(ParameterError, match="'group'"):
        group_families(np.array([0, 5]), np.zeros(2, dtype=int), np.zeros((2, 1)))
    with pytest.raises(ParameterError, match="prediction"):
        group_families(np.zeros(3, dtype=int), np.zeros(2, dtype=int), np.zeros((1, 1)))
