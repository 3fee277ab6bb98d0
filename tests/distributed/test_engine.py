"""`dami select --engine dask` on a small local cluster: features, training and picks."""

import numpy as np
import pandas as pd
import pytest

from dami_gui.core.data.dataset import load_dataset
from dami_gui.core.session import Session
from dami_gui.distributed import engine, reading, tasks
from tests.distributed.conftest import need_dask

need_dask()


def features_of(client, path):
    import dask

    frame = reading.open_pool(str(path), 2)
    facts, raw = engine.fit_features(client, frame, "label", "id", None)
    prep = dask.delayed(tasks.prepare)
    parts = client.gather(
        client.compute(
            [
                prep(p, facts.preprocessing, "label", facts.classes, off, i)
                for i, (p, off) in enumerate(zip(raw, facts.offsets, strict=True))
            ]
        )
    )
    return facts, np.concatenate([p.X for p in parts]), np.concatenate([p.y for p in parts])


@pytest.mark.parametrize("source", ["pool.csv", "parts/*.csv", "pq"])
def test_features_equal_the_in_memory_preprocessing(client, pool_files, source):
    memory = load_dataset(pool_files / "pool.csv", label_column="label", id_column="id")
    facts, X, y = features_of(client, pool_files / source)
    assert facts.n_rows == memory.n_rows and len(facts.lengths) >= 2
    assert facts.classes == memory.classes
    assert facts.preprocessing.feature_names == memory.feature_names
    for ours, theirs in zip(
        facts.preprocessing.transforms, memory.preprocessing.transforms, strict=True
    ):
        assert ours.kind == theirs.kind and ours.categories == theirs.categories
        assert ours.missing_indicator == theirs.missing_indicator
        assert ours.mean == pytest.approx(theirs.mean, rel=1e-12, abs=1e-14)
        assert ours.std == pytest.approx(theirs.std, rel=1e-12)
        if theirs.missing_indicator:
            assert ours.fill == theirs.fill
    assert np.abs(X - memory.X).max() <= 1e-6
    assert np.array_equal(y, memory.y)


def run(client, path, strategy="dami-plus", batch=7, seed=0, label="label", classes=None):
    frame = reading.open_pool(str(path), 2)
    return engine.select(
        client,
        frame,
        label_column=label,
        id_column="id",
        classes=classes,
        strategy=strategy,
        batch=batch,
        seed=seed,
    )


@pytest.mark.parametrize("source", ["pool.csv", "pq"])
def test_picks_are_valid_and_the_same_for_a_seed(client, pool_files, source):
    memory = load_dataset(pool_files / "pool.csv", label_column="label", id_column="id")
    first = run(client, pool_files / source)
    assert first.rows.size == 7 and np.unique(first.rows).size == 7
    assert (memory.y[first.rows] < 0).all()  # unlabeled
    assert first.ids == [memory.ids[r] for r in first.rows]
    assert np.isfinite(first.scores).all() and (first.scores > 0).all()
    again = run(client, pool_files / source)
    assert np.array_equal(first.rows, again.rows)
    other = run(client, pool_files / source, seed=1)
    assert not np.array_equal(first.rows, other.rows)


def test_the_model_is_the_in_memory_rounds(client, pool_files):
    """Training on the gathered labeled rows gives the in-memory round's model: same
    predictions and regions at the picked rows."""
    memory = load_dataset(pool_files / "pool.csv", label_column="label", id_column="id")
    result = Session(memory, batch_size=7, seed=0, estimate_accuracy=False).compute_round()
    ours = run(client, pool_files / "pq")
    regions = [f"{int(r) & 0xFFFF_FFFF_FFFF_FFFF:016x}" for r in result.region_ids[ours.rows]]
    assert ours.regions == regions
    assert ours.predicted == [memory.classes[i] for i in result.proba[ours.rows].argmax(1)]


def test_random_picks(client, pool_files):
    memory = load_dataset(pool_files / "pool.csv", label_column="label", id_column="id")
    res = run(client, pool_files / "pq", strategy="random", batch=9)
    assert res.rows.size == 9 and np.unique(res.rows).size == 9
    assert (memory.y[res.rows] < 0).all()
    assert np.array_equal(res.rows, run(client, pool_files / "pq", strategy="random", batch=9).rows)


def test_no_label_gives_a_first_batch_that_covers_the_pool(client, tmp_path):
    from tests.distributed.conftest import make_pool

    frame = make_pool(500)
    frame["label"] = None
    frame.loc[3, "label"] = "a"  # one class, the other named: no model yet
    frame.to_parquet(tmp_path / "one.parquet")
    res = run(client, tmp_path / "one.parquet", batch=6, classes=["a", "b"])
    assert res.cold_start and res.rows.size == 6 and 3 not in res.rows
    assert np.unique(res.rows).size == 6
    assert res.scores.sum() <= 1.0 and (res.scores > 0).all()  # share of the pool


def test_no_label_at_all(client, tmp_path):
    from tests.distributed.conftest import make_pool

    frame = make_pool(400)
    frame["label"] = None
    frame.to_csv(tmp_path / "none.csv", index=False)
    res = run(client, tmp_path / "none.csv", batch=5)
    assert res.cold_start and res.n_labeled == 0 and np.unique(res.rows).size == 5
    assert res.regions == [""] * 5 and res.predicted == [""] * 5


def test_a_batch_larger_than_the_open_rows(client, tmp_path):
    from tests.distributed.conftest import make_pool

    frame = make_pool(60)
    frame["label"] = np.where(np.arange(60) < 55, np.array(["a", "b"] * 30), None)
    frame.to_csv(tmp_path / "small.csv", index=False)
    res = run(client, tmp_path / "small.csv", batch=20)
    assert sorted(res.rows.tolist()) == [55, 56, 57, 58, 59]


def test_only_the_listed_strategies(client, pool_files):
    from dami_gui.core.errors import DamiError

    listed = "--engine dask runs the strategies dami-blend, dami-plus and random"
    with pytest.raises(DamiError, match=listed):
        run(client, pool_files / "pq", strategy="entropy")


def test_blend_is_dami_plus_central_rows_then_its_draws(client, pool_files):
    memory = load_dataset(pool_files / "pool.csv", label_column="label", id_column="id")
    plus = run(client, pool_files / "pq", strategy="dami-plus", batch=8)
    blend = run(client, pool_files / "pq", strategy="dami-blend", batch=8)
    assert np.array_equal(blend.rows[:4], plus.rows[:4])  # the four largest groups' central rows
    assert blend.rows.size == 8 and np.unique(blend.rows).size == 8
    assert (memory.y[blend.rows] < 0).all()
    assert not np.array_equal(blend.rows, plus.rows)  # the other half: boundary draws


def test_pool_frame_helper_reads_every_row(client, pool_files):
    frame = reading.open_pool(str(pool_files / "parts" / "*.csv"), 2)
    assert len(frame.compute()) == len(pd.read_csv(pool_files / "pool.csv"))


def test_many_labeled_rows_and_a_big_batch(client, tmp_path):
    """Arrays of several hundred KB go to every task (labeled rows' dp/dx, k-means|| draws)."""
    from tests.distributed.conftest import make_pool

    frame = make_pool(6000, seed=2)
    frame["label"] = np.where(np.arange(6000) < 2500, frame["label"].fillna("a"), None)
    frame.to_parquet(tmp_path / "many.parquet")
    res = run(client, tmp_path / "many.parquet", batch=120)
    assert res.n_labeled == 2500 and np.unique(res.rows).size == 120 and (res.rows >= 2500).all()
