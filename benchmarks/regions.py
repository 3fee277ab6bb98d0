"""The lead of issue 5: how many pool rows sit alone in their exact linear region?

    python -m benchmarks.regions [--seeds N]

For each development data set, trains the default MLP on a random labeled set of B rows (the
first round) and of 11 B rows (the last round's size) and reports the share of pool rows whose
activation pattern no other pool row shares, the number of regions, and the mean pairwise
distance ratio that tells whether vec(A(x)) still clusters (mean distance to the nearest other
row over the mean distance to a random row).
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from dami_gui.core.interpret import interpret
from dami_gui.core.model import train_mlp

from .data import DEV_DATASETS, batch_size_for, make_split
from .label_efficiency import RESULTS


def measure(name: str, seed: int, n_labels: int) -> dict:
    split = make_split(name, seed)
    rng = np.random.default_rng(seed)
    rows = rng.choice(split.X_pool.shape[0], size=n_labels, replace=False)
    model, _ = train_mlp(split.X_pool[rows], split.y_pool[rows], split.n_classes, seed=seed)
    it = interpret(model, split.X_pool, with_A=True)
    _, inverse, counts = np.unique(it.region_ids, return_inverse=True, return_counts=True)
    alone = float((counts[inverse] == 1).mean())
    F = torch.from_numpy(
        it.flat()[rng.choice(len(it.flat()), min(2000, len(it.flat())), replace=False)]
    )
    D = torch.cdist(F, F)
    D.fill_diagonal_(float("inf"))
    nn = D.min(1).values.mean()
    D.fill_diagonal_(0)
    ratio = float(nn / (D.sum() / (D.shape[0] * (D.shape[0] - 1))))
    return {
        "alone": alone,
        "regions": int(counts.size),
        "rows": int(counts.sum()),
        "nn_over_mean_distance": ratio,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    out = {}
    print(
        "| data set | labels | rows alone in their region | regions / rows "
        "| NN / mean distance in vec(A) |"
    )
    print("|---|---|---|---|---|")
    for name in DEV_DATASETS:
        C = make_split(name, 0).n_classes
        B = batch_size_for(C)
        for n_labels in (B, 11 * B):
            ms = [measure(name, s, n_labels) for s in range(args.seeds)]
            m = {k: float(np.mean([x[k] for x in ms])) for k in ms[0]}
            out[f"{name}|{n_labels}"] = m
            print(
                f"| {name} | {n_labels} | {100 * m['alone']:.0f} % | "
                f"{m['regions']:.0f} / {m['rows']:.0f} | {m['nn_over_mean_distance']:.2f} |",
                flush=True,
            )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "regions.json").write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
