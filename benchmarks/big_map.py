"""The map on big pools: time, stages and quality of the landmark UMAP against the full fit.

    python -m benchmarks.big_map warmup [--rows 10000]
    python -m benchmarks.big_map quality [--rows 100000] [--landmarks 20000 50000]
    python -m benchmarks.big_map time [--rows 1000000]

Data: a synthetic 20-d pool (:func:`pool`): 12 clusters of intrinsic dimension 3 (a 3-d
Gaussian through a random linear map) plus a little noise, seeded. One thread (numba, BLAS,
torch).

``warmup``: in two fresh processes, the old warm-up (a 64-row map, umap's small-data path) or
:func:`~dami_gui.core.embedding.warm_up_umap` (which also runs the NN-descent path), then the
first real map (``--rows``, the full fit) and, in the second, a small landmark map twice (first
and second call: equal times mean nothing was left to compile).

``quality``: on ``--rows`` rows, the full UMAP fit and the landmark map for each landmark count,
with their seconds and two measures on a seeded sample of 3,000 rows: sklearn's
trustworthiness (15 neighbours, among the sample) and the k-NN preservation (the share of each
sampled row's 15 nearest rows of the whole pool in 20-d that are among its 15 nearest on the
map).

``time``: the landmark map of ``--rows`` rows with the seconds of each stage, the peak memory,
and PCA on the same rows.

Results: ``benchmarks/results/big_map_*.json``, printed; docs/big-pools.md quotes them.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
ONE_THREAD = {
    "NUMBA_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
}


def pool(n: int, d: int = 20, clusters: int = 12, seed: int = 0) -> np.ndarray:
    """``n`` rows in ``d`` dimensions, standardised, float32: 12 clusters, each a 3-d Gaussian
    mapped into ``d`` dimensions by its own random linear map, plus a little isotropic noise (so
    that a row's nearest neighbours mean something a 2-D map can keep)."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=4.0, size=(clusters, d))
    maps = rng.normal(size=(clusters, 3, d))
    y = rng.integers(0, clusters, n)
    X = np.empty((n, d), dtype=np.float32)
    for s in range(0, n, 100_000):
        e = min(n, s + 100_000)
        z = rng.standard_normal((e - s, 3))
        noise = 0.1 * rng.standard_normal((e - s, d))
        X[s:e] = centers[y[s:e]] + np.einsum("nk,nkd->nd", z, maps[y[s:e]]) + noise
    X -= X.mean(0)
    X /= X.std(0)
    return X


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _timed_map(X: np.ndarray, **kwds) -> tuple[np.ndarray, float, dict]:
    """The map, its seconds, and the seconds from the start at which each stage began."""
    from dami_gui.core.embedding import umap_layout

    starts: dict = {}
    t0 = time.perf_counter()

    def progress(stage: str, fraction: float) -> None:
        starts.setdefault(stage, time.perf_counter() - t0)

    Y = umap_layout(X, seed=0, progress=progress, **kwds)
    return Y, time.perf_counter() - t0, starts


def knn_preservation(X: np.ndarray, Y: np.ndarray, sample: np.ndarray, k: int = 15) -> float:
    """Mean share of each sampled row's k nearest rows in X that are among its k nearest in Y."""
    shares = []
    for s in range(0, sample.size, 500):
        rows = sample[s : s + 500]
        found = []
        for M in (X, Y):
            M = M.astype(np.float32)
            d = (M * M).sum(1)[None, :] - 2.0 * (M[rows] @ M.T)
            d[np.arange(rows.size), rows] = np.inf  # not itself
            found.append(np.argpartition(d, k, axis=1)[:, :k])
        shares += [len(set(a) & set(b)) / k for a, b in zip(*found, strict=True)]
    return float(np.mean(shares))


def quality(rows: int, counts: list[int]) -> dict:
    from sklearn.manifold import trustworthiness

    from dami_gui.core.embedding import warm_up_umap

    warm_up_umap()
    X = pool(rows)
    sample = np.sort(np.random.default_rng(1).choice(rows, 3000, replace=False))
    out: dict = {"rows": rows}
    for name, landmarks in [("full", rows), *((f"landmarks {c}", c) for c in counts)]:
        Y, seconds, starts = _timed_map(X, landmarks=landmarks)
        out[name] = {
            "seconds": seconds,
            "stages": starts,
            "trustworthiness": float(trustworthiness(X[sample], Y[sample], n_neighbors=15)),
            "knn_preservation": knn_preservation(X, Y, sample),
        }
        print(name, json.dumps(out[name]), flush=True)
    return out


def timing(rows: int) -> dict:
    from dami_gui.core.embedding import pca_layout, warm_up_umap

    t0 = time.perf_counter()
    warm_up_umap()
    warm = time.perf_counter() - t0
    X = pool(rows)
    t0 = time.perf_counter()
    pca_layout(X)
    pca = time.perf_counter() - t0
    _, seconds, starts = _timed_map(X)
    out = {"rows": rows, "warm_up_s": warm, "pca_s": pca, "map_s": seconds, "stages": starts}
    out["peak_mb"] = _peak_mb()
    print(json.dumps(out), flush=True)
    return out


def warmup_child(which: str, rows: int) -> dict:
    from dami_gui.core.embedding import umap_layout, warm_up_umap

    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    if which == "old":
        umap_layout(rng.normal(size=(64, 4)), seed=0, n_epochs=5)  # the warm-up before issue 14
    else:
        warm_up_umap()
    out = {"warm_up_s": time.perf_counter() - t0}
    X = pool(rows)
    _, out["first_map_s"], _ = _timed_map(X)
    if which == "new":
        small = pool(6000, seed=2)
        _, out["landmark_map_first_s"], _ = _timed_map(small, landmarks=4096, n_epochs=50)
        _, out["landmark_map_second_s"], _ = _timed_map(small, landmarks=4096, n_epochs=50)
    return out


def warmup(rows: int) -> dict:
    out = {}
    for which in ("old", "new"):
        p = subprocess.run(
            [sys.executable, "-m", "benchmarks.big_map", "--child", which, str(rows)],
            capture_output=True,
            text=True,
            env=dict(os.environ, **ONE_THREAD),
            cwd=Path(__file__).resolve().parent.parent,
        )
        if p.returncode != 0:
            raise SystemExit(p.stderr)
        out[which] = json.loads(p.stdout.strip().splitlines()[-1])
        print(which, json.dumps(out[which]), flush=True)
    return out


def main(argv=None) -> int:
    os.environ.update(ONE_THREAD)  # before numba and torch are imported
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("what", choices=["warmup", "quality", "time"], nargs="?")
    ap.add_argument("--rows", type=int, default=None)
    ap.add_argument("--landmarks", type=int, nargs="+", default=[20_000, 50_000])
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(warmup_child(args.child[0], int(args.child[1]))))
        return 0
    RESULTS.mkdir(parents=True, exist_ok=True)
    if args.what == "warmup":
        res = warmup(args.rows or 10_000)
    elif args.what == "quality":
        res = quality(args.rows or 100_000, args.landmarks)
    else:
        res = timing(args.rows or 1_000_000)
    (RESULTS / f"big_map_{args.what}.json").write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
