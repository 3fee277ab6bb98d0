"""The one QApplication of the process, named so that settings and the log file have a home.

Its own module so that the entry point (:mod:`.main`), the self-test (:mod:`.selftest`) and the
screenshot tool can all create it without importing one another.
"""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication

from dami_gui import __version__


def application(argv: list[str] | None = None) -> QApplication:
    """The QApplication (created once), named "dami-gui"."""
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        app = existing
    else:
        app = QApplication([sys.argv[0] if sys.argv else "dami-gui", *(argv or [])])
    app.setApplicationName("dami-gui")
    app.setOrganizationName("dami-gui")
    app.setApplicationVersion(__version__)
    return app
