"""Where the app keeps the user's files: one folder per user, named once.

Qt's ``AppDataLocation`` already appends the organisation and the application name, and both
are "dami-gui", so projects used to land in ``~/.local/share/dami-gui/dami-gui/projects``. The
folder is now the platform's generic data folder plus "dami-gui" once:

* Linux: ``~/.local/share/dami-gui`` (``$XDG_DATA_HOME/dami-gui``);
* macOS: ``~/Library/Application Support/dami-gui``;
* Windows: ``%LOCALAPPDATA%\\dami-gui``.

Projects saved earlier in the doubled folder stay where they are and open as before (the recent
list keeps their full path); nothing is moved behind the user's back.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths

APP_FOLDER = "dami-gui"


def data_folder() -> Path:
    """The per-user folder of the app: projects saved automatically and the log file."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericDataLocation)
    return Path(base) / APP_FOLDER if base else Path.home() / f".{APP_FOLDER}"


def projects_folder() -> Path:
    """Where data opened without a project is saved as one at once."""
    return data_folder() / "projects"


def log_file() -> Path:
    """The log file, kept next to the projects so the user finds both in one place."""
    return data_folder() / "dami-gui.log"
