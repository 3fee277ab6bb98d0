"""Speed and memory of the selection step, side by side with scikit-activeml, and a full round.

    python -m benchmarks.speed [--quick] [--sizes 10000 100000 1000000] [--timeout S]

Part 1, selection: synthetic pools (50 features, 10 classes, 200 labeled rows, batch 100) of
10k, 100k and 1M rows; the MLP (defaults) trained on the 200 labeled rows. Every measurement runs
in its own child process, so ``ru_maxrss`` (the child's peak resident memory) is that
measurement's alone; "extra" is the peak minus the peak before the timed call (pool, model and
precomputed inputs). Methods: our ``dami`` (interpretation + K-Center; interpretation time shown
separately), ``coreset``, ``badge`` (and the registered DAMI variant), scikit-activeml's CoreSet
(on the last hidden layer, as ours) and Badge (on our network through
:class:`benchmarks.peers.FrozenMLP`), and both K-Centers on the *same* representation vec(A(x))
(N x 500 float32). For our K-Center the achieved read bandwidth is
``picks x N x D x 4 bytes / time of the picks`` against the floor: the same bytes at the
machine's measured single-thread streaming-read bandwidth (a sum over the same matrix).

Part 2, a full round on the segment demo (resources/segment.csv) and on a 100k synthetic pool:
train, interpret, select, PCA layout, each timed.

Part 0, first: how fast the command line starts (:mod:`benchmarks.startup`), each command
against a bare ``python -c pass`` side by side; ``--startup-only`` runs just that.

All with one thread (torch, OpenMP, MKL), as the machine is shared; ``--threads 2`` gives the
full rounds two (the speed targets of issue 26 are for a 2-core laptop). ``--device`` (default
``auto``: a CUDA or Apple GPU when torch has one, else the CPU) is where our interpretation and
K-Center run, as in the app; the peers always run on the CPU, and the tables name the device.
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
D_FEATURES, N_CLASSES, N_LABELED, BATCH = 50, 10, 200, 100
OURS = ["dami", "coreset", "badge", "dami-plus"]
PEER = ["sk-coreset", "sk-badge"]
SAME_REP = ["kcenter-vecA", "sk-coreset-vecA"]


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def synthetic_pool(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian classes in 50-D, generated in chunks (float32) so no float64 copy of the pool."""
    rng = np.random.default_rng(seed)
    means = rng.normal(scale=1.5, size=(N_CLASSES, D_FEATURES)).astype(np.float32)
    y = rng.integers(0, N_CLASSES, n)
    X = np.empty((n, D_FEATURES), dtype=np.float32)
    for s in range(0, n, 100_000):
        e = min(n, s + 100_000)
        X[s:e] = rng.standard_normal((e - s, D_FEATURES), dtype=np.float32) + means[y[s:e]]
    return X, y


def _setup(n: int):
    import torch

    from dami_gui.core.model import train_mlp

    torch.set_num_threads(1)
    X, y = synthetic_pool(n)
    labeled = np.zeros(n, dtype=bool)
    labeled[np.random.default_rng(1).choice(n, N_LABELED, replace=False)] = True
    model, _ = train_mlp(X[labeled], y[labeled], N_CLASSES, seed=0)
    return X, y, labeled, model


