"""Entry point of the desktop app: ``dami-gui [--demo] [--no-umap] [FILE.csv | PROJECT.dami]``.

The CLI (``dami_gui.cli.main``) calls :func:`main`; ``python -m dami_gui.app.main`` runs it too.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import traceback
from pathlib import Path
from types import TracebackType

from dami_gui import __version__
from dami_gui.app.application import application
from dami_gui.app.main_window import MainWindow
from dami_gui.app.panels.log_panel import setup_file_log
from dami_gui.app.paths import projects_folder
from dami_gui.app.qt_libraries import missing_message
from dami_gui.app.selftest import run_selftest
from dami_gui.app.tasks import Worker
from dami_gui.core.embedding.numba_cache import use_numba_cache
from dami_gui.core.errors import DamiError

#: How long, at exit, to let cancelled background work finish before leaving without it.
EXIT_GRACE_MS = 1500


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dami-gui",
        description="Label a table of data with the fewest labels, guided by DAMI.",
    )
    parser.add_argument(
        "csv",
        nargs="?",
        help="a CSV file to open (shown in the import dialog), or a .dami project to go on with",
    )
    parser.add_argument("--demo", action="store_true", help="open the bundled demo data set")
    parser.add_argument(
        "--no-umap",
        action="store_true",
        help="draw the map with PCA only (faster start; for slow machines and tests)",
    )
    parser.add_argument(
        "--selftest",
        action="store_true",
        help="check, without a window, that this installation works (see app/selftest.py)",
    )
    parser.add_argument("--version", action="version", version=f"dami-gui {__version__}")
    return parser


def autosave_folder() -> Path:
    """The per-user folder where data opened without a project is saved as one at once."""
    return projects_folder()  # <data folder>/projects, the app's name once (see app/paths.py)


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` (default ``sys.argv[1:]``), open the window and run until it closes."""
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    use_numba_cache()  # before umap (numba) is imported: its compiled code kept between runs
    if args.selftest:
        return leave(run_selftest(umap=not args.no_umap))
    missing = missing_message()  # before Qt stops with its own, misleading, message
    if missing is not None:
        print(missing, file=sys.stderr)
        return 2
    app = application()
    log_path = setup_file_log()
    logging.getLogger("dami_gui.app").info("dami-gui %s starting", __version__)
    window = MainWindow(
        use_umap=not args.no_umap, log_path=log_path, autosave_folder=autosave_folder()
    )
    install_excepthook(window)
    window.resize(1280, 800)
    window.show()
    if args.demo:
        window.after_start(window.loading.open_demo)
    elif args.csv and args.csv.lower().endswith(".dami"):
        project = args.csv
        window.after_start(lambda: window.projects.open(project))
    elif args.csv:
        path = args.csv
        window.after_start(lambda: window.loading.open_csv(path))
    code = int(app.exec())
    return leave(code)


def install_excepthook(window: MainWindow) -> None:
    """Turn an exception escaping a Qt slot into a logged traceback and a sentence on screen.

    PySide prints such exceptions and carries on; without this hook the user would never know
    that, say, a label could not be saved.
    """
    log = logging.getLogger("dami_gui.app")

    def hook(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, error, tb)
            return
        log.error("Unexpected error:\n%s", "".join(traceback.format_exception(kind, error, tb)))
        if isinstance(error, DamiError):
            message = str(error)
        else:
            message = f"Something went wrong ({kind.__name__}: {error})."
        with contextlib.suppress(RuntimeError):  # the window may be gone
            window.show_error(message)

    sys.excepthook = hook


def leave(code: int) -> int:
    """Return ``code``, or exit at once if background work cannot stop in time.

    Work in a part that cannot be interrupted (UMAP's neighbour search or its code compilation)
    may still hold a thread; Qt aborts when a running thread is destroyed, and waiting could take
    a minute, so the process then ends without waiting for it.
    """
    Worker.cancel_all()
    for worker in list(Worker.running.values()):
        thread = worker.thread_
        if thread is not None:
            thread.wait(EXIT_GRACE_MS)
    if any(w.thread_ is not None and w.thread_.isRunning() for w in Worker.running.values()):
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
