"""``dami project export``: write a project's labeled rows, and its model.

``dami export`` is the same command under its first name, kept for the scripts that use it: one
parser function, one code path (:func:`cmd_export`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from dami_gui.cli.common import Subcommands, open_and_tell, say


def add_export_parser(parent: Subcommands, alias: bool = False) -> None:
    """``export`` under ``parent``: ``dami project``'s, or (``alias``) ``dami``'s own, which
    says that it is the same command."""
    what = "write the labeled rows (and the model)"
    exp = parent.add_parser(
        "export",
        help="the same as 'dami project export'" if alias else what,
        description=f"{what[0].upper()}{what[1:]}."
        + (" The same command as 'dami project export'." if alias else ""),
    )
    exp.add_argument("project", type=Path, metavar="P.dami")
    exp.add_argument("-o", "--out", type=Path, required=True, metavar="labeled.csv")
    exp.add_argument("--all", action="store_true", help="every row, labeled or not")
    exp.add_argument(
        "--model", type=Path, metavar="model.safetensors", help="also write the model + JSON"
    )
    exp.set_defaults(run=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    from dami_gui.core.project.export import export_labels, export_model

    # The network is read (and torch loaded) only when it is exported too.
    with open_and_tell(args.project, readonly=True, with_models=args.model is not None) as project:
        n = export_labels(project.session, args.out, all_rows=args.all)
        say(f"Wrote {n} rows to {args.out}.")
        if args.model is not None:
            weights, sidecar = export_model(project.session, args.model)
            say(f"Wrote the model to {weights} and its description to {sidecar}.")
    return 0