def child(method: str, n: int) -> dict:
    """One measurement (run in a fresh process)."""
    import torch

    from dami_gui.core.device import resolve_device
    from dami_gui.core.geometry.kcenter import k_center_greedy
    from dami_gui.core.interpret import interpret
    from dami_gui.core.model import last_hidden
    from dami_gui.core.strategies import ModelOutputs, QueryContext, get_strategy

    device = resolve_device("auto")  # DAMI_DEVICE, set by main from --device
    X, y, labeled, model = _setup(n)
    out: dict = {"method": method, "rows": n}
    rows = np.flatnonzero(labeled)
    if method in OURS:
        outputs = ModelOutputs(model, X, device)
        ctx = QueryContext(X, labeled, outputs, device=device)
        base = _peak_mb()
        t0, c0 = time.perf_counter(), time.process_time()
        if method.startswith("dami"):
            # What the strategy reads: DAMI+ A block by block (kept only for small pools; older
            # code has no local_models and keeps A whatever its size).
            models = getattr(outputs, "local_models", outputs.interpretation)
            models() if method == "dami-plus" else outputs.interpretation()
            out["interpret_s"] = time.perf_counter() - t0
        get_strategy(method).query(ctx, BATCH, seed=0)
        out["seconds"] = time.perf_counter() - t0
        # CPU seconds: on a loaded machine they move far less than the wall clock
        out["cpu_s"] = time.process_time() - c0
    elif method in PEER:
        from .peers import peer_query

        H = last_hidden(model, X) if method == "sk-coreset" else None
        base = _peak_mb()
        t0 = time.perf_counter()
        if method == "sk-coreset":
            peer_query(method, model, X, rows, y[rows], BATCH, 0, hidden=H)
        else:
            peer_query(method, model, X, rows, y[rows], BATCH, 0)
        out["seconds"] = time.perf_counter() - t0
    elif method in SAME_REP:
        F = interpret(model, X, with_A=True, device=device).flat()  # N x (C d) float32
        out["dims"] = int(F.shape[1])
        base = _peak_mb()
        if method == "kcenter-vecA":
            t0 = time.perf_counter()
            k_center_greedy(F, rows, 0, device=device)  # the initial distances only
            t_init = time.perf_counter() - t0
            t0 = time.perf_counter()
            k_center_greedy(F, rows, BATCH, device=device)
            out["seconds"] = time.perf_counter() - t0
            out["init_s"] = t_init
            picks_s = max(out["seconds"] - t_init, 1e-9)
            nbytes = F.shape[0] * F.shape[1] * 4
            out["picks_s"] = picks_s
            out["gb_per_s"] = BATCH * nbytes / picks_s / 1e9
            Ft = torch.from_numpy(F).to(device or "cpu")
            best = float("inf")
            for _ in range(3):  # streaming-read floor: the fastest one pass over the same matrix
                for reduce_dim in (0, 1):
                    t0 = time.perf_counter()
                    float(Ft.sum(reduce_dim)[0])  # float(): waits for an accelerator
                    best = min(best, time.perf_counter() - t0)
            out["stream_gb_per_s"] = nbytes / best / 1e9
            out["floor_s"] = BATCH * best
            out["over_floor"] = picks_s / out["floor_s"]
        else:
            import warnings

            from skactiveml.pool import CoreSet

            yy = np.full(n, np.nan)
            yy[rows] = y[rows]
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                CoreSet(random_state=0).query(F, yy, batch_size=BATCH)
            out["seconds"] = time.perf_counter() - t0
    else:
        raise ValueError(method)
    peak = _peak_mb()
    out["peak_mb"] = peak
    out["extra_mb"] = max(0.0, peak - base)
    return out


