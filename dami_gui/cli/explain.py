"""``dami explain``: why a row was picked, under a project's last model.

Prints the row's prediction, each column's exact contribution to the class's score (they add
up to it with the bias, since the network is linear inside the row's region), the region, how
many rows share it and their labels, and the distance to the nearest label; or all of it as JSON.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from dami_gui.cli.common import Subcommands, class_code, open_and_tell
from dami_gui.core.errors import DamiError


def add_explain_parser(sub: Subcommands) -> None:
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
    why.set_defaults(run=cmd_explain)


def cmd_explain(args: argparse.Namespace) -> int:
    from dami_gui.core.explain import explain_row
    from dami_gui.core.strategies import why_this_row

    with open_and_tell(args.project, readonly=True) as project:
        session = project.session
        last = session.last_round
        if last is None:
            raise DamiError(
                f"There is no model yet: run 'dami project round {args.project}' first."
            )
        row = project.row_of_id(args.row)
        k = None if args.class_name is None else class_code(session.classes, args.class_name)
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
    why = None
    if ex.selection_rank is not None:
        why = why_this_row(last.strategy, last.info, ex.selection_rank - 1, session.classes)
    if args.json:
        print(json.dumps({**ex.to_dict(), "why_picked": why}, indent=2))
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
        print(f"Picked {_ordinal(ex.selection_rank)} in round {len(session.rounds)}. {why}")
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
