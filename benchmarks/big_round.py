"""DAMI+ on big pools: are the sampled picks as good as the exact ones?

    python -m benchmarks.big_round quality [--sizes 100000 300000] [--seeds 3]
    python -m benchmarks.big_round curves [--datasets ...] [--seeds 5] [--per-cluster 50]

Above :data:`dami_gui.core.geometry.kmeans.SAMPLE_ABOVE` rows DAMI+ seeds and iterates its k-means
on a weighted sample (a lightweight coreset) instead of the whole pool, so its picks are no longer
the exact algorithm's. Two checks, both side by side with the exact algorithm in the same run:

``quality``: synthetic pools as in :mod:`benchmarks.speed` (50 features, 10 classes, 200
labeled, batch 100, the default MLP). For the exact and the sampled algorithm (several seeds),
the uncovered mass the picks leave: sum over rows of the squared distance in dp/dx to the
nearest labeled *or picked* row, as a fraction of the same sum with the labeled rows alone
(lower: the picks stand for more of what the labeled rows leave unexplained); random picks for
scale. Also the selection's seconds.

``curves``: the label-efficiency protocol of :mod:`benchmarks.label_efficiency` (the same
splits, initial sets, rounds and training seeds) on the development data sets, with the threshold
lowered to 0 so that their pools (at most 10,000 rows) take the sampled path, and the sample
shrunk to ``--per-cluster`` draws per new cluster (50: fewer per cluster than the 200 used on
big pools, a harder test). Exact DAMI+, sampled DAMI+ and random, paired by seed: the area under
the learning curve and its difference.

Results go to ``benchmarks/results/big_round_*.json`` and are printed as Markdown tables;
docs/big-pools.md quotes them. One thread.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import torch

from dami_gui.core.geometry import kmeans
from dami_gui.core.geometry.points import Matrix
from dami_gui.core.model import predict_proba, train_mlp
from dami_gui.core.strategies import ModelOutputs, QueryContext, get_strategy
from dami_gui.core.strategies.dami_variants import probability_jacobian

from .data import DEV_DATASETS, batch_size_for, make_split
from .speed import BATCH, _setup

RESULTS = Path(__file__).resolve().parent / "results"
ROUNDS = 10
EXACT = 1 << 62  # a threshold no pool reaches


def _uncovered(J: Matrix, fixed: np.ndarray, block: int = 16384):
    """A function of the picks: the uncovered mass they leave (see module), and the base."""
    n, sq = J.n, J.sq_norms()

    def nearest_sq(rows: np.ndarray) -> torch.Tensor:
        out = torch.empty(n)
        C = J.X[torch.as_tensor(rows)]
        csq = (C * C).sum(1)
        for s in range(0, n, block):
            d = torch.addmm(csq[None], J.X[s : s + block], C.T, alpha=-2.0).min(1).values
            out[s : s + block] = (d + sq[s : s + block]).clamp_(min=0.0)
        return out

    to_labeled = nearest_sq(fixed)
    base = float(to_labeled.sum())
    return lambda picks: float(torch.minimum(to_labeled, nearest_sq(picks)).sum()) / base


def quality(sizes: list[int], seeds: int) -> dict:
    torch.set_num_threads(1)
    out: dict = {}
    for n in sizes:
        X, _, labeled, model = _setup(n)
        outputs = ModelOutputs(model, X)
        ctx = QueryContext(X, labeled, outputs)
        J = probability_jacobian(ctx, outputs.interpretation())
        if not isinstance(J, Matrix):
            J = J.materialize()
        outputs._interpretation = None  # A is not needed any more: free it
        fixed = np.flatnonzero(labeled)
        uncovered = _uncovered(J, fixed)
        rng = np.random.default_rng(0)
        open_rows = np.flatnonzero(ctx.candidates)
        row: dict = {
            "random": [uncovered(rng.choice(open_rows, BATCH, replace=False)) for _ in range(3)]
        }
        for name, above in (("exact", EXACT), ("sampled", None)):
            costs, seconds = [], []
            for seed in range(seeds):
                t0 = time.perf_counter()
                res = kmeans.central_rows(
                    J, fixed, BATCH, candidates=ctx.candidates, seed=seed, sample_above=above
                )
                seconds.append(time.perf_counter() - t0)
                costs.append(uncovered(res.order))
            row[name] = costs
            row[f"{name}_s"] = seconds
        out[str(n)] = row
        print(n, json.dumps(row), flush=True)
    return out


def run_curve(split, mode: str, seed: int, per_cluster: int) -> list[float]:
    """Test accuracy after each round (rounds + 1 points) for one strategy mode and seed."""
    n, C = split.X_pool.shape[0], split.n_classes
    B = batch_size_for(C)
    rng = np.random.default_rng(seed)
    labeled = np.zeros(n, dtype=bool)
    labeled[rng.choice(n, size=B, replace=False)] = True
    accs = []
    for r in range(ROUNDS + 1):
        model, _ = train_mlp(split.X_pool[labeled], split.y_pool[labeled], C, seed=seed * 1000 + r)
        accs.append(float((predict_proba(model, split.X_test).argmax(1) == split.y_test).mean()))
        if r == ROUNDS:
            break
        ctx = QueryContext(split.X_pool, labeled, ModelOutputs(model, split.X_pool))
        qseed = seed * 1000 + r
        if mode == "random":
            idx = get_strategy("random").query(ctx, B, seed=qseed).indices
        else:
            saved = (kmeans.SAMPLE_ABOVE, kmeans.SAMPLE_ROWS, kmeans.SAMPLE_PER_CLUSTER)
            if mode == "sampled":
                kmeans.SAMPLE_ABOVE, kmeans.SAMPLE_ROWS = 0, 0
                kmeans.SAMPLE_PER_CLUSTER = per_cluster
            try:
                res = get_strategy("dami-plus").query(ctx, B, seed=qseed)
            finally:
                kmeans.SAMPLE_ABOVE, kmeans.SAMPLE_ROWS, kmeans.SAMPLE_PER_CLUSTER = saved
            idx = res.indices
        assert len(set(idx.tolist())) == B and not labeled[idx].any()
        labeled[idx] = True
    return accs


def curves(datasets: list[str], seeds: int, per_cluster: int, out_path: Path) -> dict:
    torch.set_num_threads(1)
    runs: dict = json.loads(out_path.read_text()) if out_path.exists() else {}
    for ds in datasets:
        for seed in range(seeds):
            split = make_split(ds, seed)
            for mode in ("exact", "sampled", "random"):
                key = f"{ds}|{mode}|{seed}"
                if key not in runs:
                    runs[key] = run_curve(split, mode, seed, per_cluster)
                    out_path.write_text(json.dumps(runs))
                    print(key, f"AUC {100 * np.mean(runs[key]):.2f}", flush=True)
    return runs


def format_curves(runs: dict, datasets: list[str], seeds: int) -> str:
    lines = [
        "| data set | exact AUC | sampled AUC | sampled − exact (paired) | random AUC |",
        "|---|---|---|---|---|",
    ]
    diffs_all = []
    for ds in datasets:
        auc = {
            m: np.array([100 * np.mean(runs[f"{ds}|{m}|{s}"]) for s in range(seeds)])
            for m in ("exact", "sampled", "random")
        }
        diff = auc["sampled"] - auc["exact"]
        diffs_all.append(diff)
        se = diff.std(ddof=1) / np.sqrt(diff.size) if diff.size > 1 else float("nan")
        lines.append(
            f"| {ds} | {auc['exact'].mean():.2f} | {auc['sampled'].mean():.2f} | "
            f"{diff.mean():+.2f} ± {se:.2f} | {auc['random'].mean():.2f} |"
        )
    d = np.concatenate(diffs_all)
    lines.append(
        f"| all ({d.size} curves) | | | {d.mean():+.2f} ± {d.std(ddof=1) / np.sqrt(d.size):.2f} | |"
    )
    return "\n".join(lines)


def format_quality(res: dict) -> str:
    lines = [
        "| rows | exact: uncovered mass | sampled: uncovered mass | random picks | "
        "exact s | sampled s |",
        "|---|---|---|---|---|---|",
    ]
    for n, r in res.items():
        cell = lambda v: f"{np.mean(v):.4f} ± {np.std(v):.4f}"  # noqa: E731
        lines.append(
            f"| {int(n):,} | {cell(r['exact'])} | {cell(r['sampled'])} | {np.mean(r['random']):.3f}"
            f" | {np.mean(r['exact_s']):.2f} | {np.mean(r['sampled_s']):.2f} |"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="what", required=True)
    q = sub.add_parser("quality")
    q.add_argument("--sizes", type=int, nargs="+", default=[100_000, 300_000])
    q.add_argument("--seeds", type=int, default=3)
    c = sub.add_parser("curves")
    c.add_argument("--datasets", nargs="+", default=DEV_DATASETS)
    c.add_argument("--seeds", type=int, default=5)
    c.add_argument("--per-cluster", type=int, default=50)
    args = ap.parse_args(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    if args.what == "quality":
        res = quality(args.sizes, args.seeds)
        (RESULTS / "big_round_quality.json").write_text(json.dumps(res, indent=1))
        print(format_quality(res))
    else:
        out = RESULTS / f"big_round_curves_{args.per_cluster}.json"
        runs = curves(args.datasets, args.seeds, args.per_cluster, out)
        print(format_curves(runs, args.datasets, args.seeds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
