"""``dami project ...``, ``dami export`` and ``dami explain``: the project-file commands.

They work on a project file (``*.dami``, see docs/project-files.md): create one from a CSV, run
rounds, label rows by id and class name, undo, see the status with coverage and a stopping
hint, explain a row, export; every label is saved before the command reports it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from dami_gui.core.errors import DamiError, ParameterError


def check_positive(name: str, value: int | None) -> None:
    if value is not None and value < 1:
        raise ParameterError(name, "an integer >= 1", value)


def add_project_parsers(sub, strategies: list[str], parser_class: type) -> None:
    """``dami project new|round|label|undo|status|export|relocate``, ``export``, ``explain``."""
    project = sub.add_parser(
        "project",
        help="label a CSV file over days in a project file (.dami) that keeps every label",
        description="Work on a project file: every label is saved before it is reported.",
    )
    psub = project.add_subparsers(dest="action", required=True, parser_class=parser_class)
    new = psub.add_parser("new", help="create a project from a CSV file")
    new.add_argument("pool", type=Path, metavar="POOL.csv")
    new.add_argument("--label-column", required=True, metavar="COL", help="the column of labels")
    new.add_argument("--id-column", metavar="COL", help="a column that names each row")
    new.add_argument(
        "--classes", metavar="A,B,...", help="all class names, in order (default: those in COL)"
    )
    new.add_argument(
        "--strategy", default=strategies[0], choices=strategies, help=f"default: {strategies[0]}"
    )
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
        exp.add_argument(
            "--model", type=Path, metavar="model.safetensors", help="also write the model + JSON"
        )

    rel = psub.add_parser("relocate", help="use a moved CSV file, or accept changes made to it")
    rel.add_argument("project", type=Path, metavar="P.dami")
    rel.add_argument("csv", type=Path, nargs="?", metavar="NEW.csv", help="default: where it was")
    rel.add_argument(
        "--accept-changes", action="store_true", help="go on although rows were added or removed"
    )

    why = sub.add_parser(
        "explain",
        help="why a row was picked: its exact local linear model, region and distances",
        description="Explain one row under the project's last model: each column's exact "
        "contribution to the class's score (they add up to it with the bias), its linear "
        "region, how many rows share it and their labels, and how far it is from every label.",
    )
    why.add_argument("project", type=Path, metavar="P.dami")
    why.add_argument("row", metavar="ROW_ID", help="id value, or 1-based row number")
    why.add_argument("--class", dest="class_name", metavar="NAME", help="default: the prediction")
    why.add_argument("--json", action="store_true", help="print the explanation as JSON")


def cmd_project(args: argparse.Namespace) -> int:
    """Run ``dami project ACTION``, ``dami export`` or ``dami explain``."""
    if args.command == "explain":
        return _explain(args)
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
    from dami_gui.core.project.journal import create_project_from_csv

    check_positive("batch", args.batch)
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
    from dami_gui.core.project.journal import open_project

    check_positive("batch", args.batch)
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
    from dami_gui.core.errors import DamiError
    from dami_gui.core.project.journal import open_project

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
    from dami_gui.core.errors import DamiError

    if name in classes:
        return classes.index(name)
    folded = [c.casefold() for c in classes]
    if folded.count(name.casefold()) == 1:
        return folded.index(name.casefold())
    raise DamiError(f"'{name}' is not a class; the classes are {', '.join(classes)}.")


def _labels_from_file(project, path: Path) -> list[tuple[int, int]]:
    """(row, class code) pairs from a CSV with columns id and label; all checked before writing."""
    from dami_gui.core.data.dataset import _text_values, read_csv
    from dami_gui.core.errors import DamiError

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
    from dami_gui.core.project.journal import open_project

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
    from dami_gui.core.project.journal import open_project

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
            _print_coverage(session)
    return 0


def _print_coverage(session) -> None:
    from dami_gui.core.coverage import coverage_history, stopping_hint
    from dami_gui.core.explain import label_conflicts

    history = coverage_history(session.rounds)
    now = history[-1]
    print(
        f"Coverage  {100 * now.labeled_share:.1f} % of rows are closest to a labeled row; "
        f"{now.n_exact_regions} exact linear regions; {now.new_regions} of the last queries "
        "in a region with no label yet"
    )
    if now.prediction_change is not None:
        print(
            f"Changes   last round: predictions changed for {100 * now.prediction_change:.1f} % "
            f"of rows, {now.changed_region} rows changed their nearest labeled/queried row"
        )
    print(f"Stopping  {stopping_hint(history).message}")
    last = session.last_round
    if np.size(last.region_ids) == session.n_rows:
        conflicts = label_conflicts(last.region_ids, session.labels, session.classes)
        for c in conflicts[:5]:
            ids = ", ".join(str(session.dataset.ids[r]) for r in c.rows[:6])
            mix = ", ".join(f"{k} {v}" for k, v in c.labels.items())
            print(f"Conflict  region {c.region_id}: rows {ids} share it but are labeled {mix}")


def _project_export(args: argparse.Namespace) -> int:
    from dami_gui.core.project.export import export_labels, export_model
    from dami_gui.core.project.journal import open_project

    with open_project(args.project, readonly=True) as project:
        n = export_labels(project.session, args.out, all_rows=args.all)
        _say(f"Wrote {n} rows to {args.out}.")
        if args.model is not None:
            weights, sidecar = export_model(project.session, args.model)
            _say(f"Wrote the model to {weights} and its description to {sidecar}.")
    return 0


def _project_relocate(args: argparse.Namespace) -> int:
    from dami_gui.core.project.journal import open_project

    with open_project(args.project, source=args.csv, accept_changes=args.accept_changes) as project:
        _say(f"{project.status.describe()} {project.path.name} now uses {project.dataset.source}.")
    return 0


def _explain(args: argparse.Namespace) -> int:
    from dami_gui.core.explain import explain_row
    from dami_gui.core.project.journal import open_project

    with open_project(args.project, readonly=True) as project:
        session = project.session
        last = session.last_round
        if last is None:
            raise DamiError(
                f"There is no model yet: run 'dami project round {args.project}' first."
            )
        row = project.row_of_id(args.row)
        k = None if args.class_name is None else _class_code(session.classes, args.class_name)
        region_ids = last.region_ids if np.size(last.region_ids) == session.n_rows else None
        ex = explain_row(
            last.model(),
            session.dataset,
            row,
            session.labels,
            class_index=k,
            region_ids=region_ids,
            queries=last.queries,
        )
    if args.json:
        print(json.dumps(ex.to_dict(), indent=2))
        return 0
    print(f"Row {ex.row_id} (row {ex.row + 1}), labeled: {ex.label or 'no'}")
    probs = ", ".join(
        f"{c} {p:.2f}" for c, p in sorted(ex.probabilities.items(), key=lambda kv: -kv[1])[:4]
    )
    print(
        f"Prediction: {ex.predicted_class} ({probs}); margin {ex.margin:.3f}, "
        f"entropy {ex.entropy:.3f}"
    )
    if ex.selection_rank is not None:
        print(f"Picked {_ordinal(ex.selection_rank)} in round {len(session.rounds)}.")
    print(
        f"\nWhy the model scores '{ex.explained_class}' {ex.logit:+.3f} here: inside this "
        "row's linear region the network is exactly linear, so the score is the sum of"
    )
    print("one contribution per column (weight x standardised value) plus the bias:")
    scale = max([abs(c.value) for c in ex.contributions] + [abs(ex.bias), 1e-9])
    width = max(len(c.column) for c in ex.contributions)
    for c in ex.contributions:
        print(f"  {c.column:<{width}}  {c.value:+9.3f}  {_bar(c.value, scale)}")
    print(f"  {'(bias)':<{width}}  {ex.bias:+9.3f}  {_bar(ex.bias, scale)}")
    print(f"  {'= score':<{width}}  {ex.logit:+9.3f}")
    mix = ", ".join(f"{c} {n}" for c, n in ex.region_labels.items()) or "none labeled"
    print(
        f"\nLinear region {ex.region_id}: {ex.region_size} "
        f"row{'s' if ex.region_size != 1 else ''} of the pool share it, "
        f"{ex.region_labeled} labeled ({mix})."
    )
    if ex.distance_to_labeled is not None:
        print(
            f"Distance to the nearest labeled row in explanation space: "
            f"{ex.distance_to_labeled:.3f} (row {session.dataset.ids[ex.nearest_labeled_row]})."
        )
    return 0


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _bar(value: float, scale: float, width: int = 24) -> str:
    n = round(width * abs(value) / scale)
    return ("+" if value >= 0 else "-") * n
