"""The log: a panel in the window and a file on disk, fed by the ``dami_gui`` logger.

Worker threads log too (tracebacks of failed work go here, not on screen); the panel's handler
hands each line to the GUI thread through a Qt signal, so it is safe from any thread.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QPlainTextEdit, QWidget

from dami_gui.app.paths import log_file

FORMAT = "%(asctime)s %(levelname)s %(message)s"


class _Bridge(QObject):
    line = Signal(str)


class _PanelHandler(logging.Handler):
    def __init__(self, bridge: _Bridge) -> None:
        super().__init__(logging.INFO)
        self.bridge = bridge
        self.setFormatter(logging.Formatter(FORMAT, "%H:%M:%S"))

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(RuntimeError):  # the panel is gone (window closed)
            self.bridge.line.emit(self.format(record))


class LogPanel(QPlainTextEdit):
    """Read-only text of what the app did; failures are explained here in full."""

    MAX_LINES = 5000

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setMaximumBlockCount(self.MAX_LINES)
        font = QFont("DejaVu Sans Mono")
        font.setStyleHint(QFont.StyleHint.Monospace)
        font.setPointSize(9)
        self.setFont(font)
        self._bridge = _Bridge(self)
        self._bridge.line.connect(self.appendPlainText)
        self.handler = _PanelHandler(self._bridge)
        logger = logging.getLogger("dami_gui")
        logger.addHandler(self.handler)
        if logger.level == logging.NOTSET or logger.level > logging.INFO:
            logger.setLevel(logging.INFO)

    def detach(self) -> None:
        """Stop receiving log lines (called when the window closes)."""
        logging.getLogger("dami_gui").removeHandler(self.handler)


def log_file_path() -> Path:
    """Where the log file goes: the app's data folder (see app/paths.py)."""
    return log_file()


def setup_file_log(path: Path | None = None) -> Path | None:
    """Append the ``dami_gui`` log to ``path`` (default :func:`log_file_path`); None if it fails."""
    path = path or log_file_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        return None
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.setLevel(logging.INFO)
    logger = logging.getLogger("dami_gui")
    logger.addHandler(handler)
    if logger.level == logging.NOTSET or logger.level > logging.INFO:
        logger.setLevel(logging.INFO)
    return path
