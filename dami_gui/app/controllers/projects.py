"""Project files in the app: File menu, recent list, save as, open, export, the unsaved banner.

:class:`ProjectController` belongs to the main window and owns the open
:class:`~dami_gui.core.project.journal.Project`, if any. In a project every label, skip, undo and
round is written to the ``.dami`` file before the session changes (the project is the session's
journal), so there is no *Save*: the status bar says so once, and the window title shows the
project's name ("segment — dami-gui").

* **Save as project…** turns the session on screen (the demo, or a CSV after the import dialog)
  into a project with :func:`~dami_gui.core.project.journal.create_project`; until then a banner
  says that nothing is saved. **New project from CSV…** opens a CSV and then asks where to save.
* **Open project…** runs :func:`~dami_gui.core.project.journal.open_project` in a
  :class:`~dami_gui.app.tasks.Worker` (status bar progress, Cancel). A CSV file that moved or
  changed brings up :class:`~dami_gui.app.dialogs.source_changed.SourceDialog` (locate / accept /
cancel). * **Open recent** lists the last projects (``QSettings`` key ``projects/recent``), missing
  files marked "(not found)": choosing one offers to find it (``moved_project.py``).
* **Export** writes the labeled rows, the whole pool or the model, in a worker.
* Class colours and the map (UMAP/PCA) are kept in the project and restored on open.

Opening another project, other data, or closing the window closes the current project (its lock
is released). Failures are the core's sentences (:class:`~dami_gui.core.errors.DamiError`) shown
in a dialog; the app keeps running and nothing already saved is touched.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from dami_gui.app.binding import SessionLink
from dami_gui.app.controllers.moved_project import MovedProject
from dami_gui.app.dialogs.source_changed import SourceDialog
from dami_gui.app.palette import ClassColors
from dami_gui.app.tasks import Worker
from dami_gui.core.data.dataset import label_values
from dami_gui.core.errors import DamiError
from dami_gui.core.progress import CancelToken, ProgressCallback
from dami_gui.core.project.export import export_labels, export_model
from dami_gui.core.project.journal import (
    Project,
    SourceChanged,
    SourceMissing,
    create_project,
    open_project,
)
from dami_gui.core.session import Session

log = logging.getLogger("dami_gui.app")

SUFFIX = ".dami"
PROJECT_FILTER = "dami projects (*.dami);;All files (*)"
CSV_FILTER = "CSV and text files (*.csv *.tsv *.txt);;All files (*)"
RECENT_KEY = "projects/recent"
FOLDER_KEY = "projects/last_folder"
MAX_RECENT = 10
SAVED_NOTE = "Every label is saved as you give it."
BANNER_TEXT = "Not saved in a project yet — File → Save as project…"
BANNER_STYLE = (
    "QToolBar#unsavedBanner { background: #fff4ce; border: none;"
    " border-bottom: 1px solid #e3c66b; padding: 2px 6px; }"
    "QToolBar#unsavedBanner QLabel { color: #5c4400; }"
)


# ------------------------------------------------------------------------------ recent list


def recent_projects() -> list[str]:
    """The projects opened or saved last, most recent first (paths as text)."""
    value = QSettings().value(RECENT_KEY, [])
    if isinstance(value, str):  # an INI file gives a one-element list back as a string
        value = [value] if value else []
    return [str(v) for v in (value or []) if v]


def _store_recent(paths: list[str]) -> None:
    QSettings().setValue(RECENT_KEY, paths[:MAX_RECENT])


def remember_project(path: str | Path) -> None:
    """Put ``path`` first in the recent list."""
    text = str(Path(path).absolute())
    _store_recent([text, *[p for p in recent_projects() if p != text]])


def forget_project(path: str | Path) -> None:
    text = str(Path(path).absolute())
    _store_recent([p for p in recent_projects() if p != text])


# ------------------------------------------------------------------------------ dialogs


class SavingDialog(QDialog):
    """Progress of *Save as project…*, window-modal so no answer is given while it is written.

    Unlike ``QProgressDialog`` it never runs the event loop from ``setValue``, so the worker's
    signals cannot be handled in the middle of a progress update. ``canceled`` on Cancel or Esc.
    """

    canceled = Signal()

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Save as project")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setMinimumWidth(380)
        self.label = QLabel(text)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.canceled)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addLayout(buttons)

    def set_text(self, text: str) -> None:
        self.label.setText(text)

    def set_fraction(self, fraction: float) -> None:
        self.bar.setValue(int(max(0.0, min(1.0, fraction)) * 1000))

    def reject(self) -> None:
        """Esc or the window's close button: ask to cancel; the controller closes the dialog."""
        self.canceled.emit()


