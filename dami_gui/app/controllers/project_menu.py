"""What the window shows of its project: File menu entries, Open recent, the banner, the title.

:class:`ProjectMenu` builds the project's actions (new, open, open recent, save as, export) and
keeps them, the yellow banner of an unsaved session, the "✓ Saved in …" note of the status bar
and the window title in step with the :class:`~dami_gui.app.controllers.projects.ProjectController`
(its ``changed`` signal). It holds no state of its own: the actions call the project and export
controllers.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QMenu,
    QPushButton,
    QSizePolicy,
    QToolBar,
    QWidget,
)

from dami_gui.app.controllers.exports import ExportController
from dami_gui.app.controllers.project_files import recent_projects, store_recent
from dami_gui.app.controllers.projects import ProjectController
from dami_gui.app.status import StatusLine

BANNER_TEXT = "Not saved in a project yet — File → Save as project…"
SAVING_TEXT = "Saving this session as a project in your projects folder…"
BANNER_STYLE = (
    "QToolBar#unsavedBanner { background: #fff4ce; border: none;"
    " border-bottom: 1px solid #e3c66b; padding: 2px 6px; }"
    "QToolBar#unsavedBanner QLabel { color: #5c4400; }"
)


class ProjectMenu(QObject):
    """The project's menus, banner, saved note and title in ``window``."""

    def __init__(
        self,
        window: QMainWindow,
        status: StatusLine,
        projects: ProjectController,
        exports: ExportController,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.status = status
        self.projects = projects

        # -- actions -----------------------------------------------------------------------
        self.new_action = self._action(
            "&New project from CSV…", lambda: projects.new_project(),
            QKeySequence.StandardKey.New,
            "Open a CSV file and save the labeling in a new project file",
        )  # fmt: skip
        self.open_action = self._action(
            "Open &project…", lambda: projects.open(), "Ctrl+Shift+O",
            "Open a .dami project and go on where you left off",
        )  # fmt: skip
        self.save_as_action = self._action(
            "&Save as project…", lambda: projects.save_as(), "Ctrl+Shift+S",
            "Keep this session in a project file: from then on every label is saved at once",
        )  # fmt: skip
        self.recent_menu = QMenu("Open &recent", window)
        self.recent_menu.setToolTipsVisible(True)
        self.recent_menu.aboutToShow.connect(self.fill_recent_menu)
        projects.recentChanged.connect(self.fill_recent_menu)
        self.export_menu = QMenu("&Export", window)
        self.export_menu.setToolTipsVisible(True)
        self.export_rows_action = self._action(
            "&Labeled rows as CSV…", lambda: exports.export_rows(False), None,
            "The rows you labeled, with every column of the file, their label and round",
        )  # fmt: skip
        self.export_pool_action = self._action(
            "&Whole pool with labels as CSV…", lambda: exports.export_rows(True), None,
            "Every row, with its label (empty when unlabeled) and status",
        )  # fmt: skip
        self.export_model_action = self._action(
            "Trained &model…", lambda: exports.export_model(), None,
            "The last round's network (safetensors weights) and a JSON file describing it",
        )  # fmt: skip
        for action in (
            self.export_rows_action,
            self.export_pool_action,
            self.export_model_action,
        ):
            self.export_menu.addAction(action)

        # -- the banner of an unsaved session, and the saved note in the status bar ---------
        self.banner = QToolBar("Not saved", window)
        self.banner.setObjectName("unsavedBanner")
        self.banner.setMovable(False)
        self.banner.setFloatable(False)
        self.banner.toggleViewAction().setVisible(False)
        self.banner.setStyleSheet(BANNER_STYLE)
        self.banner_label = QLabel(BANNER_TEXT)
        self.banner_label.setToolTip(
            "Labels given now live in memory only. Save as a project to keep them: from then on "
            "every label is written to the project file the moment you give it."
        )
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.banner_button = QPushButton("Save as project…")
        self.banner_button.clicked.connect(lambda: projects.save_as())
        self.banner.addWidget(self.banner_label)
        self.banner.addWidget(spacer)
        self.banner_action = self.banner.addWidget(self.banner_button)
        window.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.banner)
        self.saved_label = QLabel("")
        self.saved_label.setStyleSheet("color: #2e7d32;")
        self.saved_label.setToolTip(
            "Every label is written to the project file the moment you give it; there is "
            "nothing to save."
        )
        window.statusBar().addPermanentWidget(self.saved_label)

        projects.changed.connect(self.update)
        self.update()

    def _action(
        self,
        text: str,
        slot: Callable[[], object],
        shortcut: QKeySequence | QKeySequence.StandardKey | str | None,
        tip: str,
    ) -> QAction:
        action = QAction(text, self.window)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setStatusTip(tip)
        action.setToolTip(tip)
        action.triggered.connect(slot)
        self.window.addAction(action)
        return action

    def fill_file_menu(self, menu: QMenu, open_csv: QAction) -> None:
        """Project entries of the File menu, around the window's *Open CSV…*."""
        menu.addAction(self.new_action)
        menu.addAction(self.open_action)
        menu.addMenu(self.recent_menu)
        menu.addSeparator()
        menu.addAction(open_csv)
        menu.addAction(self.save_as_action)
        menu.addSeparator()
        menu.addMenu(self.export_menu)

    def update(self) -> None:
        """Show the project's state: banner or saved note, title, what can be saved, exported."""
        projects = self.projects
        session = projects.session
        saved = projects.saved
        self.banner.setVisible(session is not None and not saved)
        self.banner_label.setText(SAVING_TEXT if projects.autosaving else BANNER_TEXT)
        self.banner_action.setVisible(not projects.autosaving)
        self.save_as_action.setVisible(not saved)
        self.save_as_action.setEnabled(session is not None and not saved)
        for action in (self.export_rows_action, self.export_pool_action):
            action.setEnabled(session is not None)
        last = session.last_round if session is not None else None
        self.export_model_action.setEnabled(last is not None and last.has_model)
        self.export_menu.setEnabled(session is not None)
        if saved and projects.project is not None:
            self.window.setWindowTitle(f"{projects.project.path.stem} — dami-gui")
            self.saved_label.setText(f"✓ Saved in {projects.project.path.name}")
        else:
            self.saved_label.setText("")
        self.saved_label.setVisible(saved)

    # -- Open recent -------------------------------------------------------------------------
    def fill_recent_menu(self) -> None:
        """Rebuild *Open recent*: most recent first, missing files marked (choosing one asks)."""
        menu = self.recent_menu
        menu.clear()
        paths = recent_projects()
        if not paths:
            menu.addAction("No recent projects").setEnabled(False)
            return
        missing = 0
        for i, text in enumerate(paths):
            path = Path(text)
            found = path.is_file()
            missing += not found
            label = f"&{i + 1}  {path.name}" if i < 9 else f"    {path.name}"
            action = menu.addAction(label if found else f"{label}  (not found)")
            action.setToolTip(str(path) if found else f"{path} was not found; choose to find it")
            action.setStatusTip(str(path))
            action.setData(str(path))
            action.triggered.connect(lambda _checked=False, p=text: self.projects.open_recent(p))
        menu.addSeparator()
        remove = menu.addAction("Remove missing files from the list")
        remove.setEnabled(missing > 0)
        remove.triggered.connect(self.remove_missing)
        menu.addAction("Clear the list").triggered.connect(self.clear_recent)

    def remove_missing(self) -> None:
        paths = recent_projects()
        kept = [p for p in paths if Path(p).is_file()]
        store_recent(kept)
        self.fill_recent_menu()
        gone = len(paths) - len(kept)
        self.status.say(
            f"Removed {gone} missing project{'s' if gone != 1 else ''} from the recent list."
        )

    def clear_recent(self) -> None:
        store_recent([])
        self.fill_recent_menu()