def round_child(which: str) -> dict:
    """A full round's breakdown: learn (the network alone, or the ensemble and its student, by
    stage), the 5-fold estimate, interpret, select (DAMI, DAMI+, the blend), PCA layout."""
    import torch

    from dami_gui.core.device import resolve_device
    from dami_gui.core.embedding import pca_layout
    from dami_gui.core.learner import DEFAULT_LEARNER, NETWORK_LEARNER
    from dami_gui.core.learner.estimate import cross_validated_accuracy
    from dami_gui.core.learner.fit import fit_learner
    from dami_gui.core.model import LIGHT_CONFIG, MLPConfig, train_mlp
    from dami_gui.core.strategies import ModelOutputs, QueryContext, get_strategy

    # One thread, as every measurement here; ``--threads 2`` (DAMI_BENCH_THREADS) for the round
    # targets, which are set for a 2-core laptop.
    threads = int(os.environ.get("DAMI_BENCH_THREADS", "1"))
    torch.set_num_threads(threads)
    device = resolve_device("auto")
    if which == "segment":
        from dami_gui.core.data.demo import load_demo

        demo = load_demo()
        X, y, C = demo.dataset.X, demo.truth, demo.dataset.n_classes
        n_lab, batch = 40, 20
    else:
        X, y = synthetic_pool({"100k": 100_000, "1m": 1_000_000}[which])
        C, n_lab, batch = N_CLASSES, N_LABELED, BATCH
    n = X.shape[0]
    labeled = np.zeros(n, dtype=bool)
    labeled[np.random.default_rng(1).choice(n, n_lab, replace=False)] = True
    labels = np.where(labeled, y, -1)
    t = {}
    train_mlp(X[:50], y[:50], C, MLPConfig(hidden=(4,), min_epochs=1, min_steps=2))  # warm-up
    # The first ensemble round of a process also imports scikit-learn's members: paid once per
    # session, not per round, so it is measured apart, and a small round warms the rest up.
    t0 = time.perf_counter()
    import sklearn.ensemble
    import sklearn.linear_model
    import sklearn.svm  # noqa: F401

    t["import scikit-learn's members (a session's first ensemble round only)"] = (
        time.perf_counter() - t0
    )
    warm = np.full(600, -1)
    warm[:40] = y[:40]
    fit_learner(X[:600], warm, C, DEFAULT_LEARNER, MLPConfig(hidden=(4,)), seed=0)
    t0 = time.perf_counter()
    train_mlp(X[labeled], y[labeled], C, LIGHT_CONFIG, seed=0)
    t["train (2 x 64, before 0.2)"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    train_mlp(X[labeled], y[labeled], C, seed=0)
    t["train (network only)"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    fitted = fit_learner(X, labels, C, DEFAULT_LEARNER, MLPConfig(), seed=0)
    t["learn (ensemble + student)"] = time.perf_counter() - t0
    for stage, seconds in fitted.timings.items():
        t[f"  of which {stage}"] = seconds
    model = fitted.network
    t0 = time.perf_counter()
    cross_validated_accuracy(X[labeled], y[labeled], C, NETWORK_LEARNER, MLPConfig(), seed=0)
    t["estimate (5-fold, network only)"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    cross_validated_accuracy(X[labeled], y[labeled], C, DEFAULT_LEARNER, MLPConfig(), seed=0)
    t["estimate (5-fold, ensemble)"] = time.perf_counter() - t0
    out = {"data": which, "rows": n, "features": int(X.shape[1]), "labeled": n_lab, "batch": batch}
    out["threads"] = threads
    out["fidelity"] = fitted.fidelity
    for name in ("dami", "dami-plus", "dami-blend"):
        outputs = ModelOutputs(model, X, device)
        ctx = QueryContext(X, labeled, outputs, device=device)
        t0 = time.perf_counter()
        outputs.interpretation() if name == "dami" else outputs.local_models()
        if name != "dami":
            outputs.proba  # noqa: B018  (part of the variant's inputs)
        t[f"interpret ({name})"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        get_strategy(name).query(ctx, batch, seed=0)
        t[f"select ({name})"] = time.perf_counter() - t0
    # The ensemble margin ranks by the teacher; the map still draws the student's groups, so
    # its round also forms the local models (as DAMI+ does) for the map's partition.
    outputs = ModelOutputs(model, X, device, teacher=fitted.teacher)
    ctx = QueryContext(X, labeled, outputs, device=device)
    strategy = get_strategy("teacher-margin")
    t0 = time.perf_counter()
    result = strategy.query(ctx, batch, seed=0)
    t["select (teacher-margin: the teacher's margin)"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    outputs.local_models()
    strategy.map_partition(ctx, result)
    t["the map's groups (teacher-margin: local models, nearest centers)"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    pca_layout(X)
    t["layout (PCA)"] = time.perf_counter() - t0
    out["seconds"] = t
    learn = t["learn (ensemble + student)"]
    out["dami_round_s"] = learn + t["interpret (dami)"] + t["select (dami)"]
    out["dami_plus_round_s"] = learn + t["interpret (dami-plus)"] + t["select (dami-plus)"]
    out["dami_blend_round_s"] = learn + t["interpret (dami-blend)"] + t["select (dami-blend)"]
    out["teacher_margin_round_s"] = (
        learn
        + t["select (teacher-margin: the teacher's margin)"]
        + t["the map's groups (teacher-margin: local models, nearest centers)"]
    )
    out["network_only_round_s"] = (
        t["train (network only)"] + t["interpret (dami-plus)"] + t["select (dami-plus)"]
    )
    out["peak_mb"] = _peak_mb()
    return out


def _spawn(args: list[str], timeout: float, root: Path | None = None) -> dict:
    """One measurement in a child process; ``root``: another checkout whose code it runs."""
    root = root or Path(__file__).resolve().parent.parent
    threads = os.environ.get("DAMI_BENCH_THREADS", "1") if "--round" in args else "1"
    env = dict(
        os.environ, OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads, OPENBLAS_NUM_THREADS=threads
    )
    env["PYTHONPATH"] = str(root)
    try:
        p = subprocess.run(
            [sys.executable, "-m", "benchmarks.speed", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=root,
        )
    except subprocess.TimeoutExpired:
        return {"skipped": f"took more than {timeout:.0f} s"}
    if p.returncode != 0:
        return {"skipped": f"failed (rc {p.returncode}): {p.stderr.strip().splitlines()[-1:]}"}
    return json.loads(p.stdout.strip().splitlines()[-1])


def _fmt(v, spec=".2f"):
    return "—" if v is None else format(v, spec)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="10k and 100k rows only")
    ap.add_argument("--sizes", type=int, nargs="+", default=None)
    ap.add_argument("--timeout", type=float, default=300.0, help="per measurement, seconds")
    ap.add_argument(
        "--device", default="auto", help="auto (GPU when torch has one), cpu, cuda or mps"
    )
    ap.add_argument("--methods", nargs="+", default=None, help="selection methods to measure")
    ap.add_argument(
        "--compare-to",
        type=Path,
        default=None,
        help="a checkout of earlier code (e.g. git archive into a folder): every selection "
        "measurement is also taken with it, right after ours, as 'METHOD@before'",
    )
    ap.add_argument("--skip-rounds", action="store_true", help="no full-round measurements")
    ap.add_argument(
        "--startup-only", action="store_true", help="only the command line's start times"
    )
    ap.add_argument("--startup-repeats", type=int, default=15, help="runs of each command (15)")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--round", dest="round_", help=argparse.SUPPRESS)
    ap.add_argument(
        "--threads", type=int, default=None, help="threads of the full-round measurements (1)"
    )
    args = ap.parse_args(argv)
    if args.threads is not None:
        os.environ["DAMI_BENCH_THREADS"] = str(args.threads)
    if not (args.child or args.round_):
        from dami_gui.core.device import device_name, resolve_device

        os.environ["DAMI_DEVICE"] = args.device  # read by every child through resolve_device
        device_label = device_name(resolve_device(args.device))
        print(f"Our interpretation and K-Center run on: {device_label}", flush=True)
    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]))))
        return 0
    if args.round_:
        print(json.dumps(round_child(args.round_)))
        return 0
    from benchmarks import startup

    started = startup.measure(args.startup_repeats)
    print(startup.format_table(started), flush=True)
    if args.startup_only:
        return 0
    sizes = args.sizes or ([10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000])
    results: dict = {"device": device_label, "selection": {}, "rounds": {}, "startup": started}
    methods = args.methods or OURS + PEER + SAME_REP
    runs = [(m, None) for m in methods]
    if args.compare_to is not None:
        runs = [r for m in methods for r in ((m, None), (f"{m}@before", args.compare_to))]
    for n in sizes:
        for m, root in runs:
            # scikit-activeml's Badge builds the N x (C x H) float64 gradient embedding at once:
            # 1M x 640 x 8 B = 5.1 GB before its distance chunks; not run at 1M on a shared box.
            if m.startswith("sk-badge") and n * N_CLASSES * 64 * 8 > 4e9:
                r = {"skipped": "needs > 5 GB (N x 640 float64 gradient embedding)"}
            else:
                r = _spawn(["--child", m.split("@")[0], str(n)], args.timeout, root)
            results["selection"][f"{m}|{n}"] = r
            print(f"{n:>8} {m:16s} {json.dumps(r)}", flush=True)
    methods = [m for m, _ in runs]
    rounds = ("segment", "100k") if args.quick else ("segment", "100k", "1m")
    for which in () if args.skip_rounds else rounds:
        r = _spawn(["--round", which], args.timeout)
        results["rounds"][which] = r
        print(which, json.dumps(r), flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    partial = args.methods or args.compare_to or args.skip_rounds
    name = "speed_quick" if args.quick else "speed_partial" if partial else "speed"
    out = RESULTS / f"{name}.json"
    out.write_text(json.dumps(results, indent=1))
    print()
    print(format_tables(results, sizes, methods))
    print(f"\nwrote {out}")
    return 0


def format_tables(results: dict, sizes: list[int], methods: list[str]) -> str:
    sel = results["selection"]
    L = [
        "Selection step (batch 100, 200 labeled, 50 features, 10 classes; 1 thread; ours on "
        f"{results.get('device', 'CPU')}, peers on the CPU)",
        "",
        "| method | " + " | ".join(f"{n:,} rows: s / peak MB (extra)" for n in sizes) + " |",
        "|" + "---|" * (len(sizes) + 1),
    ]
    for m in methods:
        cells = []
        for n in sizes:
            r = sel.get(f"{m}|{n}", {})
            if "skipped" in r:
                cells.append(f"skipped: {r['skipped']}")
            elif r:
                extra = f"; interpret {r['interpret_s']:.2f} s" if "interpret_s" in r else ""
                extra += f"; CPU {r['cpu_s']:.2f} s" if "cpu_s" in r else ""
                cells.append(
                    f"{r['seconds']:.2f} s / {r['peak_mb']:.0f} ({r['extra_mb']:.0f}){extra}"
                )
            else:
                cells.append("")
        L.append(f"| {m} | " + " | ".join(cells) + " |")
    L += [
        "",
        "Ratios (peer time / our time; > 1: ours faster)",
        "",
        "| comparison | " + " | ".join(f"{n:,}" for n in sizes) + " |",
        "|" + "---|" * (len(sizes) + 1),
    ]
    pairs = [(m, m.split("@")[0]) for m in methods if m.endswith("@before")]
    for a, b in [
        *pairs,
        ("sk-coreset", "coreset"),
        ("sk-badge", "badge"),
        ("sk-coreset-vecA", "kcenter-vecA"),
        ("sk-coreset", "dami"),
        ("sk-badge", "dami"),
        ("sk-badge", "dami-plus"),
    ]:
        cells = []
        for n in sizes:
            ra, rb = sel.get(f"{a}|{n}", {}), sel.get(f"{b}|{n}", {})
            if "seconds" in ra and "seconds" in rb:
                cpu = ""
                if "cpu_s" in ra and "cpu_s" in rb:
                    cpu = f" (CPU {ra['cpu_s'] / rb['cpu_s']:.2f}×)"
                cells.append(f"{ra['seconds'] / rb['seconds']:.1f}×{cpu}")
            else:
                cells.append("—")
        if any(c != "—" for c in cells):  # a partial run (--methods) leaves some pairs out
            L.append(f"| {a} / {b} | " + " | ".join(cells) + " |")
    if not any(f"kcenter-vecA|{n}" in sel for n in sizes) and not results["rounds"]:
        return "\n".join(L)
    L += [
        "",
        "Our K-Center on vec(A) (N x 500 float32): achieved read bandwidth vs the floor",
        "",
        "| rows | picks s | GB/s achieved | streaming GB/s (floor) | time / floor |",
        "|---|---|---|---|---|",
    ]
    for n in sizes:
        r = sel.get(f"kcenter-vecA|{n}", {})
        if "gb_per_s" in r:
            L.append(
                f"| {n:,} | {r['picks_s']:.2f} | {r['gb_per_s']:.1f} | "
                f"{r['stream_gb_per_s']:.1f} | {r['over_floor']:.2f}× |"
            )
    L += ["", "Full round (seconds)", ""]
    rounds = results["rounds"]
    keys = []
    for r in rounds.values():
        for k in r.get("seconds", {}):
            if k not in keys:
                keys.append(k)
    L += [
        "| data | " + " | ".join(keys) + " | DAMI round (learn+interpret+select) | "
        "dami-plus round (the default) | dami-blend round | teacher-margin round | "
        "dami-plus round, network only | fidelity | peak MB |",
        "|" + "---|" * (len(keys) + 8),
    ]
    for name, r in rounds.items():
        if "seconds" not in r:
            L.append(f"| {name} | skipped: {r.get('skipped')} |")
            continue
        L.append(
            f"| {name} ({r['rows']:,} × {r['features']}) | "
            + " | ".join(_fmt(r["seconds"].get(k)) for k in keys)
            + f" | {r['dami_round_s']:.2f} | {r['dami_plus_round_s']:.2f} | "
            f"{r['dami_blend_round_s']:.2f} | {_fmt(r.get('teacher_margin_round_s'))} | "
            f"{r['network_only_round_s']:.2f} | "
            f"{_fmt(r.get('fidelity'), '.3f')} | {r['peak_mb']:.0f} |"
        )
    return "\n".join(L)


if __name__ == "__main__":
    raise SystemExit(main())
