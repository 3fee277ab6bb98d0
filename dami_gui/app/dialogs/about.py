"""Help → About dami-gui: the version and what it runs on, and where it keeps the user's files.

The first thing a bug report needs, and the first place a user looks for their projects: the
dami-gui version, Python, torch, Qt and PySide, numpy and pandas, where the model computes, and
the data folder with the projects and the log. *Copy* puts the same lines on the clipboard as
plain text; *Open data folder* shows the folder in the file manager.
"""

from __future__ import annotations

import html
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import PySide6
import torch
from PySide6.QtCore import Qt, QUrl, qVersion
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from dami_gui import __version__
from dami_gui.app.paths import data_folder, projects_folder
from dami_gui.core.device import device_name
from dami_gui.core.session import Session

__all__ = ["AboutDialog", "about_lines", "show_about"]


def about_lines(log_path: Path | None = None, device: str | None = None) -> list[tuple[str, str]]:
    """(what, value) pairs shown in the dialog, in order."""
    python = ".".join(str(v) for v in sys.version_info[:3])
    lines = [
        ("dami-gui", __version__),
        ("Python", python),
        ("torch", torch.__version__),
        ("Qt", f"{qVersion()} (PySide6 {PySide6.__version__})"),
        ("numpy", np.__version__),
        ("pandas", pd.__version__),
    ]
    if device:
        lines.append(("Computes on", f"{device} (this session)"))
    lines += [
        ("Data folder", str(data_folder())),
        ("Projects", str(projects_folder())),
        ("Log file", str(log_path) if log_path is not None else "not written"),
    ]
    return lines


class AboutDialog(QDialog):
    """The version table, selectable, with Copy, Open data folder and Close."""

    def __init__(
        self, log_path: Path | None = None, device: str | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("About dami-gui")
        self.lines = about_lines(log_path, device)
        rows = "".join(
            f"<tr><td><b>{html.escape(k)}</b></td><td>&nbsp;{html.escape(v)}</td></tr>"
            for k, v in self.lines
        )
        self.label = QLabel(
            "<p><b>dami-gui</b>: label a table of data with the fewest labels, guided by DAMI "
            f"(deep active learning by model interpretability).</p><table>{rows}</table>"
        )
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy these lines, e.g. for a bug report")
        self.copy_button.clicked.connect(self.copy)
        self.folder_button = QPushButton("Open data folder")
        self.folder_button.setToolTip(str(data_folder()))
        self.folder_button.clicked.connect(self.open_folder)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.folder_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        layout.addWidget(buttons)

    def text(self) -> str:
        """The lines as plain text, one "what: value" per line."""
        return "\n".join(f"{k}: {v}" for k, v in self.lines)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text())

    def open_folder(self) -> None:
        folder = data_folder()
        folder.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))


def show_about(
    window: QWidget,
    previous: AboutDialog | None = None,
    session: Session | None = None,
    log_path: Path | None = None,
) -> AboutDialog:
    """Open the About dialog over ``window`` (not modal), closing ``previous``; returns it."""
    device = device_name(session.device) if session is not None else None
    dialog = AboutDialog(log_path, device, window)
    if previous is not None:
        previous.close()
    dialog.open()
    return dialog
