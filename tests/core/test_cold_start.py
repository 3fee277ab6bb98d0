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


# -------------------------------------------------------- a cold-start round of a session


def blob_session(labeled: dict[int, int], batch: int = 5):
    """A session over the five groups, two declared classes, ``labeled`` {row: class} given."""
    import pandas as pd

    from dami_gui.core.data.dataset import build_dataset
    from dami_gui.core.data.roles import infer_roles
    from dami_gui.core.model import MLPConfig
    from dami_gui.core.session import Session

    X, _ = blobs()
    frame = pd.DataFrame(X, columns=["a", "b"])
    dataset = build_dataset(frame, infer_roles(frame), classes=["left", "right"])
    session = Session(
        dataset,
        batch_size=batch,
        model_config=MLPConfig(hidden=(8,), min_epochs=3, min_steps=10),
        estimate_accuracy=False,
    )
    for row, code in labeled.items():
        session.label(row, code)
    return session


@pytest.mark.parametrize("labeled", [{}, {3: 0, 50: 0}])
def test_a_round_without_two_classes_is_a_cold_start_with_no_model_output(labeled) -> None:
    from dami_gui.core.cold_start import can_train
    from dami_gui.core.errors import DataError
    from dami_gui.core.strategies import why_this_row

    session = blob_session(labeled)
    assert not can_train(session.labels)
    result = session.run_round()
    assert result.cold_start and not result.has_model
    assert result.proba.shape == (0, 2) and result.region_ids.size == 0
    assert result.partition is None and result.centers is None
    assert result.accuracy_estimate is None and result.test_accuracy is None
    # the same core path as `dami select`: the batch of cold_start_batch on the same seed
    mask = session.labels >= 0
    expected = cold_start_batch(session.dataset.X, 5, result.seed, labeled=mask)
    assert result.queries.tolist() == expected.rows.tolist()
    assert result.info["group_size"] == expected.group_size.tolist()
    assert not set(result.queries.tolist()) & set(labeled)
    with pytest.raises(DataError, match="two classes"):
        result.model()
    why = why_this_row(result.strategy, result.info, 0)
    assert "typical row of an unexplored part of the pool" in why
    assert f"its group holds {expected.group_size[0]:,} rows" in why


def test_once_two_classes_are_labeled_the_next_round_has_a_model() -> None:
    session = blob_session({})
    session.run_round()
    session.label(int(session.queries[0]), 0)
    session.label(int(session.queries[1]), 1)
    second = session.run_round()
    assert not second.cold_start and second.has_model
    assert second.proba.shape == (session.n_rows, 2)
    assert second.info["coverage"]["changed_region"] is None  # nothing to compare with


def test_a_cold_start_round_is_kept_in_a_project_and_read_back_as_one(tmp_path) -> None:
    from dami_gui.core.data.dataset import load_dataset
    from dami_gui.core.errors import DamiError
    from dami_gui.core.project.creating import create_project
    from dami_gui.core.project.export import export_model
    from dami_gui.core.project.opening import open_project
    from dami_gui.core.session import Session

    X, _ = blobs()
    csv = tmp_path / "pool.csv"
    csv.write_text("a,b,kind\n" + "".join(f"{x:.4f},{y:.4f},\n" for x, y in X))
    dataset = load_dataset(csv, label_column="kind", classes=["left", "right"])
    session = Session(dataset, batch_size=4, estimate_accuracy=False)
    session.run_round()
    create_project(tmp_path / "pool.dami", session).close()
    with open_project(tmp_path / "pool.dami") as project:
        assert project.notes == []  # nothing "damaged", nothing computed again
        (again,) = project.session.rounds
        assert again.cold_start and not again.has_model
        assert again.queries.tolist() == session.rounds[0].queries.tolist()
        assert again.info["group_size"] == session.rounds[0].info["group_size"]
        with pytest.raises(DamiError, match="no model yet"):
            export_model(project.session, tmp_path / "m.safetensors")
