"""The ``dami`` command line and the ``dami-gui`` launcher: the parser and the entry points.

Each command lives in its own module, which adds its parser and the function that runs it
(``set_defaults(run=...)``): :mod:`~dami_gui.cli.select` (``select``, ``simulate``),
:mod:`~dami_gui.cli.project` (``project ...``), :mod:`~dami_gui.cli.export` (``export``),
:mod:`~dami_gui.cli.explain` (``explain``) and :mod:`~dami_gui.cli.gui` (``gui``, the only
module that imports the app, and only when it is launched). The command line uses
:mod:`dami_gui.core` only, so it works (and fails with a clear sentence) where Qt is missing or
there is no display. Bad input is one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from typing import NoReturn

from dami_gui.cli.common import EXIT_BAD_INPUT
from dami_gui.cli.explain import add_explain_parser
from dami_gui.cli.export import add_export_parser
from dami_gui.cli.gui import add_gui_parser, launch_app
from dami_gui.cli.predict import add_predict_parser, add_version_option
from dami_gui.cli.project import add_project_parsers
from dami_gui.cli.select import add_select_parsers


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit code 2, like every other bad input."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def build_parser() -> Parser:
    """The ``dami`` parser with every command; ``args.run(args)`` runs the one given."""
    from dami_gui.core.strategies import DEFAULT_STRATEGY, available

    parser = Parser(
        prog="dami",
        description="Label a tabular data set with the fewest labels (deep active learning by "
        "model interpretability).",
    )
    add_version_option(parser)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    add_select_parsers(sub, available(), DEFAULT_STRATEGY)
    add_gui_parser(sub)
    add_project_parsers(sub, available())
    add_export_parser(sub, alias=True)  # `dami export`: `dami project export`'s first name
    add_explain_parser(sub)
    add_predict_parser(sub)
    return parser


def gui_main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``dami-gui``: the app, with a clear sentence if Qt cannot start."""
    return launch_app(list(sys.argv[1:] if argv is None else argv))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``dami``: run one command; the exit code is 0, 2 (bad input) or 130."""
    from dami_gui.core.errors import DamiError

    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["gui"]:
        # Everything after `gui` belongs to the app; argparse's REMAINDER would refuse a
        # leading option such as --demo.
        return gui_main(argv[1:])
    args = build_parser().parse_args(argv)
    started = time.perf_counter()
    try:
        code: int = args.run(args)
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
