"""``dami select`` (the rows of a CSV to label next) and ``dami simulate`` (a campaign in which
the label column plays the expert)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from dami_gui.cli.common import (
    Subcommands,
    add_learner_option,
    check_positive,
    class_list,
    learned_sentence,
    learner_of,
)
from dami_gui.cli.dask_select import add_dask_options, run_dask_select


def add_select_parsers(sub: Subcommands, strategies: list[str], default: str) -> None:
    """``dami select`` and ``dami simulate``; ``default`` is the default strategy."""

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--label-column", required=True, metavar="COL", help="the column of labels")
        p.add_argument("--id-column", metavar="COL", help="a column that names each row")
        p.add_argument(
            "--strategy",
            default=default,
            choices=strategies,
            help=f"default: {default}",
        )
        p.add_argument("--batch", type=int, default=20, metavar="B", help="rows per round (20)")
        p.add_argument("--seed", type=int, default=0, help="random seed (0)")
        add_learner_option(p)
        p.add_argument(
            "--device",
            default="auto",
            metavar="DEV",
            help="where interpretation and selection run: auto (a CUDA or Apple GPU when torch "
            "has one, else the CPU), cpu, cuda, cuda:N or mps (default auto)",
        )

    sel = sub.add_parser(
        "select",
        help="train on the labeled rows of a CSV and write the rows to label next",
        description="Train on the rows whose label cell is filled, then write the rows to label "
        "next, in selection order, with their id, row number, score and region. With no label "
        "yet, write a first batch of rows that cover the pool (no model needed).",
    )
    sel.add_argument(
        "pool",
        metavar="POOL",
        help="a CSV file (with --engine dask also a glob of CSVs, a Parquet file or folder, "
        "or an s3:// path)",
    )
    common(sel)
    add_dask_options(sel)
    sel.add_argument(
        "--classes", metavar="A,B,...", help="all class names, in order (default: those in COL)"
    )
    sel.add_argument("--out", type=Path, required=True, metavar="queries.csv")
    sel.set_defaults(run=cmd_select)

    sim = sub.add_parser(
        "simulate",
        help="run an active learning campaign in which the label column plays the expert",
        description="Hold out a test set, start from a few random labels, then for each round "
        "train, measure test accuracy, and 'label' the chosen rows from the label column.",
    )
    sim.add_argument("data", type=Path, metavar="DATA.csv")
    common(sim)
    sim.add_argument("--rounds", type=int, default=10, help="rounds after the initial one (10)")
    sim.add_argument("--initial", type=int, help="initial random labels (default: the batch size)")
    sim.add_argument("--test-fraction", type=float, default=0.3, help="held-out share (0.3)")
    sim.add_argument(
        "--test",
        type=Path,
        metavar="TEST.csv",
        help="measure on the labeled rows of this file instead of holding out a share of DATA "
        "(preprocessing fitted on DATA, replayed on it; same columns needed)",
    )
    sim.add_argument("--out", type=Path, metavar="curve.json", help="write the curve as JSON")
    sim.set_defaults(run=cmd_simulate)


def cmd_select(args: argparse.Namespace) -> int:
    import pandas as pd

    from dami_gui.core.cold_start import can_train
    from dami_gui.core.data.dataset import load_dataset
    from dami_gui.core.project.creating import check_labels_usable
    from dami_gui.core.session import Session

    if args.engine == "dask":
        return run_dask_select(args)
    check_positive("batch", args.batch)
    classes = class_list(args.classes)
    dataset = load_dataset(
        args.pool, label_column=args.label_column, id_column=args.id_column, classes=classes
    )
    n_labeled = int((dataset.y >= 0).sum())
    print(dataset.report.describe(), file=sys.stderr)
    print(
        f"{dataset.n_rows} rows, {dataset.preprocessing.describe_inputs()}, "
        f"{len(dataset.classes)} classes, "
        f"{n_labeled} labeled.",
        file=sys.stderr,
    )
    if n_labeled or dataset.classes:
        check_labels_usable(dataset)  # a single class, or far too many: one sentence, exit 2
    if n_labeled == dataset.n_rows:  # said before any training, not after it
        return _write_picks(args, pd.DataFrame({name: [] for name in PICK_COLUMNS}))
    if not can_train(dataset.y):  # fewer than two classes labeled: the same rule as a round
        return _select_cold_start(args, dataset)
    session = Session(
        dataset,
        strategy=args.strategy,
        batch_size=args.batch,
        seed=args.seed,
        learner=learner_of(args.learner),
        estimate_accuracy=False,
        device=args.device,
    )
    result = session.run_round()
    print(learned_sentence(result.info), file=sys.stderr)
    rows = result.queries
    group = result.partition[rows] if result.partition is not None else np.full(len(rows), -1)
    table = pd.DataFrame(
        {
            "rank": np.arange(1, len(rows) + 1),
            "id": dataset.ids[rows],
            "row": rows + 1,
            "score": result.scores[rows],
            "region": [f"{int(r) & 0xFFFF_FFFF_FFFF_FFFF:016x}" for r in result.region_ids[rows]],
            "group": group,
            "predicted": [dataset.classes[i] for i in result.proba[rows].argmax(1)]
            if dataset.classes
            else "",
        }
    )
    return _write_picks(args, table)


#: The columns of the rows to label next, whatever picked them.
PICK_COLUMNS = ("rank", "id", "row", "score", "region", "group", "predicted")


def _write_picks(args: argparse.Namespace, table, explain: str | None = None) -> int:
    """Write the rows to label next (atomic, formula-like text escaped), show them, and say
    what was done; no table at all when there is nothing left to select."""
    from dami_gui.core.project.export import write_table

    write_table(table, args.out, "the rows to label")
    if len(table) == 0:
        print("Every row already has a label: there is nothing left to select.", file=sys.stderr)
    else:
        print(table.to_string(index=False, max_rows=40))
        if explain is not None:
            print(explain, file=sys.stderr)
    print(f"Wrote {len(table)} rows to label next to {args.out}.", file=sys.stderr)
    return 0


def _select_cold_start(args: argparse.Namespace, dataset) -> int:
    """No model can be trained yet (no label, or one class): rows that cover the pool."""
    import pandas as pd

    from dami_gui.core.cold_start import cold_start_batch
    from dami_gui.core.device import resolve_device

    labeled = dataset.y >= 0
    batch = cold_start_batch(
        dataset.X, args.batch, args.seed, labeled=labeled, device=resolve_device(args.device)
    )
    rows = batch.rows
    table = pd.DataFrame(
        {
            "rank": np.arange(1, len(rows) + 1),
            "id": dataset.ids[rows],
            "row": rows + 1,
            "score": batch.group_size / max(dataset.n_rows, 1),  # share of the pool it stands for
            "region": "",
            "group": np.arange(len(rows)),
            "predicted": "",
        }
    )
    if labeled.any():
        known = dataset.classes[int(dataset.y[labeled][0])]
        why = f"Only the class '{known}' is labeled so far, so no model can tell classes apart"
        what = "the parts of the pool that the labeled rows leave uncovered"
    else:
        why, what = "No row is labeled yet, so no model can be trained", "the pool"
    return _write_picks(
        args,
        table,
        f"{why}: these {len(rows)} rows cover {what} (the most typical row of each group of "
        "similar rows, by k-means++ on the features; score: the share of the pool its group "
        "holds). Label them, then run select again.",
    )


def cmd_simulate(args: argparse.Namespace) -> int:
    from dami_gui.core.project.export import write_atomic
    from dami_gui.core.simulate import simulate

    for name in ("batch", "rounds", "initial"):
        check_positive(name, getattr(args, name))
    curve = simulate(
        args.data,
        label_column=args.label_column,
        id_column=args.id_column,
        strategy=args.strategy,
        batch_size=args.batch,
        rounds=args.rounds,
        initial=args.initial,
        test_fraction=args.test_fraction,
        test_path=args.test,
        seed=args.seed,
        learner=learner_of(args.learner),
        device=args.device,
        progress=_print_round,
    )
    print(
        f"\nStrategy {curve['strategy']}, learner {curve['learner']['kind']}, "
        f"batch {curve['batch']}, seed {curve['seed']}:"
    )
    print(f"{'labels':>8}  {'test accuracy':>13}  {'balanced accuracy':>17}")
    for point in curve["points"]:
        print(
            f"{point['labels']:>8}  {point['test_accuracy']:>13.4f}  "
            f"{point['balanced_accuracy']:>17.4f}"
        )
    print(f"Area under the learning curve (mean accuracy): {curve['auc']:.4f}")
    print(f"Mean balanced accuracy over the curve: {curve['balanced_auc']:.4f}")
    if curve["mean_fidelity"] is not None:
        print(
            "The network followed the ensemble on "
            f"{100 * curve['mean_fidelity']:.1f} % of the test rows on average."
        )
    if curve["stopped_early"]:
        print(curve["stopped_early"])
    if args.out:
        text = json.dumps(curve, indent=2).encode("utf-8")
        write_atomic(args.out, lambda f: f.write(text), "the curve")
        print(f"Wrote the curve to {args.out}.", file=sys.stderr)
    return 0


def _print_round(point: dict[str, Any]) -> None:
    follows = ""
    if "fidelity" in point:
        follows = (
            f", ensemble {point['teacher_accuracy']:.4f}, the network follows it on "
            f"{100 * point['fidelity']:.1f} % of the test rows"
        )
    print(
        f"round {point['round']:>2}: {point['labels']:>5} labels, test accuracy "
        f"{point['test_accuracy']:.4f}{follows} ({point['seconds']:.1f} s)",
        file=sys.stderr,
        flush=True,
    )
