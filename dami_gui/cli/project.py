"""``dami project new|round|label|undo|status|relocate``: label a CSV over days in a project.

They work on a project file (``*.dami``, see docs/project-files.md): create one from a CSV, run
rounds, label rows by id and class name, undo, see the status with coverage and a stopping
hint; every label is saved before the command reports it. ``dami project export`` is
:mod:`dami_gui.cli.export`, ``dami explain`` :mod:`dami_gui.cli.explain`.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from dami_gui.cli.common import (
    Subcommands,
    add_learner_option,
    check_positive,
    class_code,
    class_list,
    learned_sentence,
    learner_of,
    open_and_tell,
    say,
)
from dami_gui.cli.export import add_export_parser
from dami_gui.core.errors import DamiError

if TYPE_CHECKING:
    from dami_gui.core.project.journal import Project
    from dami_gui.core.project.source import SourceStatus
    from dami_gui.core.records import RoundResult
    from dami_gui.core.session import Session

#: How the commands that only read or write labels (label, skip, undo, status) open a project:
#: without the rounds' networks (no torch) and, while the CSV file is the recorded one, without
#: reading it (no pandas); see ``open_project``.
LABELS_ONLY = {"with_models": False, "with_table": False}


def add_project_parsers(sub: Subcommands, strategies: list[str]) -> None:
    """``dami project new|round|label|undo|status|export|relocate``."""
    project = sub.add_parser(
        "project",
        help="label a CSV file over days in a project file (.dami) that keeps every label",
        description="Work on a project file: every label is saved before it is reported.",
    )
    # type(project): the same one-line-error parser class as every other command's
    psub = project.add_subparsers(dest="action", required=True, parser_class=type(project))
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
    add_learner_option(new)
    new.add_argument("-o", "--out", type=Path, required=True, metavar="P.dami")
    new.set_defaults(run=_project_new)

    rnd = psub.add_parser("round", help="train on the labels and print the rows to label next")
    rnd.add_argument("project", type=Path, metavar="P.dami")
    rnd.add_argument("--strategy", choices=strategies, help="change the strategy from now on")
    rnd.add_argument("--batch", type=int, metavar="B", help="change the batch size from now on")
    add_learner_option(rnd, "; changes the project's learner from now on")
    rnd.set_defaults(run=_project_round)

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
    lab.set_defaults(run=_project_label)

    undo = psub.add_parser("undo", help="take back the last label or skip")
    undo.add_argument("project", type=Path, metavar="P.dami")
    undo.set_defaults(run=_project_undo)

    status = psub.add_parser("status", help="labels, rounds, and whether the CSV changed")
    status.add_argument("project", type=Path, metavar="P.dami")
    status.set_defaults(run=_project_status)

    add_export_parser(psub)

    rel = psub.add_parser("relocate", help="use a moved CSV file, or accept changes made to it")
    rel.add_argument("project", type=Path, metavar="P.dami")
    rel.add_argument("csv", type=Path, nargs="?", metavar="NEW.csv", help="default: where it was")
    rel.add_argument(
        "--accept-changes", action="store_true", help="go on although rows were added or removed"
    )
    rel.set_defaults(run=_project_relocate)


def _project_new(args: argparse.Namespace) -> int:
    from dami_gui.core.project.creating import create_project_from_csv

    check_positive("batch", args.batch)
    classes = class_list(args.classes)
    with create_project_from_csv(
        args.out,
        args.pool,
        label_column=args.label_column,
        id_column=args.id_column,
        classes=classes,
        strategy=args.strategy,
        batch_size=args.batch,
        seed=args.seed,
        learner=learner_of(args.learner),
    ) as project:
        session = project.session
        print(session.dataset.report.describe())
        print(
            f"{session.n_rows} rows, {session.dataset.preprocessing.describe_inputs()}, classes "
            f"{', '.join(session.classes)}; {session.n_labeled} labeled in the file."
        )
    say(f"Created {args.out}. Next: dami project round {args.out}")
    return 0


def _project_round(args: argparse.Namespace) -> int:
    check_positive("batch", args.batch)
    with open_and_tell(args.project) as project:
        session = project.session
        if args.strategy:
            session.strategy = args.strategy
        if args.batch:
            session.batch_size = args.batch
        if args.learner:
            session.learner = learner_of(args.learner) or session.learner
        say(f"Round {len(session.rounds) + 1}: training on {session.n_labeled} labels ...")
        result = session.run_round()
        say(learned_sentence(result.info))
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
        say(
            f"Round {result.index} saved: {result.labeled_count} labels, estimated accuracy "
            f"{'n/a (too few labels)' if estimate is None else f'{estimate:.3f}'}. Label with: "
            f"dami project label {args.project} ROW_ID CLASS"
        )
    return 0


def _project_label(args: argparse.Namespace) -> int:
    if args.source is not None:
        if args.row is not None or args.skip:
            raise DamiError("Give either --from FILE.csv or ROW_ID with LABEL or --skip, not both.")
        return _label_from_file(args.project, args.source)
    row_id: str | None = args.row
    if row_id is None or (args.label is None) == (not args.skip):
        raise DamiError(
            "Give ROW_ID and LABEL (a class name), or ROW_ID --skip, or --from FILE.csv."
        )
    with open_and_tell(args.project, **LABELS_ONLY) as project:
        session = project.session
        row = project.row_of_id(row_id)
        if args.skip:
            session.skip(row)
            say(f"Saved: row {session.dataset.ids[row]} skipped.")
        else:
            session.label(row, class_code(session.classes, args.label))
            say(f"Saved: row {session.dataset.ids[row]} is {args.label}.")
        done, total = session.query_status()
        if total:
            say(f"{done} of {total} current queries answered.")
    return 0


def _label_from_file(project_path: Path, source: Path) -> int:
    with open_and_tell(project_path, **LABELS_ONLY) as project:
        todo = _labels_from_file(project, source)
        with project.transaction():  # all or nothing
            for row, code in todo:
                project.session.label(row, code)
        say(f"Saved {len(todo)} labels from {source.name}.")
    return 0


def _labels_from_file(project: Project, path: Path) -> list[tuple[int, int]]:
    """(row, class code) pairs from a CSV with columns id and label; all checked before writing."""
    from dami_gui.core.data.cells import text_values
    from dami_gui.core.data.reader import read_csv

    frame = read_csv(path)
    lower = {str(c).strip().lower(): c for c in frame.columns}
    if "id" not in lower or "label" not in lower:
        listed = ", ".join(f"'{c}'" for c in frame.columns)
        raise DamiError(
            f"{path.name} needs the columns 'id' and 'label' (it has {listed}); rename them."
        )
    ids, labels = text_values(frame[lower["id"]]), text_values(frame[lower["label"]])
    todo = []
    for line, (row_id, label) in enumerate(zip(ids, labels, strict=True), start=2):
        if row_id is None or label is None:
            raise DamiError(f"{path.name}, line {line}: the id or the label is empty; fill it in.")
        try:
            todo.append((project.row_of_id(row_id), class_code(project.session.classes, label)))
        except DamiError as error:
            raise DamiError(f"{path.name}, line {line}: {error}") from None
    return todo


def _project_undo(args: argparse.Namespace) -> int:
    with open_and_tell(args.project, **LABELS_ONLY) as project:
        session = project.session
        event = session.undo()
        if event is None:
            say("Nothing to undo.")
            return 0
        assert event.undoes is not None  # an undo names the event it takes back
        if event.group is not None:
            n = sum(1 for e in session.events if e.group == event.group)
            say(f"Undone: the labels of {n} rows given together.")
            return 0
        undone = session.events[event.undoes]
        if undone.kind == "skip" or undone.label is None:
            what = "skip"
        else:
            what = f"label {session.classes[undone.label]}"
        say(f"Undone: the {what} of row {session.dataset.ids[event.row]}.")
    return 0


def _project_status(args: argparse.Namespace) -> int:
    with open_and_tell(args.project, readonly=True, **LABELS_ONLY) as project:
        session = project.session
        from_file = int((session.dataset.y >= 0).sum())
        counts = np.bincount(session.labels[session.labels >= 0], minlength=len(session.classes))
        print(f"Project   {project.path}")
        print(f"CSV file  {session.dataset.source}: {_source_status(project)}")
        print(f"Rows      {session.n_rows}, {session.dataset.preprocessing.describe_inputs()}")
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
            _print_coverage(session, last)
    return 0


def _source_status(project: Project) -> str:
    """Whether the project's CSV file moved or changed, in words."""
    status: SourceStatus | None = project.status
    assert status is not None  # known once the project is open
    return status.describe()


def _print_coverage(session: Session, last: RoundResult) -> None:
    from dami_gui.core.coverage import coverage_history, stopping_hint
    from dami_gui.core.explain import label_conflicts

    if last.cold_start:
        print(
            f"Coverage  round {last.index} had no model yet (fewer than two classes labeled): its "
            "queries are typical rows of the pool's groups"
        )
        return
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
    if np.size(last.region_ids) == session.n_rows:
        conflicts = label_conflicts(last.region_ids, session.labels, session.classes)
        for c in conflicts[:5]:
            ids = ", ".join(str(session.dataset.ids[r]) for r in c.rows[:6])
            mix = ", ".join(f"{k} {v}" for k, v in c.labels.items())
            print(f"Conflict  region {c.region_id}: rows {ids} share it but are labeled {mix}")


def _project_relocate(args: argparse.Namespace) -> int:
    options = {"source": args.csv, "accept_changes": args.accept_changes}
    with open_and_tell(args.project, **options) as project:
        say(f"{_source_status(project)} {project.path.name} now uses {project.dataset.source}.")
    return 0
