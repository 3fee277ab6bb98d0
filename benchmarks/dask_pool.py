"""``dami select --engine dask`` on big Parquet pools: time, memory per worker, agreement.

    python -m benchmarks.dask_pool generate --rows 10000000 --out /tmp/dami_pool_10m
    python -m benchmarks.dask_pool run --pool /tmp/dami_pool_10m --workers 2 --memory 2GB
    python -m benchmarks.dask_pool agree --rows 1000000

``generate``: a pool of ``--rows`` rows x 20 features (12 Gaussian clusters in 20-d, 4 classes
given by the cluster, 15 % of them relabeled at random, so the classes overlap), written as
Parquet files of 500,000 rows into a folder (never into the repository); one row in 50,000 is
labeled, an id column names the rows.

``run``: the command itself (``python -m dami_gui.cli select POOL --engine dask``) on a local
cluster, its worker processes' resident memory sampled with psutil every 0.2 s: the peak of
each worker and of the client, the wall time, and the command's own time per stage.

``agree``: a pool of ``--rows`` rows (the same generator), one round of DAMI+ in memory (the
dataset built from the frame, then ``Session.compute_round``: above 50,000 rows its k-means runs
on a coreset) and on Dask (a local cluster of 2 worker processes) in the same run: the features
(largest difference), the model (same predictions at the picks), and the quality of each set of
picks as the uncovered mass of ``benchmarks.big_round`` (the squared dp/dx distance to the
nearest labeled or picked row, summed over the pool, as a fraction of that with the labeled rows
alone; lower is better), random picks for scale.

Results go to ``benchmarks/results/dask_pool_*.json``; docs/dask.md quotes them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parent.parent
FILE_ROWS = 500_000
FEATURES = 20
CLASSES = 4
CLUSTERS = 12
LABEL_EVERY = 50_000


def pool_chunk(start: int, stop: int) -> pd.DataFrame:
    """Rows start..stop of the generated pool (the same rows whatever the chunking)."""
    centers = np.random.default_rng(12345).normal(scale=3.0, size=(CLUSTERS, FEATURES))
    rng = np.random.default_rng((7, start))
    n = stop - start
    cluster = rng.integers(0, CLUSTERS, n)
    X = (centers[cluster] + rng.normal(size=(n, FEATURES))).astype(np.float32)
    y = cluster % CLASSES
    noisy = rng.random(n) < 0.15
    y[noisy] = rng.integers(0, CLASSES, int(noisy.sum()))
    frame = pd.DataFrame(X, columns=[f"x{i:02d}" for i in range(FEATURES)])
    rows = np.arange(start, stop)
    frame.insert(0, "id", rows)
    labels = np.array([f"class{c}" for c in range(CLASSES)], dtype=object)[y]
    labels[rows % LABEL_EVERY != 7] = None
    frame["label"] = labels
    return frame


def generate(rows: int, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for i, start in enumerate(range(0, rows, FILE_ROWS)):
        pool_chunk(start, min(rows, start + FILE_ROWS)).to_parquet(
            out / f"part{i:04d}.parquet", index=False
        )
    print(f"Wrote {rows} rows to {out}.", flush=True)


def _sample(pid: int, peaks: dict[str, float], stop: threading.Event) -> None:
    """Peak resident memory (MB) of the process and of each descendant, every 0.2 s."""
    import psutil

    root = psutil.Process(pid)
    while not stop.is_set():
        try:
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            break
        for p in procs:
            try:
                rss = p.memory_info().rss / 2**20
                kind = "client" if p.pid == pid else f"child {p.pid}"
                if kind != "client" and "spawn_main" not in " ".join(p.cmdline()):
                    continue  # not a worker (a resource tracker)
                peaks[kind] = max(peaks.get(kind, 0.0), rss)
            except psutil.Error:
                pass
        stop.wait(0.2)


def run(pool: str, workers: int, memory: str, batch: int) -> dict:
    cmd = [
        sys.executable, "-m", "dami_gui.cli", "select", pool, "--engine", "dask",
        "--label-column", "label", "--id-column", "id", "--batch", str(batch),
        "--workers", str(workers), "--memory-per-worker", memory,
        "--out", "/tmp/dami_dask_queries.csv",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peaks: dict[str, float] = {}
    stop = threading.Event()
    sampler = threading.Thread(target=_sample, args=(proc.pid, peaks, stop))
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    stop.set()
    sampler.join()
    print(out[-3000:], err[-3000:], sep="\n")
    stages = dict(re.findall(r"(\w+) ([\d.]+) s", err.split("Stages:")[-1].split("\n")[0]))
    worker_peaks = sorted((v for k, v in peaks.items() if k != "client"), reverse=True)
    return {
        "pool": pool,
        "workers": workers,
        "memory_per_worker": memory,
        "batch": batch,
        "exit_code": proc.returncode,
        "wall_s": wall,
        "stages_s": {k: float(v) for k, v in stages.items()},
        "peak_worker_mb": worker_peaks,
        "peak_client_mb": peaks.get("client", 0.0),
    }


def agree(rows: int, batch: int, seed: int) -> dict:
    import torch
    from distributed import Client, LocalCluster

    from benchmarks.big_round import _uncovered
    from dami_gui.core.data.dataset import build_dataset
    from dami_gui.core.data.roles import infer_roles
    from dami_gui.core.geometry.points import Matrix
    from dami_gui.core.model import predict_proba
    from dami_gui.core.session import Session
    from dami_gui.core.strategies import ModelOutputs, QueryContext
    from dami_gui.core.strategies.dami_variants import probability_jacobian
    from dami_gui.distributed import engine, reading

    folder = Path(f"/tmp/dami_pool_{rows}")
    if not folder.exists():
        generate(rows, folder)
    frame = pd.concat([pd.read_parquet(p) for p in sorted(folder.glob("*.parquet"))])
    frame = frame.reset_index(drop=True)
    report = infer_roles(frame.head(10_000), label_column="label", id_column="id")
    dataset = build_dataset(frame, report)
    del frame
    t0 = time.perf_counter()
    session = Session(dataset, batch_size=batch, seed=seed, estimate_accuracy=False)
    result = session.compute_round()
    memory_s = time.perf_counter() - t0
    mem_picks = result.queries

    with (
        LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0") as cluster,
        Client(cluster) as client,
    ):
        t0 = time.perf_counter()
        ours = engine.select(
            client,
            reading.open_pool(str(folder), 2),
            label_column="label",
            id_column="id",
            classes=None,
            strategy="dami-plus",
            batch=batch,
            seed=seed,
        )
        dask_s = time.perf_counter() - t0

    torch.set_num_threads(1)
    labeled = dataset.y >= 0
    from dami_gui.core.model import train_mlp

    model, _ = train_mlp(
        dataset.X[labeled], dataset.y[labeled], len(dataset.classes), seed=seed * 1_000_003 + 1
    )
    same_model = ours.predicted == [
        dataset.classes[i] for i in predict_proba(model, dataset.X[ours.rows]).argmax(1)
    ]
    outputs = ModelOutputs(model, dataset.X)
    ctx = QueryContext(dataset.X, labeled, outputs)
    J = probability_jacobian(ctx, outputs.interpretation())
    if not isinstance(J, Matrix):
        J = J.materialize()
    outputs._interpretation = None
    uncovered = _uncovered(J, np.flatnonzero(labeled))
    rng = np.random.default_rng(0)
    open_rows = np.flatnonzero(~labeled)
    out = {
        "rows": rows,
        "batch": batch,
        "seed": seed,
        "labeled": int(labeled.sum()),
        "same_model": bool(same_model),
        "common_picks": int(np.intersect1d(mem_picks, ours.rows).size),
        "uncovered_memory": uncovered(mem_picks),
        "uncovered_dask": uncovered(ours.rows),
        "uncovered_random": [
            uncovered(rng.choice(open_rows, batch, replace=False)) for _ in range(3)
        ],
        "memory_round_s": memory_s,
        "dask_round_s": dask_s,
        "dask_stages_s": ours.timings,
    }
    print(json.dumps(out, indent=1), flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--rows", type=int, default=10_000_000)
    g.add_argument("--out", type=Path, default=Path("/tmp/dami_pool_10m"))
    r = sub.add_parser("run")
    r.add_argument("--pool", default="/tmp/dami_pool_10m")
    r.add_argument("--workers", type=int, default=2)
    r.add_argument("--memory", default="2GB")
    r.add_argument("--batch", type=int, default=20)
    a = sub.add_parser("agree")
    a.add_argument("--rows", type=int, default=1_000_000)
    a.add_argument("--batch", type=int, default=20)
    a.add_argument("--seeds", type=int, nargs="+", default=[0])
    a.add_argument(
        "--full-steps", type=int, help="Lloyd steps on the whole pool (engine.FULL_STEPS)"
    )
    a.add_argument(
        "--oversampling", type=float, help="k-means|| draws per round per center (OVERSAMPLING)"
    )
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    if args.command == "generate":
        generate(args.rows, args.out)
    elif args.command == "run":
        res = run(args.pool, args.workers, args.memory, args.batch)
        print(json.dumps(res, indent=1))
        path = RESULTS / f"dask_pool_run_{Path(args.pool).name}.json"
        path.write_text(json.dumps(res, indent=1))
    else:
        from dami_gui.distributed import engine

        tag = ""
        if args.full_steps is not None:
            engine.FULL_STEPS, tag = args.full_steps, f"_steps{args.full_steps}"
        if args.oversampling is not None:
            engine.OVERSAMPLING = args.oversampling
            tag += f"_ell{args.oversampling:g}"
        res = [agree(args.rows, args.batch, s) for s in args.seeds]
        for r in res:
            r["full_steps"], r["oversampling"] = engine.FULL_STEPS, engine.OVERSAMPLING
        path = RESULTS / f"dask_pool_agree_{args.rows}{tag}.json"
        path.write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
