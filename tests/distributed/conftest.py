"""A small local Dask cluster (2 workers, 1 thread each, in this process) for the tests."""

import numpy as np
import pandas as pd
import pytest


def need_dask() -> None:
    """Skip the calling test module, with the reason, where the dask extra is missing."""
    for name in ("dask", "distributed", "pyarrow"):
        pytest.importorskip(name, reason="the dask extra (dami-gui[dask]) is not installed")


@pytest.fixture(scope="session")
def client():
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
    )
    with Client(cluster) as c:
        yield c
    cluster.close()


@pytest.fixture(autouse=True)
def threads(monkeypatch):
    """Local clusters started by the command are threads too (quick to start)."""
    from dami_gui.distributed import cluster

    monkeypatch.setattr(cluster, "PROCESSES", False)


def make_pool(n: int = 1200, seed: int = 0) -> pd.DataFrame:
    """Three classes in 5 numeric columns and a categorical one, gaps in two, 8 % labeled."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    y = np.where(X[:, 0] + X[:, 1] ** 2 > 1, "b", "a")
    y = np.where(X[:, 2] > 1.0, "c", y)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(5)])
    frame["colour"] = rng.choice(["red", "green", "blue"], n)
    frame.loc[rng.choice(n, 15, replace=False), "f3"] = np.nan
    frame.loc[rng.choice(n, 10, replace=False), "colour"] = None
    frame["label"] = np.where(rng.random(n) < 0.08, y, None)
    frame.insert(0, "id", [f"r{i:05d}" for i in range(n)])
    return frame


@pytest.fixture(scope="session")
def pool_files(tmp_path_factory):
    """The same pool as one CSV, two CSVs (a glob) and a Parquet folder of three files."""
    root = tmp_path_factory.mktemp("pool")
    frame = make_pool()
    frame.to_csv(root / "pool.csv", index=False)
    (root / "parts").mkdir()
    frame.iloc[:600].to_csv(root / "parts" / "a.csv", index=False)
    frame.iloc[600:].to_csv(root / "parts" / "b.csv", index=False)
    (root / "pq").mkdir()
    for i, start in enumerate(range(0, len(frame), 400)):
        frame.iloc[start : start + 400].to_parquet(root / "pq" / f"part{i}.parquet")
    return root
