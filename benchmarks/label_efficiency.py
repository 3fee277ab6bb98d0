"""Label-efficiency benchmark (issue 12): learning curves of every pipeline on the dev data sets.

    python -m benchmarks.label_efficiency [--quick] [--group dev|tune|holdout|synthetic]
        [--datasets ...]
        [--seeds N] [--first-seed S] [--pipelines ...] [--jobs N] [--out FILE] [--resume]
    python -m benchmarks.label_efficiency --merge A.json B.json[:mlp=mlp64] ... --out ALL.json
    python -m benchmarks.label_efficiency --report-only --out ALL.json

The protocol is in :mod:`benchmarks.protocol` (data sets through the app's CSV path, split, pool
cap, B rule), the pipelines in :mod:`benchmarks.pipelines`, the metrics, tables and figure in
:mod:`benchmarks.report`. Every run (data set, seed, pipeline) is one learning curve, written to
the JSON as soon as it is done, so ``--resume`` continues a cut run and pieces run apart (other
seeds, other sets) are joined with ``--merge``; ``FILE:OLD=NEW`` renames that file's learner
OLD to NEW on the way (part 1's ``mlp/*`` curves, run with the network that was the default then,
are ``mlp64/*`` today). ``--jobs N`` runs N processes of one thread each.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

from .protocol import DEV_DATASETS, HOLDOUT, QUICK, RESULTS, ROUNDS, SYNTHETIC, TUNE

#: ``synthetic``: the families of :mod:`benchmarks.synthetic`, a new draw of each for every seed.
GROUPS = {"dev": DEV_DATASETS, "tune": TUNE, "holdout": HOLDOUT, "synthetic": SYNTHETIC}
_SPLITS: dict = {}
_CACHE: dict = {}


def _one_thread() -> None:
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = "1"
    import torch

    torch.set_num_threads(1)


def run_task(task: tuple[str, int, str, int]) -> dict:
    """One learning curve; the split and the first MLP are kept for the next pipeline."""
    from .pipelines import run_curve
    from .protocol import make_split

    ds, seed, pipeline, rounds = task
    if (ds, seed) not in _SPLITS:
        _SPLITS.clear()
        _CACHE.clear()
        _SPLITS[(ds, seed)] = make_split(ds, seed)
    split = _SPLITS[(ds, seed)]
    t0 = time.perf_counter()
    curve = run_curve(split, pipeline, seed, rounds, _CACHE)
    return {
        "dataset": ds,
        "kind": split.kind,
        "pipeline": pipeline,
        "seed": seed,
        "B": split.batch,
        "pool_rows": int(split.X_pool.shape[0]),
        "test_rows": int(split.X_test.shape[0]),
        **curve,
        "seconds": time.perf_counter() - t0,
    }


def _save(out: Path, config: dict, runs: list[dict]) -> None:
    tmp = out.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"config": config, "runs": runs}))
    os.replace(tmp, out)


def _load(path: Path) -> tuple[dict, list[dict]]:
    data = json.loads(path.read_text())
    return data.get("config", {}), data["runs"]


def merge(paths: list[Path], pipelines: list[str] | None = None) -> list[dict]:
    """The runs of several result files; a (set, seed, pipeline) run twice is kept once.

    A path written ``FILE:OLD=NEW`` has its learner ``OLD`` renamed ``NEW`` (see module).
    ``pipelines`` (after renaming): keep only these, e.g. the pipelines that have every seed.
    """
    seen: dict[tuple, dict] = {}
    for path in paths:
        # ":OLD=NEW" at the very end, learner names only (a drive letter or a folder named
        # "lr=1e-3" is part of the path)
        found = re.fullmatch(r"(.+):([A-Za-z0-9_-]+)=([A-Za-z0-9_-]+)", str(path))
        name, rename = (found[1], {found[2]: found[3]}) if found else (str(path), {})
        for run in _load(Path(name))[1]:
            learner, _, strategy = run["pipeline"].partition("/")
            if learner in rename:
                run = {**run, "pipeline": f"{rename[learner]}/{strategy}"}
            if pipelines is None or run["pipeline"] in pipelines:
                seen.setdefault((run["dataset"], run["seed"], run["pipeline"]), run)
    return list(seen.values())


def _order(datasets: list[str]) -> list[str]:
    """Cheapest first (fewest rows), so a cut run has covered as many sets as it could."""
    from .protocol import read

    return sorted(datasets, key=lambda d: len(read(d)[0]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help=f"2 seeds on {', '.join(QUICK)}")
    ap.add_argument("--group", choices=sorted(GROUPS), default="dev", help="default: dev (all)")
    ap.add_argument("--datasets", nargs="+", default=None, help="default: the --group's sets")
    ap.add_argument("--seeds", type=int, default=None, help="number of seeds (default 5)")
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument(
        "--pipelines", nargs="+", default=None, help="default: every pipeline (with --merge: kept)"
    )
    ap.add_argument("--rounds", type=int, default=ROUNDS)
    ap.add_argument("--jobs", type=int, default=1, help="processes, one thread each (1)")
    ap.add_argument("--out", default=None, help="JSON path (default benchmarks/results/...)")
    ap.add_argument("--resume", action="store_true", help="skip runs already in --out")
    ap.add_argument("--merge", nargs="+", type=Path, help="join these result files into --out")
    ap.add_argument("--report-only", action="store_true", help="only the tables of --out")
    ap.add_argument("--figure", default=None, help="PNG path (default: --out with .png)")
    args = ap.parse_args(argv)

    from .pipelines import default_pipelines
    from .protocol import ALL_DATASETS as ALLOWED

    name = "label_efficiency_quick.json" if args.quick else "label_efficiency.json"
    out = Path(args.out) if args.out else RESULTS / name
    out.parent.mkdir(parents=True, exist_ok=True)
    datasets = args.datasets or (QUICK if args.quick else GROUPS[args.group])
    unknown = [d for d in datasets if d not in ALLOWED]
    if unknown:
        ap.error(
            f"{unknown[0]!r} is neither on the development list nor a synthetic family "
            "(benchmarks/protocol.py, benchmarks/synthetic.py)"
        )
    pipelines = args.pipelines or default_pipelines()
    n_seeds = args.seeds or (2 if args.quick else 5)
    seeds = list(range(args.first_seed, args.first_seed + n_seeds))
    config = {
        "datasets": datasets,
        "seeds": seeds,
        "pipelines": pipelines,
        "rounds": args.rounds,
        "protocol": "benchmarks/protocol.py: app CSV path, 70/30 stratified, pool cap 10000, "
        "B = max(20, 2 x classes), random initial B; synthetic sets: a new draw per seed",
    }
    if args.merge:
        runs = merge(args.merge, args.pipelines)
        found = {r["pipeline"] for r in runs}
        for missing in [p for p in args.pipelines or [] if p not in found]:
            print(f"warning: no run of {missing} in the merged files", file=sys.stderr)
        _save(out, config, runs)
        print(f"merged {len(runs)} runs from {len(args.merge)} files into {out}")
    elif args.report_only:
        runs = _load(out)[1]
    else:
        runs = _load(out)[1] if args.resume and out.exists() else []
        done = {(r["dataset"], r["seed"], r["pipeline"]) for r in runs}
        tasks = [
            (ds, seed, p, args.rounds)
            for seed in seeds  # seed-major: a cut run leaves whole seeds
            for ds in _order(datasets)
            for p in pipelines
            if (ds, seed, p) not in done
        ]
        print(f"{len(tasks)} learning curves to run ({len(done)} already in {out})", flush=True)
        t_start = time.perf_counter()
        if args.jobs > 1:
            import multiprocessing as mp

            pool = mp.get_context("spawn").Pool(args.jobs, initializer=_one_thread)
            results = pool.imap_unordered(run_task, tasks)
        else:
            _one_thread()
            pool, results = None, map(run_task, tasks)
        for run in results:
            runs.append(run)
            _save(out, config, runs)
            acc = sum(run["acc"]) / len(run["acc"])
            print(
                f"[{time.perf_counter() - t_start:7.0f}s] {run['dataset']:14.14s} seed "
                f"{run['seed']} {run['pipeline']:18s} ALC {100 * acc:5.1f} "
                f"({run['seconds']:.0f}s)",
                flush=True,
            )
        if pool is not None:
            pool.close()
            pool.join()
    from .report import write_report

    text = write_report(runs, out.with_suffix(".md"), Path(args.figure or out.with_suffix(".png")))
    print(text)
    print(f"\nwrote {out}, {out.with_suffix('.md')} and the figure")
    return 0


if __name__ == "__main__":
    sys.exit(main())
