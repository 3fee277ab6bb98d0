"""Label-efficiency benchmark: learning curves of every strategy on KEEL tabular data.

    python -m benchmarks.label_efficiency [--quick] [--datasets ...] [--seeds N]
                                          [--strategies ...] [--out FILE] [--resume]

Protocol (issue 5): per seed, a stratified 70/30 pool/test split, the pool capped at 10,000 rows
(stratified, seeded), features standardised on the pool; a random initial labeled set of
B = max(20, 2 x classes) rows, the same for every strategy; 10 rounds of B queries (11 points);
the MLP of :mod:`dami_gui.core.model` with its defaults, trained from scratch each round with the
same training seed for every strategy. Ours: every name in ``available()``; peers: scikit-activeml
on the same fitted network (see :mod:`benchmarks.peers`).

Summary: the area under the learning curve (AUC, mean test accuracy over the 11 points) and the
final accuracy, mean and standard error over seeds; the gain over random, paired by seed.
Writes JSON to ``benchmarks/results/`` (after every run, so ``--resume`` continues a cut run) and
PNG learning curves; prints the tables.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

from dami_gui.core.model import predict_proba, train_mlp
from dami_gui.core.strategies import ModelOutputs, QueryContext, available, get_strategy

from .data import DEV_DATASETS, HOLDOUT_DATASETS, batch_size_for, make_split
from .peers import PEERS, peer_query
from .variants import VARIANTS

RESULTS = Path(__file__).resolve().parent / "results"
ROUNDS = 10
QUICK_DATASETS = ["satimage", "segment"]


def _accuracy(model, X, y) -> float:
    return float((predict_proba(model, X).argmax(1) == y).mean())


def run_curve(split, strategy: str, seed: int, rounds: int = ROUNDS, cache: dict | None = None):
    """One learning curve; returns test accuracies (rounds + 1), selection seconds per round."""
    n, C = split.X_pool.shape[0], split.n_classes
    B = batch_size_for(C)
    rng = np.random.default_rng(seed)
    labeled = np.zeros(n, dtype=bool)
    labeled[rng.choice(n, size=B, replace=False)] = True
    accs, select_s, train_s = [], [], []
    for r in range(rounds + 1):
        t0 = time.perf_counter()
        train_seed = seed * 1000 + r
        key = (split.name, seed, r, labeled.tobytes()) if r == 0 else None
        if cache is not None and key in cache:
            model = cache[key]
        else:
            model, _ = train_mlp(split.X_pool[labeled], split.y_pool[labeled], C, seed=train_seed)
            if key is not None and cache is not None:
                cache[key] = model
        train_s.append(time.perf_counter() - t0)
        accs.append(_accuracy(model, split.X_test, split.y_test))
        if r == rounds:
            break
        t0 = time.perf_counter()
        qseed = seed * 1000 + r
        if strategy in PEERS:
            rows = np.flatnonzero(labeled)
            idx = peer_query(strategy, model, split.X_pool, rows, split.y_pool[rows], B, qseed)
        else:
            ctx = QueryContext(split.X_pool, labeled, ModelOutputs(model, split.X_pool))
            strat = VARIANTS[strategy]() if strategy in VARIANTS else get_strategy(strategy)
            idx = strat.query(ctx, B, seed=qseed).indices
        select_s.append(time.perf_counter() - t0)
        assert len(set(idx.tolist())) == B and not labeled[idx].any(), strategy
        labeled[idx] = True
    return accs, select_s, train_s


def summarise(runs: list[dict], strategies: list[str], datasets: list[str]) -> dict:
    """Per data set and strategy: AUC, final accuracy (mean, SE); paired gain over random."""
    by = {(r["dataset"], r["strategy"], r["seed"]): r for r in runs}
    table: dict = {}
    for ds in datasets:
        seeds = sorted({s for (d, st, s) in by if d == ds and st == "random"})
        for st in strategies:
            rows = [by[(ds, st, s)] for s in seeds if (ds, st, s) in by]
            if not rows:
                continue
            auc = np.array([np.mean(r["acc"]) for r in rows]) * 100
            fin = np.array([r["acc"][-1] for r in rows]) * 100
            paired = [s for s in seeds if (ds, st, s) in by]
            gain = np.array(
                [
                    100 * (np.mean(by[(ds, st, s)]["acc"]) - np.mean(by[(ds, "random", s)]["acc"]))
                    for s in paired
                ]
            )
            se = lambda a: float(a.std(ddof=1) / np.sqrt(a.size)) if a.size > 1 else float("nan")  # noqa: E731
            table[(ds, st)] = {
                "n_seeds": len(rows),
                "auc": float(auc.mean()),
                "auc_se": se(auc),
                "final": float(fin.mean()),
                "final_se": se(fin),
                "gain": float(gain.mean()),
                "gain_se": se(gain),
                "select_s": float(np.mean([np.mean(r["select_s"]) for r in rows])),
            }
    overall = {}
    for st in strategies:
        gains = [table[(ds, st)]["gain"] for ds in datasets if (ds, st) in table]
        if gains:
            overall[st] = {
                "mean_gain": float(np.mean(gains)),
                "wins": int(sum(g > 0 for g in gains)),
                "n_datasets": len(gains),
            }
    return {"per_dataset": {f"{d}|{s}": v for (d, s), v in table.items()}, "overall": overall}


def format_tables(summary: dict, strategies: list[str], datasets: list[str]) -> str:
    per = summary["per_dataset"]
    ov = summary["overall"]
    order = sorted([s for s in strategies if s in ov], key=lambda s: -ov[s]["mean_gain"])
    lines = []
    head = "| strategy | " + " | ".join(datasets) + " | mean gain | beats random |"
    lines += [
        "AUC (mean test accuracy over the 11 points, %) ± SE; in brackets: gain over random",
        "",
        head,
        "|" + "---|" * (len(datasets) + 3),
    ]
    for st in order:
        cells = []
        for ds in datasets:
            v = per.get(f"{ds}|{st}")
            cells.append(
                "" if v is None else f"{v['auc']:.1f} ± {v['auc_se']:.1f} ({v['gain']:+.1f})"
            )
        o = ov[st]
        lines.append(
            f"| {st} | "
            + " | ".join(cells)
            + f" | {o['mean_gain']:+.2f} | {o['wins']}/{o['n_datasets']} |"
        )
    lines += [
        "",
        "Final accuracy (%, after 10 rounds) ± SE",
        "",
        "| strategy | " + " | ".join(datasets) + " | mean select s |",
        "|" + "---|" * (len(datasets) + 2),
    ]
    for st in order:
        cells, secs = [], []
        for ds in datasets:
            v = per.get(f"{ds}|{st}")
            cells.append("" if v is None else f"{v['final']:.1f} ± {v['final_se']:.1f}")
            if v is not None:
                secs.append(v["select_s"])
        lines.append(f"| {st} | " + " | ".join(cells) + f" | {np.mean(secs):.3f} |")
    return "\n".join(lines)


def plot(runs: list[dict], strategies: list[str], datasets: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ncol = min(3, len(datasets))
    nrow = -(-len(datasets) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.2 * nrow), squeeze=False)
    highlight = {"random": "k", "dami": "tab:blue", "badge": "tab:orange", "margin": "tab:green"}
    for ax, ds in zip(axes.flat, datasets, strict=False):
        for st in strategies:
            rows = [r for r in runs if r["dataset"] == ds and r["strategy"] == st]
            if not rows:
                continue
            acc = np.mean([r["acc"] for r in rows], axis=0) * 100
            labels = rows[0]["labels"]
            style = (
                {"lw": 2.2, "color": highlight[st]} if st in highlight else {"lw": 1, "alpha": 0.7}
            )
            if st.startswith("dami-"):
                style = {"lw": 2.2, "ls": "--"}
            ax.plot(labels, acc, label=st, **style)
        ax.set_title(ds, fontsize=10)
        ax.set_xlabel("labels", fontsize=8)
        ax.set_ylabel("test accuracy %", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(datasets) :]:
        ax.axis("off")
    handles, names = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=min(7, len(names)), fontsize=7)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    fig.savefig(path, dpi=80)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="2 seeds on satimage and segment")
    ap.add_argument("--datasets", nargs="+", default=None)
    ap.add_argument(
        "--holdout",
        action="store_true",
        help=f"the held-out data sets ({', '.join(HOLDOUT_DATASETS)}) instead of the dev ones",
    )
    ap.add_argument("--seeds", type=int, default=None, help="number of seeds (default 5)")
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument(
        "--strategies",
        nargs="+",
        default=None,
        help="default: every registered strategy and the scikit-activeml peers",
    )
    ap.add_argument("--rounds", type=int, default=ROUNDS)
    ap.add_argument("--out", default=None, help="JSON path (default benchmarks/results/...)")
    ap.add_argument("--resume", action="store_true", help="skip runs already in --out")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    datasets = args.datasets or (
        HOLDOUT_DATASETS if args.holdout else QUICK_DATASETS if args.quick else DEV_DATASETS
    )
    n_seeds = args.seeds or (2 if args.quick else 5)
    seeds = list(range(args.first_seed, args.first_seed + n_seeds))
    strategies = args.strategies or (available() + PEERS)
    if "random" not in strategies:
        strategies = ["random", *strategies]
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = (
        Path(args.out)
        if args.out
        else RESULTS
        / (
            "label_efficiency_holdout.json"
            if args.holdout
            else "label_efficiency_quick.json"
            if args.quick
            else "label_efficiency.json"
        )
    )
    runs: list[dict] = []
    if args.resume and out.exists():
        runs = json.loads(out.read_text())["runs"]
    done = {(r["dataset"], r["strategy"], r["seed"]) for r in runs}
    config = {
        "datasets": datasets,
        "seeds": seeds,
        "strategies": strategies,
        "rounds": args.rounds,
        "pool_cap": 10_000,
        "test_fraction": 0.3,
        "batch": "max(20, 2 x classes)",
        "model": "dami_gui.core.model defaults",
    }
    t_start = time.perf_counter()
    cache: dict = {}
    for seed in seeds:  # seed-major: a cut run leaves whole seeds for every data set
        for ds in datasets:
            split = make_split(ds, seed)
            B = batch_size_for(split.n_classes)
            cache.clear()
            for st in strategies:
                if (ds, st, seed) in done:
                    continue
                t0 = time.perf_counter()
                accs, sel, tr = run_curve(split, st, seed, args.rounds, cache)
                runs.append(
                    {
                        "dataset": ds,
                        "strategy": st,
                        "seed": seed,
                        "acc": accs,
                        "labels": [B * (r + 1) for r in range(args.rounds + 1)],
                        "select_s": sel,
                        "train_s": tr,
                        "seconds": time.perf_counter() - t0,
                    }
                )
                print(
                    f"[{time.perf_counter() - t_start:7.0f}s] {ds:9s} seed {seed} {st:18s} "
                    f"AUC {100 * np.mean(accs):5.1f} final {100 * accs[-1]:5.1f} "
                    f"({time.perf_counter() - t0:.0f}s, select {np.mean(sel):.2f}s/round)",
                    flush=True,
                )
                tmp = out.with_suffix(".tmp")
                tmp.write_text(json.dumps({"config": config, "runs": runs}))
                os.replace(tmp, out)
    summary = summarise(runs, strategies, datasets)
    out.write_text(json.dumps({"config": config, "runs": runs, "summary": summary}, indent=1))
    print()
    print(format_tables(summary, strategies, datasets))
    png = out.with_suffix(".png")
    plot(runs, strategies, datasets, png)
    print(f"\nwrote {out} and {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
