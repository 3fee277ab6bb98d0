"""The ``dami`` command line and the ``dami-gui`` launcher.

Uses :mod:`dami_gui.core` only; the app is imported inside :func:`gui_main`, so the command line
works (and fails with a clear sentence) where Qt is missing or there is no display.
Bad input is one line on stderr and exit code 2, never a traceback.

``dami project ...`` works on a project file (``*.dami``, see docs/project-files.md): create one
from a CSV, run rounds, label rows by id and class name, undo, see the status, export; every label
is saved before the command reports it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, like every other bad input
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def _build_parser() -> argparse.ArgumentParser:
    from .core.strategies import available

    parser = _Parser(
        prog="dami",
        description="Label a tabular data set with the fewest labels (deep active learning by "
        "model interpretability).",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--label-column", required=True, metavar="COL", help="the column of labels")
        p.add_argument("--id-column", metavar="COL", help="a column that names each row")
        p.add_argument("--strategy", default="dami", choices=available(), help="default: dami")
        p.add_argument("--batch", type=int, default=20, metavar="B", help="rows per round (20)")
        p.add_argument("--seed", type=int, default=0, help="random seed (0)")

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
    sim.add_argument("--out", type=Path, metavar="curve.json", help="write the curve as JSON")

    gui = sub.add_parser("gui", help="open the app", description="Open the labeling app.")
    gui.add_argument("args", nargs=argparse.REMAINDER, help="--demo, a CSV file, --no-umap")
    _add_project_parsers(sub, available())
    return parser


def _add_project_parsers(sub, strategies: list[str]) -> None:
    """``dami project new|round|label|undo|status|export|relocate`` and ``dami export``."""
    project = sub.add_parser(
        "project",
        help="label a CSV file over days in a project file (.dami) that keeps every label",
        description="Work on a project file: every label is saved before it is reported.",
    )
    psub = project.add_subparsers(dest="action", required=True, parser_class=_Parser)
    new = psub.add_parser("new", help="create a project from a CSV file")
    new.add_argument("pool", type=Path, metavar="POOL.csv")
    new.add_argument("--label-column", required=True, metavar="COL", help="the column of labels")
    new.add_argument("--id-column", metavar="COL", help="a column that names each row")
    new.add_argument(
        "--classes", metavar="A,B,...", help="all class names, in order (default: those in COL)"
    )
    new.add_argument("--strategy", default="dami", choices=strategies, help="default: dami")
    new.add_argument("--batch", type=int, default=20, metavar="B", help="rows per round (20)")
    new.add_argument("--seed", type=int, default=0, help="random seed (0)")
    new.add_argument("-o", "--out", type=Path, required=True, metavar="P.dami")

    rnd = psub.add_parser("round", help="train on the labels and print the rows to label next")
    rnd.add_argument("project", type=Path, metavar="P.dami")
    rnd.add_argument("--strategy", choices=strategies, help="change the strategy from now on")
    rnd.add_argument("--batch", type=int, metavar="B", help="change the batch size from now on")

    lab = psub.add_parser(
        "label", help="label rows: ROW_ID LABEL, ROW_ID --skip, or --from FILE.csv (id,label)"
    )
    lab.add_argument("project", type=Path, metavar="P.dami")
    lab.add_argument("row", nargs="?", metavar="ROW_ID", help="id value, or 1-based row number")
    lab.add_argument("label", nargs="?", metavar="LABEL", help="a class name")
    lab.add_argument("--skip", action="store_true", help='mark the row "not sure"')
    lab.add_argument(
        "--from", dest="source", type=Path, metavar="FILE.csv", help="columns id,label"
    )

    undo = psub.add_parser("undo", help="take back the last label or skip")
    undo.add_argument("project", type=Path, metavar="P.dami")

    status = psub.add_parser("status", help="labels, rounds, and whether the CSV changed")
    status.add_argument("project", type=Path, metavar="P.dami")

    for parent in (psub, sub):
        exp = parent.add_parser("export", help="write the labeled rows (and the model)")
        exp.add_argument("project", type=Path, metavar="P.dami")
        exp.add_argument("-o", "--out", type=Path, required=True, metavar="labeled.csv")
        exp.add_argument("--all", action="store_true", help="every row, labeled or not")
        exp.add_argument("--model", type=Path, metavar="model.pt", help="also write the model")

    rel = psub.add_parser("relocate", help="use a moved CSV file, or accept changes made to it")
    rel.add_argument("project", type=Path, metavar="P.dami")
    rel.add_argument("csv", type=Path, nargs="?", metavar="NEW.csv", help="default: where it was")
    rel.add_argument(
        "--accept-changes", action="store_true", help="go on although rows were added or removed"
    )


def _check_positive(name: str, value: int | None) -> None:
    from .core.errors import ParameterError

    if value is not None and value < 1:
        raise ParameterError(name, "an integer >= 1", value)


def cmd_select(args: argparse.Namespace) -> int:
    import pandas as pd

    from .core.data import load_dataset
    from .core.session import Session

    _check_positive("batch", args.batch)
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
    from .core.simulate import simulate

    for name in ("batch", "rounds", "initial"):
        _check_positive(name, getattr(args, name))
    curve = simulate(
        args.data,
        label_column=args.label_column,
        id_column=args.id_column,
        strategy=args.strategy,
        batch_size=args.batch,
        rounds=args.rounds,
        initial=args.initial,
        test_fraction=args.test_fraction,
        seed=args.seed,
        progress=_print_round,
    )
    print(f"\nStrategy {curve['strategy']}, batch {curve['batch']}, seed {curve['seed']}:")
    print(f"{'labels':>8}  {'test accuracy':>13}")
    for point in curve["points"]:
        print(f"{point['labels']:>8}  {point['test_accuracy']:>13.4f}")
    print(f"Area under the learning curve (mean accuracy): {curve['auc']:.4f}")
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
    from .core.errors import DamiError

    try:
        writer(path)
    except OSError as exc:
        raise DamiError(
            f"Cannot write {path}: {exc.strerror or exc}. Choose another file."
        ) from None


# ---------------------------------------------------------------------------------- projects


def cmd_project(args: argparse.Namespace) -> int:
    action = "export" if args.command == "export" else args.action
    return {
        "new": _project_new,
        "round": _project_round,
        "label": _project_label,
        "undo": _project_undo,
        "status": _project_status,
        "export": _project_export,
        "relocate": _project_relocate,
    }[action](args)


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _project_new(args: argparse.Namespace) -> int:
    from .core.project import create_project_from_csv

    _check_positive("batch", args.batch)
    classes = None
    if args.classes is not None:
        classes = [c.strip() for c in args.classes.split(",") if c.strip()]
    with create_project_from_csv(
        args.out,
        args.pool,
        label_column=args.label_column,
        id_column=args.id_column,
        classes=classes,
        strategy=args.strategy,
        batch_size=args.batch,
        seed=args.seed,
    ) as project:
        session = project.session
        print(session.dataset.report.describe())
        print(
            f"{session.n_rows} rows, {session.dataset.n_features} features, classes "
            f"{', '.join(session.classes)}; {session.n_labeled} labeled in the file."
        )
    _say(f"Created {args.out}. Next: dami project round {args.out}")
    return 0


def _project_round(args: argparse.Namespace) -> int:
    from .core.project import open_project

    _check_positive("batch", args.batch)
    with open_project(args.project) as project:
        session = project.session
        if args.strategy:
            session.strategy = args.strategy
        if args.batch:
            session.batch_size = args.batch
        _say(f"Round {len(session.rounds) + 1}: training on {session.n_labeled} labels ...")
        result = session.run_round()
        dataset = session.dataset
        rows = session.queries
        predicted = result.proba[rows].argmax(1) if rows.size else np.empty(0, np.int64)
        print(f"{'rank':>4}  {'id':<20}  {'predicted':<12}  score")
        for rank, (row, guess) in enumerate(zip(rows, predicted, strict=True), start=1):
            print(
                f"{rank:>4}  {dataset.ids[row]:<20}  {session.classes[guess]:<12}  "
                f"{result.scores[row]:.4g}"
            )
        estimate = result.accuracy_estimate
        _say(
            f"Round {result.index} saved: {result.labeled_count} labels, estimated accuracy "
            f"{'n/a (too few labels)' if estimate is None else f'{estimate:.3f}'}. Label with: "
            f"dami project label {args.project} ROW_ID CLASS"
        )
    return 0


def _project_label(args: argparse.Namespace) -> int:
    from .core.errors import DamiError
    from .core.project import open_project

    if args.source is not None:
        if args.row is not None or args.skip:
            raise DamiError("Give either --from FILE.csv or ROW_ID with LABEL or --skip, not both.")
    elif args.row is None or (args.label is None) == (not args.skip):
        raise DamiError(
            "Give ROW_ID and LABEL (a class name), or ROW_ID --skip, or --from FILE.csv."
        )
    with open_project(args.project) as project:
        session = project.session
        if args.source is not None:
            todo = _labels_from_file(project, args.source)
            with project.transaction():  # all or nothing
                for row, code in todo:
                    session.label(row, code)
            _say(f"Saved {len(todo)} labels from {args.source.name}.")
            return 0
        row = project.row_of_id(args.row)
        if args.skip:
            session.skip(row)
            _say(f"Saved: row {session.dataset.ids[row]} skipped.")
        else:
            session.label(row, _class_code(session.classes, args.label))
            _say(f"Saved: row {session.dataset.ids[row]} is {args.label}.")
        done, total = session.query_status()
        if total:
            _say(f"{done} of {total} current queries answered.")
    return 0


def _class_code(classes: list[str], name: str) -> int:
    from .core.errors import DamiError

    if name in classes:
        return classes.index(name)
    folded = [c.casefold() for c in classes]
    if folded.count(name.casefold()) == 1:
        return folded.index(name.casefold())
    raise DamiError(f"'{name}' is not a class; the classes are {', '.join(classes)}.")


def _labels_from_file(project, path: Path) -> list[tuple[int, int]]:
    """(row, class code) pairs from a CSV with columns id and label; all checked before writing."""
    from .core.data import _text_values, read_csv
    from .core.errors import DamiError

    frame = read_csv(path)
    lower = {str(c).strip().lower(): c for c in frame.columns}
    if "id" not in lower or "label" not in lower:
        listed = ", ".join(f"'{c}'" for c in frame.columns)
        raise DamiError(
            f"{path.name} needs the columns 'id' and 'label' (it has {listed}); rename them."
        )
    ids, labels = _text_values(frame[lower["id"]]), _text_values(frame[lower["label"]])
    todo = []
    for line, (row_id, label) in enumerate(zip(ids, labels, strict=True), start=2):
        if row_id is None or label is None:
            raise DamiError(f"{path.name}, line {line}: the id or the label is empty; fill it in.")
        try:
            todo.append((project.row_of_id(row_id), _class_code(project.session.classes, label)))
        except DamiError as error:
            raise DamiError(f"{path.name}, line {line}: {error}") from None
    return todo


def _project_undo(args: argparse.Namespace) -> int:
    from .core.project import open_project

    with open_project(args.project) as project:
        session = project.session
        event = session.undo()
        if event is None:
            _say("Nothing to undo.")
            return 0
        undone = session.events[event.undoes]
        what = "skip" if undone.kind == "skip" else f"label {session.classes[undone.label]}"
        _say(f"Undone: the {what} of row {session.dataset.ids[event.row]}.")
    return 0


def _project_status(args: argparse.Namespace) -> int:
    from .core.project import open_project

    with open_project(args.project, readonly=True) as project:
        session = project.session
        from_file = int((session.dataset.y >= 0).sum())
        counts = np.bincount(session.labels[session.labels >= 0], minlength=len(session.classes))
        print(f"Project   {project.path}")
        print(f"CSV file  {session.dataset.source}: {project.status.describe()}")
        print(f"Rows      {session.n_rows}, {session.dataset.n_features} features")
        per_class = ", ".join(f"{c} {n}" for c, n in zip(session.classes, counts, strict=True))
        print(f"Labels    {session.n_labeled} ({from_file} from the file): {per_class}")
        print(f"Skipped   {int(session.skipped.sum())}")
        print(f"Settings  strategy {session.strategy}, batch {session.batch_size}")
        last = session.last_round
        if last is None:
            print("Rounds    none yet")
        else:
            done, total = session.query_status()
            estimate = "n/a" if last.accuracy_estimate is None else f"{last.accuracy_estimate:.3f}"
            print(
                f"Rounds    {len(session.rounds)}; last: {last.strategy}, {last.labeled_count} "
                f"labels, estimated accuracy {estimate}; {done} of {total} queries answered"
            )
    return 0


def _project_export(args: argparse.Namespace) -> int:
    from .core.export import export_labels, export_model
    from .core.project import open_project

    with open_project(args.project, readonly=True) as project:
        n = export_labels(project.session, args.out, all_rows=args.all)
        _say(f"Wrote {n} rows to {args.out}.")
        if args.model is not None:
            weights, sidecar = export_model(project.session, args.model)
            _say(f"Wrote the model to {weights} and its description to {sidecar}.")
    return 0


def _project_relocate(args: argparse.Namespace) -> int:
    from .core.project import open_project

    with open_project(args.project, source=args.csv, accept_changes=args.accept_changes) as project:
        _say(f"{project.status.describe()} {project.path.name} now uses {project.dataset.source}.")
    return 0


def gui_main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``dami-gui``: the app, with a clear sentence if Qt cannot start."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        from .app.main import main as app_main
    except ImportError as exc:
        print(
            f"dami-gui: error: the app cannot start because {exc}. Reinstall dami-gui.",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    return app_main(argv)


def main(argv: Sequence[str] | None = None) -> int:
    from .core.errors import DamiError

    argv = list(sys.argv[1:] if argv is None else argv)
    args = _build_parser().parse_args(argv)
    if args.command == "gui":
        return gui_main(args.args)
    started = time.perf_counter()
    try:
        commands = {
            "select": cmd_select,
            "simulate": cmd_simulate,
            "project": cmd_project,
            "export": cmd_project,
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