# ------------------------------------------------------------------------------ controller


class ProjectController(QObject):
    """The window's project: menus, banner, title, and the long work on project files.

    ``window`` is the :class:`~dami_gui.app.main_window.MainWindow`; it calls
    :meth:`session_changed` whenever it shows another session and :meth:`close` when it closes.
    The controller shares the window's foreground slot (``window.load_worker``), so Esc and the
    status bar's Cancel stop an opening project like an opening CSV file.
    """

    opened = Signal(object)  # the Project now shown (opened, or saved as)
    closed = Signal()  # the project was closed
    exported = Signal(object)  # Path of a finished export
    failed = Signal(str)  # a sentence shown to the user
    sourceProblem = Signal(object)  # the SourceDialog just shown

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.project: Project | None = None
        self.source_dialog: SourceDialog | None = None
        self.save_worker: Worker | None = None
        self.save_dialog: SavingDialog | None = None
        self.export_worker: Worker | None = None
        self._opening: tuple[Path, Path | None, bool] | None = None
        self._new_from: Path | None = None  # New project from CSV: save this CSV's session
        self._session_link = SessionLink(self, self._on_session)
        self.moved = MovedProject(self)  # a recent project that is no longer where it was

        # -- actions -----------------------------------------------------------------------
        self.new_action = self._action(
            "&New project from CSV…", self.new_project, QKeySequence.StandardKey.New,
            "Open a CSV file and save the labeling in a new project file",
        )  # fmt: skip
        self.open_action = self._action(
            "Open &project…", lambda: self.open(), "Ctrl+Shift+O",
            "Open a .dami project and go on where you left off",
        )  # fmt: skip
        self.save_as_action = self._action(
            "&Save as project…", lambda: self.save_as(), "Ctrl+Shift+S",
            "Keep this session in a project file: from then on every label is saved at once",
        )  # fmt: skip
        self.recent_menu = QMenu("Open &recent", window)
        self.recent_menu.setToolTipsVisible(True)
        self.recent_menu.aboutToShow.connect(self.fill_recent_menu)
        self.export_menu = QMenu("&Export", window)
        self.export_menu.setToolTipsVisible(True)
        self.export_rows_action = self._action(
            "&Labeled rows as CSV…", lambda: self.export_rows(False), None,
            "The rows you labeled, with every column of the file, their label and round",
        )  # fmt: skip
        self.export_pool_action = self._action(
            "&Whole pool with labels as CSV…", lambda: self.export_rows(True), None,
            "Every row, with its label (empty when unlabeled) and status",
        )  # fmt: skip
        self.export_model_action = self._action(
            "Trained &model…", lambda: self.export_model(), None,
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
        self.banner_button.clicked.connect(lambda: self.save_as())
        self.banner.addWidget(self.banner_label)
        self.banner.addWidget(spacer)
        self.banner.addWidget(self.banner_button)
        window.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.banner)
        self.saved_label = QLabel("")
        self.saved_label.setStyleSheet("color: #2e7d32;")
        self.saved_label.setToolTip(
            "Every label is written to the project file the moment you give it; there is "
            "nothing to save."
        )
        window.statusBar().addPermanentWidget(self.saved_label)

        window.layouts.ready.connect(self._layout_ready)
        self._update()

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

    # -- state shown -------------------------------------------------------------------------
    @property
    def session(self) -> Session | None:
        return self.window.session

    @property
    def saved(self) -> bool:
        """The session on screen is kept in a project file."""
        return self.project is not None and self.project.session is self.session

    def _update(self) -> None:
        session = self.session
        unsaved = session is not None and not self.saved
        self.banner.setVisible(unsaved)
        self.save_as_action.setVisible(not self.saved)
        self.save_as_action.setEnabled(unsaved)
        for action in (self.export_rows_action, self.export_pool_action):
            action.setEnabled(session is not None)
        self.export_model_action.setEnabled(session is not None and bool(session.rounds))
        self.export_menu.setEnabled(session is not None)
        if self.saved:
            assert self.project is not None
            self.window.setWindowTitle(f"{self.project.path.stem} — dami-gui")
            self.saved_label.setText(f"✓ Saved in {self.project.path.name}")
        else:
            self.saved_label.setText("")
        self.saved_label.setVisible(self.saved)

    def session_changed(self, session: Session | None) -> None:
        """The window shows ``session`` now: close a project that is not its own, update."""
        if self.project is not None and self.project.session is not session:
            self._close_project()
        self._session_link.switch(session)
        self._update()
        new_from, self._new_from = self._new_from, None
        source = session.dataset.source if session is not None else None
        if (
            new_from is not None
            and not self.saved
            and source is not None
            and Path(source).absolute() == new_from
        ):
            QTimer.singleShot(0, self.save_as)  # New project from CSV: now ask where to save
        elif (
            session is not None
            and not self.saved
            and self.window.autosave_folder is not None
            and not renamed_file_classes(session)
        ):
            # Data opened without a project (Open CSV, the demo) is saved at once in the
            # user's projects folder, so no label given in it can be lost either.
            QTimer.singleShot(0, lambda: self._autosave(session))

    def _autosave(self, session: Session) -> None:
        if session is not self.session or self.saved or self.save_worker is not None:
            return
        source = session.dataset.source
        stem = Path(source).stem if source is not None else "data"
        folder = Path(self.window.autosave_folder)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            log.warning("Cannot create %s for automatic saving: %s", folder, error)
            return
        self.save_as(folder / f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}{SUFFIX}")

    def _on_session(self, kind: str, payload: object) -> None:
        if kind == "round":
            self._update()
        elif kind == "settings" and self.saved:
            assert self.project is not None
            try:
                self.project.save_settings()
            except DamiError as error:
                log.warning("Could not save the settings: %s", error)

    # -- save as -----------------------------------------------------------------------------
    def new_project(self, csv: str | Path | None = None) -> None:
        """Open a CSV (file dialog, import dialog), then ask where to save it as a project."""
        if csv is None:
            start = QSettings().value("last_folder", "", str)
            csv, _ = QFileDialog.getOpenFileName(
                self.window, "New project: choose the CSV file to label", start, CSV_FILTER
            )
            if not csv:
                return
            QSettings().setValue("last_folder", str(Path(csv).parent))
        self._new_from = Path(csv).absolute()
        self.window.open_csv(csv)

    def _suggested_path(self, session: Session) -> str:
        source = session.dataset.source
        stem = Path(source).stem if source is not None else "project"
        folder = QSettings().value(FOLDER_KEY, "", str)
        if not folder and source is not None and Path(source).parent.is_dir():
            folder = str(Path(source).parent)
        return str(Path(folder or Path.home()) / f"{stem}{SUFFIX}")

    def save_as(self, path: str | Path | None = None) -> None:
        """Save the session on screen as a new project (in a worker, behind a progress dialog).

        While it is written the window takes no answers (the dialog is window-modal), so the
        project and the session cannot drift apart.
        """
        session = self.session
        window = self.window
        if session is None:
            window.stage.setText("Open data first (File → Open CSV… or Help → Open demo).")
            return
        if self.saved:
            assert self.project is not None
            window.stage.setText(f"Already saved in {self.project.path.name}. {SAVED_NOTE}")
            return
        if self.save_worker is not None:
            return
        renamed = renamed_file_classes(session)
        if renamed:
            self._fail(renamed)
            return
        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                window,
                "Save as project",
                self._suggested_path(session),
                PROJECT_FILTER,
                options=QFileDialog.Option.DontConfirmOverwrite,  # an existing file is refused
            )
            if not path:
                return
        path = Path(path)
        if path.suffix.lower() != SUFFIX:
            path = path.with_name(path.name + SUFFIX)
        path = path.absolute()
        QSettings().setValue(FOLDER_KEY, str(path.parent))
        colours: list[str | None] = list(window.colors.as_list(len(session.classes)))
        holder: list[Project] = []

        def task(progress: ProgressCallback, cancel: CancelToken) -> Project:
            project = create_project(
                path, session, colours=colours, progress=progress, cancel=cancel
            )
            holder.append(project)
            return project

        worker = Worker(task, name=f"saving {path.name}")
        worker.holder = holder  # type: ignore[attr-defined]
        worker.created = path  # type: ignore[attr-defined]
        worker.session = session  # type: ignore[attr-defined]
        worker.progress.connect(self._save_progress)
        worker.finished.connect(self._saved)
        worker.errored.connect(self._save_failed)
        worker.cancelled.connect(self._save_cancelled)
        worker.done.connect(self._worker_done)
        dialog = SavingDialog(f"Saving {path.name}…", window)
        dialog.canceled.connect(self.cancel_save)
        self.save_dialog = dialog
        self.save_worker = worker
        dialog.open()
        worker.start()

    def _save_progress(self, stage: str, fraction: float) -> None:
        if self.sender() is self.save_worker and self.save_dialog is not None:
            self.save_dialog.set_text(f"{stage}…")
            self.save_dialog.set_fraction(fraction)

    def _end_save(self) -> None:
        self.save_worker = None
        dialog, self.save_dialog = self.save_dialog, None
        if dialog is not None:
            with contextlib.suppress(RuntimeError, TypeError):
                dialog.canceled.disconnect(self.cancel_save)
            dialog.hide()
            dialog.deleteLater()

    def cancel_save(self) -> None:
        """Stop saving as a project; a file already written is removed again."""
        worker = self.save_worker
        if worker is None:
            return
        worker.cancel()
        worker.cancelled_by_user = True  # type: ignore[attr-defined]
        self._end_save()
        self.window.stage.setText("Saving cancelled; no project was written.")

    def _saved(self, project: object) -> None:
        worker = self.sender()
        if worker is not self.save_worker:
            return  # cancelled meanwhile: _worker_done removes it
        self._end_save()
        assert isinstance(project, Project)
        session = project.session
        if session is not self.session:  # other data was opened meanwhile
            return
        if len(project._seqs) != len(session.events):  # cannot happen: the dialog is modal
            self._discard(project, worker.created)  # type: ignore[attr-defined]
            self._fail("Labels changed while the project was being saved; save it again.")
            return
        try:  # a round that was committed while the file was written goes in now
            stored = {r[0] for r in project.store.query("SELECT idx FROM rounds")}
            for result in session.rounds:
                if result.index not in stored:
                    project.record_round(result)
        except DamiError as error:
            self._discard(project, worker.created)  # type: ignore[attr-defined]
            self._fail(str(error))
            return
        self.project = project
        remember_project(project.path)
        self.session_changed(session)
        if self.window.map.positions is not None:
            self._layout_ready(self.window.map.positions, self.window.map.layout_name)
        self.window.stage.setText(f"Saved as {project.path.name}. {SAVED_NOTE}")
        log.info("Saved the session as %s", project.path)
        self.opened.emit(project)

    def _save_failed(self, message: str) -> None:
        if self.sender() is not self.save_worker:
            return
        self._end_save()
        self.window.stage.setText("The project was not saved.")
        self._fail(message)

    def _save_cancelled(self) -> None:
        if self.sender() is self.save_worker:
            self._end_save()
            self.window.stage.setText("Saving cancelled; no project was written.")

    def _discard(self, project: Project, path: Path | None) -> None:
        """Close a project written for nothing (cancelled) and remove its files."""
        with contextlib.suppress(Exception):
            project.close()
        if path is not None:
            for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                with contextlib.suppress(OSError):
                    leftover.unlink()

    # -- open --------------------------------------------------------------------------------
    def open(self, path: str | Path | None = None) -> None:
        """Open a project (file dialog without ``path``) in the worker, then show it."""
        window = self.window
        if path is None:
            start = QSettings().value(FOLDER_KEY, "", str)
            path, _ = QFileDialog.getOpenFileName(window, "Open project", start, PROJECT_FILTER)
            if not path:
                return
        path = Path(path).absolute()
        QSettings().setValue(FOLDER_KEY, str(path.parent))
        if self.project is not None and _same_file(self.project.path, path):
            window.stage.setText(f"{path.name} is already open. {SAVED_NOTE}")
            return
        self._start_open(path, None, False)

    def open_recent(self, path: str | Path) -> None:
        path = Path(path)
        if not path.is_file():
            self.moved.ask(path)  # find it, remove it from the list, or leave it
            return
        self.open(path)

    def _start_open(self, path: Path, source: Path | None, accept: bool) -> None:
        window = self.window
        window._cancel_load()  # the window's one foreground slot
        holder: list[Project] = []

        def task(progress: ProgressCallback, cancel: CancelToken) -> object:
            try:
                project = open_project(
                    path, source=source, accept_changes=accept, progress=progress, cancel=cancel
                )
            except (SourceMissing, SourceChanged) as problem:
                return problem  # not a failure: the user decides (SourceDialog)
            holder.append(project)
            return project

        worker = Worker(task, name=f"opening {path.name}")
        worker.holder = holder  # type: ignore[attr-defined]
        worker.progress.connect(window._task_progress)
        worker.finished.connect(self._opened)
        worker.errored.connect(self._open_failed)
        worker.cancelled.connect(self._open_cancelled)
        worker.done.connect(self._worker_done)
        self._opening = (path, source, accept)
        window.load_worker = worker
        window._set_busy(True, f"Opening {path.name}…")
        worker.start()

    def _is_open_worker(self) -> bool:
        return self.sender() is not None and self.sender() is self.window.load_worker

    def _opened(self, result: object) -> None:
        if not self._is_open_worker():
            return  # superseded or cancelled: _worker_done closes what it opened
        window = self.window
        window.load_worker = None
        if isinstance(result, SourceMissing | SourceChanged):
            window._set_busy(False, "The project's CSV file moved or changed.")
            self._ask_about_source(result)
            return
        assert isinstance(result, Project)
        self._show_project(result)

    def _show_project(self, project: Project) -> None:
        window = self.window
        session = project.session
        old, self.project = self.project, project
        if old is not None:
            self._session_link.drop()
            _close_quietly(old)
        try:
            window.colors = ClassColors([c or "" for c in project.class_colours])
            umap = project.load_layout("umap")
        except DamiError as error:
            log.warning("Could not read the colours or the map of %s: %s", project.path, error)
            umap = None
        if umap is not None:
            window.layouts.remember(session.dataset.X, umap)
        done, total = session.query_status()
        start = not session.rounds or (window.settings.auto_next and total > 0 and done == total)
        window.set_session(session, start=start)
        remember_project(project.path)
        rounds = len(session.rounds)
        window._set_busy(
            window.rounds.running,
            f"Opened {project.path.name}: {session.n_labeled:,} labeled rows, {rounds} "
            f"round{'s' if rounds != 1 else ''}. {SAVED_NOTE}",
        )
        status = project.status
        if status is not None and (status.moved or status.changed):
            log.info("%s", status.describe())
        log.info("Opened project %s", project.path)
        self.opened.emit(project)

    def _open_failed(self, message: str) -> None:
        if not self._is_open_worker():
            return
        self.window.load_worker = None
        self.window._set_busy(False, "Could not open the project.")
        self._fail(message)

    def _open_cancelled(self) -> None:
        if self._is_open_worker():
            self.window.load_worker = None
            self.window._set_busy(False, "Opening cancelled; nothing was changed.")

    # -- a CSV file that moved or changed ----------------------------------------------------
    def _ask_about_source(self, problem: SourceMissing | SourceChanged) -> None:
        assert self._opening is not None
        if self.source_dialog is not None:
            self.source_dialog.close()
        dialog = SourceDialog(problem, self._opening[0], self.window)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.finished.connect(self._source_answer)
        self.source_dialog = dialog
        log.info("Shown to the user: %s", problem)
        dialog.open()
        self.sourceProblem.emit(dialog)

    def _source_answer(self, code: int) -> None:
        dialog = self.sender()
        if dialog is not self.source_dialog or self._opening is None:
            return
        self.source_dialog = None
        assert isinstance(dialog, SourceDialog)
        dialog.deleteLater()
        path = self._opening[0]
        if code == SourceDialog.LOCATE:
            self.locate_source(path, stored=dialog.status.stored_path)
        elif code == SourceDialog.ACCEPT:
            status = dialog.status
            self._start_open(path, status.path if status.moved else None, True)
        else:
            self.window.stage.setText(f"{path.name} was not opened; nothing was changed.")

    def locate_source(
        self, project: str | Path, csv: str | Path | None = None, stored: Path | None = None
    ) -> None:
        """Open ``project`` with its CSV file at ``csv`` (asked for when None)."""
        project = Path(project)
        if csv is None:
            name = stored.name if stored is not None else "the CSV file"
            start = str(stored.parent) if stored is not None and stored.parent.is_dir() else ""
            csv, _ = QFileDialog.getOpenFileName(
                self.window, f"Locate {name}", start or str(project.parent), CSV_FILTER
            )
            if not csv:
                self.window.stage.setText(f"{project.name} was not opened; nothing was changed.")
                return
        self._start_open(project, Path(csv), False)

    # -- export ------------------------------------------------------------------------------
    def _export_name(self, suffix: str) -> str:
        session = self.session
        if self.saved:
            assert self.project is not None
            folder, stem = self.project.path.parent, self.project.path.stem
        else:
            source = session.dataset.source if session is not None else None
            folder = Path(QSettings().value(FOLDER_KEY, "", str) or Path.home())
            stem = Path(source).stem if source is not None else "labels"
        return str(folder / f"{stem}{suffix}")

    def export_rows(self, all_rows: bool = False, path: str | Path | None = None) -> None:
        """Write the labeled rows (the whole pool with ``all_rows``) as CSV, in a worker."""
        session = self.session
        if session is None:
            return
        if path is None:
            title = "Export the whole pool with labels" if all_rows else "Export labeled rows"
            suffix = "-all.csv" if all_rows else "-labels.csv"
            path, _ = QFileDialog.getSaveFileName(
                self.window, title, self._export_name(suffix), "CSV (*.csv)"
            )
            if not path:
                return
        target = Path(path)

        def task(progress: ProgressCallback, cancel: CancelToken) -> tuple[Path, str]:
            progress(f"Writing {target.name}", 0.0)
            n = export_labels(session, target, all_rows=all_rows)
            what = "rows" if all_rows else "labeled rows"
            return target, f"Wrote {n:,} {what} to {target}."

        self._start_export(task, f"writing {target.name}")

    def export_model(self, path: str | Path | None = None) -> None:
        """Write the last round's model (weights) and its JSON description, in a worker."""
        session = self.session
        if session is None:
            return
        if session.last_round is None:
            self._fail("There is no model yet; run a round first, then export the model.")
            return
        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                self.window, "Export the trained model", self._export_name("-model.safetensors"),
                "safetensors (*.safetensors);;PyTorch, as before (*.pt);;All files (*)",
            )  # fmt: skip
            if not path:
                return
        target = Path(path)

        def task(progress: ProgressCallback, cancel: CancelToken) -> tuple[Path, str]:
            progress(f"Writing {target.name}", 0.0)
            weights, sidecar = export_model(session, target)
            return weights, f"Wrote the model to {weights} and its description to {sidecar.name}."

        self._start_export(task, f"writing {target.name}")

    def _start_export(
        self, task: Callable[[ProgressCallback, CancelToken], object], name: str
    ) -> None:
        if self.export_worker is not None:
            self.window.stage.setText("An export is still being written; try again in a moment.")
            return
        worker = Worker(task, name=name)
        worker.finished.connect(self._exported)
        worker.errored.connect(self._export_failed)
        self.export_worker = worker
        self.window.stage.setText(f"{name[0].upper()}{name[1:]}…")
        worker.start()

    def _exported(self, result: object) -> None:
        if self.sender() is not self.export_worker:
            return
        self.export_worker = None
        path, message = result  # type: ignore[misc]
        self.window.stage.setText(message)
        log.info("%s", message)
        self.exported.emit(path)

    def _export_failed(self, message: str) -> None:
        if self.sender() is not self.export_worker:
            return
        self.export_worker = None
        self.window.stage.setText("The export was not written.")
        self._fail(message)

    # -- recent ------------------------------------------------------------------------------
    def fill_recent_menu(self) -> None:
        """Rebuild *Open recent*: most recent first, missing files greyed out."""
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
            action.triggered.connect(lambda _checked=False, p=text: self.open_recent(p))
        menu.addSeparator()
        remove = menu.addAction("Remove missing files from the list")
        remove.setEnabled(missing > 0)
        remove.triggered.connect(self.remove_missing)
        menu.addAction("Clear the list").triggered.connect(self.clear_recent)

    def remove_missing(self) -> None:
        paths = recent_projects()
        kept = [p for p in paths if Path(p).is_file()]
        _store_recent(kept)
        self.fill_recent_menu()
        gone = len(paths) - len(kept)
        self.window.stage.setText(
            f"Removed {gone} missing project{'s' if gone != 1 else ''} from the recent list."
        )

    def clear_recent(self) -> None:
        _store_recent([])
        self.fill_recent_menu()

    # -- colours and the map -----------------------------------------------------------------
    def set_class_colour(self, index: int, colour: str) -> None:
        """Give class ``index`` another colour in the views, and keep it in the project."""
        window = self.window
        window.colors.set(index, colour)  # the views share this object
        session = self.session
        if session is None:
            return
        if self.saved:
            assert self.project is not None
            try:
                self.project.set_class_colours(window.colors.as_list(len(session.classes)))
            except DamiError as error:
                self._fail(str(error))
        window.map._build_styles()  # the map's style table holds the colours
        window.map.refresh()
        window.labels.table.viewport().update()
        window.labels.row_panel.refresh()

    def _layout_ready(self, positions: object, name: str) -> None:
        """Keep a map that was just computed in the project, so reopening reuses it."""
        project = self.project
        if project is None or not self.saved or not name:
            return
        key = name.lower()
        try:
            if project.load_layout(key) is None:
                project.save_layout(key, positions)  # type: ignore[arg-type]
        except DamiError as error:
            log.warning("Could not keep the %s map in %s: %s", name, project.path.name, error)

    # -- closing -----------------------------------------------------------------------------
    def _worker_done(self) -> None:
        """A project a worker opened or wrote that nobody took (cancelled) is closed again."""
        worker = self.sender()
        for project in getattr(worker, "holder", []):
            if project is self.project:
                continue
            if getattr(worker, "cancelled_by_user", False):  # Save as project… cancelled late
                self._discard(project, getattr(worker, "created", None))
                log.info("Saving cancelled: removed %s again", project.path)
            else:
                _close_quietly(project)

    def _close_project(self) -> None:
        project, self.project = self.project, None
        if project is None:
            return
        self._session_link.drop()
        _close_quietly(project)
        log.info("Closed project %s", project.path)
        self.closed.emit()

    def close(self) -> None:
        """Close the project (the window is closing): stop saving, release the lock."""
        self.cancel_save()
        if self.source_dialog is not None:
            self.source_dialog.close()
            self.source_dialog = None
        self._close_project()

    def _fail(self, message: str) -> None:
        self.window.show_error(message)
        self.failed.emit(message)


def renamed_file_classes(session: Session) -> str | None:
    """Why ``session`` cannot become a project as it is, when a class in the file was renamed.

    A project replays the label column with the class names it stores, so those must be the
    names written in the file (see docs/app.md, Known limits).
    """
    dataset = session.dataset
    column = dataset.report.column("label")
    if column is None:
        return None
    unknown = [v for v in label_values(dataset.frame, column) if v not in dataset.classes]
    if not unknown:
        return None
    return (
        f"A class written '{unknown[0]}' in column '{column}' was renamed when the file was "
        "opened, and a project keeps the names written in the file. Open the CSV again and keep "
        "the names of the classes found in it (or rename them in the file), then save as a "
        "project."
    )


def _close_quietly(project: Project) -> None:
    try:
        project.close()
    except Exception:  # closing must never stop the app; the file is safe either way
        log.exception("Could not close %s cleanly", project.path)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        return a.absolute() == b.absolute()
