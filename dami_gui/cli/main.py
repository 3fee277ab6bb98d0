"""The ``dami`` command line and the ``dami-gui`` launcher.

Uses :mod:`dami_gui.core` only; the app is imported inside :func:`gui_main`, so the command line
works (and fails with a clear sentence) where Qt is missing or there is no display.
Bad input is one line on stderr and exit code 2, never a traceback.

``dami project ...``, ``dami export`` and ``dami explain`` live in :mod:`dami_gui.cli.project`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from dami_gui.cli.project import add_project_parsers, check_positive, cmd_project

EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, like every other bad input
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def _build_parser() -> argparse.ArgumentParser:
    from dami_gui.core.strategies import DEFAULT_STRATEGY, available

    parser = _Parser(
        prog="dami",
        description="Label a tabular data set with the fewest labels (deep active learning by "
        "model interpretability).",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--label-column", required=True, metavar="COL", help="the column of labels")
        p.add_argument("--id-column", metavar="COL", help="a column that names each row")
        p.add_argument(
            "--strategy",
            default=DEFAULT_STRATEGY,
            choices=available(),
            help=f"default: {DEFAULT_STRATEGY}",
        )
        p.add_argument("--batch", type=int, default=20, metavar="B", help="rows per round (20)")
        p.add_argument("--seed", type=int, default=0, help="random seed (0)")
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
        "next, in selection order, with their id, row number, score and region.",
    )
    sel.add_argument("pool", type=Path, metavar="POOL.csv")
    common(sel)
    sel.add_argument("--out", type=Path, required=True, metavar="queries.csv")

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

    gui = sub.add_parser("gui", help="open the app", description="Open the labeling app.")
    gui.add_argument(
        "args", nargs=argparse.REMAINDER, help="--demo, a CSV file or a .dami project, --no-umap"
    )
    add_project_parsers(sub, available(), _Parser)
    return parser


def cmd_select(args: argparse.Namespace) -> int:
    import pandas as pd

    from dami_gui.core.data.dataset import load_dataset
    from dami_gui.core.session import Session

    check_positive("batch", args.batch)
    dataset = load_dataset(args.pool, label_column=args.label_column, id_column=args.id_column)
    n_labeled = int((dataset.y >= 0).sum())
    print(dataset.report.describe(), file=sys.stderr)
    print(
        f"{dataset.n_rows} rows, {dataset.n_features} features, {len(dataset.classes)} classes, "
        f"{n_labeled} labeled.",
        file=sys.stderr,
    )
    session = Session(
        dataset,
        strategy=args.strategy,
        batch_size=args.batch,
        seed=args.seed,
        estimate_accuracy=False,
        device=args.device,
    )
    result = session.run_round()
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
    _write(args.out, lambda path: table.to_csv(path, index=False))
    print(table.to_string(index=False, max_rows=40))
    if len(table) == 0:
        print("Every row already has a label: there is nothing left to select.", file=sys.stderr)
    print(f"Wrote {len(table)} rows to label next to {args.out}.", file=sys.stderr)
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
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
        device=args.device,
        progress=_print_round,
    )
    print(f"\nStrategy {curve['strategy']}, batch {curve['batch']}, seed {curve['seed']}:")
    print(f"{'labels':>8}  {'test accuracy':>13}  {'balanced accuracy':>17}")
    for point in curve["points"]:
        print(
            f"{point['labels']:>8}  {point['test_accuracy']:>13.4f}  "
            f"{point['balanced_accuracy']:>17.4f}"
        )
    print(f"Area under the learning curve (mean accuracy): {curve['auc']:.4f}")
    print(f"Mean balanced accuracy over the curve: {curve['balanced_auc']:.4f}")
    if curve["stopped_early"]:
        print(curve["stopped_early"])
    if args.out:
        _write(args.out, lambda path: Path(path).write_text(json.dumps(curve, indent=2)))
        print(f"Wrote the curve to {args.out}.", file=sys.stderr)
    return 0


def _print_round(point: dict) -> None:
    print(
        f"round {point['round']:>2}: {point['labels']:>5} labels, test accuracy "
        f"{point['test_accuracy']:.4f} ({point['seconds']:.1f} s)",
        file=sys.stderr,
        flush=True,
    )


def _write(path: Path, writer) -> None:
    from dami_gui.core.errors import DamiError

    try:
        writer(path)
    except OSError as exc:
        raise DamiError(
            f"Cannot write {path}: {exc.strerror or exc}. Choose another file."
        ) from None


# ---------------------------------------------------------------------------------- projects


def gui_main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``dami-gui``: the app, with a clear sentence if Qt cannot start."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        from dami_gui.app.main import main as app_main
    except ImportError as exc:
        print(
            f"dami-gui: error: the app cannot start because {exc}. Reinstall dami-gui.",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    return app_main(argv)


def main(argv: Sequence[str] | None = None) -> int:
    from dami_gui.core.errors import DamiError

    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["gui"]:
        # Everything after `gui` belongs to the app; argparse's REMAINDER would refuse a
        # leading option such as --demo.
        return gui_main(argv[1:])
    args = _build_parser().parse_args(argv)
    started = time.perf_counter()
    try:
        commands = {
            "select": cmd_select,
            "simulate": cmd_simulate,
            "project": cmd_project,
            "export": cmd_project,
            "explain": cmd_project,
        }
        code = commands[args.command](args)
    except DamiError as exc:
        print(f"dami: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("dami: cancelled.", file=sys.stderr)
        return 130
    except MemoryError:
        print("dami: error: the data does not fit in memory; use a smaller file.", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"Done in {time.perf_counter() - started:.1f} s.", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
