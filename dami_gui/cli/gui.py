"""``dami gui``: launch the app. The app (and Qt with it) is imported only here, when asked for.

So the command line works, and fails with a clear sentence, where Qt is missing or there is no
display.
"""

from __future__ import annotations

import argparse
import sys

from dami_gui.cli.common import EXIT_BAD_INPUT, Subcommands


def add_gui_parser(sub: Subcommands) -> None:
    """``dami gui ...`` (only for the help: :func:`dami_gui.cli.main.main` hands its arguments
    to the app before argparse sees them)."""
    gui = sub.add_parser("gui", help="open the app", description="Open the labeling app.")
    gui.add_argument(
        "args", nargs=argparse.REMAINDER, help="--demo, a CSV file or a .dami project, --no-umap"
    )
    gui.set_defaults(run=lambda args: launch_app(args.args))


def launch_app(argv: list[str]) -> int:
    """Run the app with ``argv``; a sentence and exit code 2 if it cannot be imported."""
    try:
        from dami_gui.app.main import main as app_main
    except ImportError as exc:
        print(
            f"dami-gui: error: the app cannot start because {exc}. Reinstall dami-gui.",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    return app_main(argv)
