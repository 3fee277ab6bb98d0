"""``dami predict`` and ``dami --version``: use the model you labeled for, on a new file.

``dami predict P.dami NEW.csv -o predictions.csv`` applies the project's last model (or an
exported model: its ``.json`` or weights file) to every row of ``NEW.csv`` with the project's
preprocessing replayed (see :mod:`dami_gui.core.prediction.new_rows`), prints what differed from the
labeling file on stderr, and writes the table atomically. Bad input is one line and exit 2,
like every other command.
"""

from __future__ import annotations

import argparse
import sys
from importlib import metadata
from pathlib import Path

from dami_gui import __version__
from dami_gui.core.errors import DamiError

__all__ = ["add_predict_parser", "add_version_option", "cmd_predict", "version_text"]


def version_text(program: str = "dami") -> str:
    """``dami 0.1.0 (Python 3.11.9; torch 2.13.0, numpy 2.1.0, pandas 2.2.3)``, read cheaply.

    The versions come from the installed packages' metadata, so ``--version`` answers without
    importing torch.
    """
    parts = []
    for package in ("torch", "numpy", "pandas"):
        try:
            parts.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{package} not installed")
    python = ".".join(str(v) for v in sys.version_info[:3])
    return f"{program} {__version__} (Python {python}; {', '.join(parts)})"


def add_version_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--version", action="version", version=version_text(), help="print the version and exit"
    )


def add_predict_parser(sub) -> None:
    """``dami predict MODEL NEW.csv -o predictions.csv [--explain [N]]``."""
    p = sub.add_parser(
        "predict",
        help="apply a project's model to a new CSV file: predicted class and probabilities",
        description="Apply the last model of a project (or an exported model) to every row of "
        "a new CSV file, preparing its columns exactly as the labeling file's were. Writes the "
        "id column (or the row number), the predicted class and one probability per class.",
    )
    p.add_argument("model", type=Path, metavar="P.dami", help="a project, or an exported model")
    p.add_argument("data", type=Path, metavar="NEW.csv", help="the rows to predict")
    p.add_argument("-o", "--out", type=Path, required=True, metavar="predictions.csv")
    p.add_argument(
        "--explain",
        type=int,
        nargs="?",
        const=3,
        default=0,
        metavar="N",
        help="also write each row's linear region, its group and the N columns that push the "
        "prediction most, from the exact local linear model (N: 3)",
    )
    p.set_defaults(run=cmd_predict)


def cmd_predict(args: argparse.Namespace) -> int:
    from dami_gui.core.prediction.new_rows import Predictor, predict_file

    if args.explain < 0:
        raise DamiError("--explain takes a number of columns, 1 or more (or leave it out).")
    if not args.model.exists():
        raise DamiError(f"{args.model} was not found; give a project file (.dami) or a model.")
    if args.model.suffix.lower() == ".dami":
        from dami_gui.core.project.opening import open_project

        # Read-only: the model and preprocessing are in the project; a pool that was edited
        # since does not change them, so its changes are accepted without asking.
        with open_project(args.model, readonly=True, accept_changes=True) as project:
            predictor = Predictor.from_session(
                project.session, with_pool=args.explain > 0, name=f"{args.model.name}'s model"
            )
    else:
        predictor = Predictor.from_export(args.model)
    report = predict_file(predictor, args.data, args.out, explain=args.explain)
    for line in report.lines():
        print(line, file=sys.stderr)
    print(f"Wrote {report.n_rows:,} predictions to {args.out}.", file=sys.stderr)
    return 0
