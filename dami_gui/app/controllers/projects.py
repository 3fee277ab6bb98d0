"""The open project: save as, open (a CSV that moved or changed included), autosave, close.

:class:`ProjectController` owns the open :class:`~dami_gui.core.project.journal.Project`, if
any. In a project every label, skip, undo and round is written to the ``.dami`` file before the
session changes (the project is the session's journal), so there is no *Save*.

* **Save as project…** turns the session on screen (the demo, or a CSV after the import dialog)
  into a project with :func:`~dami_gui.core.project.journal.create_project`, in a task behind a
  window-modal progress dialog. **New project from CSV…** opens a CSV and then asks where to save.
  Data opened without a project is saved at once in the user's projects folder (autosave).
* **Open project…** is :class:`~dami_gui.app.controllers.project_opener.ProjectOpener` (in the
  background, asking the user when the project's CSV moved or changed); the controller shows the
  project it opens.
* Class colours and the map (UMAP/PCA) are kept in the project and restored on open.

Opening another project, other data, or closing the window closes the current project (its lock
is released). Failures are the core's sentences (:class:`~dami_gui.core.errors.DamiError`) shown
in a dialog; the app keeps running and nothing already saved is touched. The menus, the banner
and the title that show this state are :mod:`.project_menu`; exports are :mod:`.exports`.
"""

from __future__ import annotations

import contextlib
import logging
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QSettings, QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QMainWindow

from dami_gui.app.binding import SessionLink
from dami_gui.app.controllers.loading import LoadingController, ShowSession
from dami_gui.app.controllers.map import LayoutController
from dami_gui.app.controllers.moved_project import MovedProject
from dami_gui.app.controllers.project_files import (
    CSV_FILTER,
    CSV_FOLDER_KEY,
    FOLDER_KEY,
    PROJECT_FILTER,
    SAVED_NOTE,
    SUFFIX,
    close_quietly,
    discard,
    last_folder,
    remember_project,
    renamed_file_classes,
    same_file,
)
from dami_gui.app.controllers.project_opener import ProjectOpener
from dami_gui.app.controllers.rounds import RoundController
from dami_gui.app.dialogs.saving import SavingDialog
from dami_gui.app.palette import ClassColors
from dami_gui.app.status import StatusLine
from dami_gui.app.tasks import Failure, TaskSlot
from dami_gui.core.errors import DamiError
from dami_gui.core.progress import CancelToken, ProgressCallback
from dami_gui.core.project.creating import create_project
from dami_gui.core.project.journal import Project
from dami_gui.core.session import Session

log = logging.getLogger("dami_gui.app")


class ProjectController(QObject):
    """The window's project and the long work on project files.

    The window calls :meth:`session_changed` whenever it shows another session and :meth:`close`
    when it closes. Opening a project uses the window's foreground slot (``opening``, shared
    with opening data), so Esc and the status bar's Cancel stop it like an opening CSV file.
    """

    opened = Signal(object)  # the Project now shown (opened, or saved as)
    closed = Signal()  # the project was closed
    changed = Signal()  # the session shown, its project or its rounds changed (menus, title)
    coloursChanged = Signal()  # a class colour changed: the views repaint
    failed = Signal(str)  # a sentence shown to the user
    sourceProblem = Signal(object)  # the SourceDialog just shown
    recentChanged = Signal()  # the recent list changed (a moved project found or removed)
    autosaveEnded = Signal()  # the automatic save is over (saved, failed or cancelled)

    def __init__(
        self,
        window: QMainWindow,
        status: StatusLine,
        opening: TaskSlot,
        loading: LoadingController,
        rounds: RoundController,
        layouts: LayoutController,
        show_session: ShowSession,
        autosave_folder: Path | None = None,
    ) -> None:
        super().__init__(window)
        self.window = window  # the parent of the dialogs
        self.status = status
        self.loading = loading
        self.rounds = rounds
        self.layouts = layouts
        self.show_session = show_session
        #: Where data opened without a project is saved as one at once (None: wait for the
        #: user's File → Save as project…). The app sets it; tests choose.
        self.autosave_folder = autosave_folder
        self.project: Project | None = None
        self.session: Session | None = None  # the session on screen
        self.colors = ClassColors()  # its class colours (shared with the views)
        self.save_dialog: SavingDialog | None = None
        self.save_slot = TaskSlot(self)  # Save as project…
        self.opener = ProjectOpener(window, status, opening, self._is_open)
        self.opener.loaded.connect(self._show_project)
        self.opener.failed.connect(self.failed)
        self.opener.sourceProblem.connect(self.sourceProblem)
        self.moved = MovedProject(window, status, self.open)  # a recent project that moved
        self.moved.recentChanged.connect(self.recentChanged)
        self._new_from: Path | None = None  # New project from CSV: save this CSV's session
        #: Data opened without a project is being saved at once (the window starts round 1
        #: after it: one task and one progress bar at a time, nothing to answer meanwhile).
        self.autosaving = False
        self._session_link = SessionLink(self, self._on_session)
        layouts.ready.connect(self.keep_layout)

    # -- state shown -------------------------------------------------------------------------
    @property
    def saved(self) -> bool:
        """The session on screen is kept in a project file."""
        return self.project is not None and self.project.session is self.session

    def session_changed(self, session: Session | None, colors: ClassColors) -> None:
        """The window shows ``session`` now: close a project that is not its own, update."""
        self.session, self.colors = session, colors
        if self.project is not None and self.project.session is not session:
            self._close_project()
        self._session_link.switch(session)
        self.changed.emit()
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
            and self.autosave_folder is not None
            and not renamed_file_classes(session)
        ):
            # Data opened without a project (Open CSV, the demo) is saved at once in the
            # user's projects folder, so no label given in it can be lost either.
            self.autosaving = True
            self.changed.emit()  # the banner says it is being saved
            QTimer.singleShot(0, lambda: self._autosave(session))

    def _autosave(self, session: Session) -> None:
        folder = self.autosave_folder
        if session is not self.session or self.saved or self.save_slot.running or folder is None:
            self._autosave_over()
            return
        source = session.dataset.source
        stem = Path(source).stem if source is not None else "data"
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            log.warning("Cannot create %s for automatic saving: %s", folder, error)
            self._autosave_over()
            return
        self.save_as(folder / f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}{SUFFIX}")
        if not self.save_slot.running:  # refused before it started (said already)
            self._autosave_over()

    def _autosave_over(self) -> None:
        if self.autosaving:
            self.autosaving = False
            self.changed.emit()
            self.autosaveEnded.emit()

    def _on_session(self, kind: str, payload: object) -> None:
        if kind == "round":
            self.changed.emit()
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
            csv, _ = QFileDialog.getOpenFileName(
                self.window,
                "New project: choose the CSV file to label",
                last_folder(CSV_FOLDER_KEY),
                CSV_FILTER,
            )
            if not csv:
                return
            QSettings().setValue(CSV_FOLDER_KEY, str(Path(csv).parent))
        self._new_from = Path(csv).absolute()
        self.loading.open_csv(csv)

    def _suggested_path(self, session: Session) -> str:
        source = session.dataset.source
        stem = Path(source).stem if source is not None else "project"
        folder = last_folder(FOLDER_KEY)
        if not folder and source is not None and Path(source).parent.is_dir():
            folder = str(Path(source).parent)
        return str(Path(folder or Path.home()) / f"{stem}{SUFFIX}")

    def save_as(self, path: str | Path | None = None) -> None:
        """Save the session on screen as a new project (in a task, behind a progress dialog).

        While it is written the window takes no answers (the dialog is window-modal), so the
        project and the session cannot drift apart.
        """
        session = self.session
        if session is None:
            self.status.say("Open data first (File → Open CSV… or Help → Open demo).")
            return
        if self.saved:
            assert self.project is not None
            self.status.say(f"Already saved in {self.project.path.name}. {SAVED_NOTE}")
            return
        if self.save_slot.running:
            return
        renamed = renamed_file_classes(session)
        if renamed:
            self._fail(renamed)
            return
        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                self.window,
                "Save as project",
                self._suggested_path(session),
                PROJECT_FILTER,
                options=QFileDialog.Option.DontConfirmOverwrite,  # an existing file is refused
            )
            if not path:
                return
        target = Path(path)
        if target.suffix.lower() != SUFFIX:
            target = target.with_name(target.name + SUFFIX)
        target = target.absolute()
        QSettings().setValue(FOLDER_KEY, str(target.parent))
        colours: list[str | None] = list(self.colors.as_list(len(session.classes)))

        def task(progress: ProgressCallback, cancel: CancelToken) -> Project:
            return create_project(
                target, session, colours=colours, progress=progress, cancel=cancel
            )

        where = " in your projects folder" if self.autosaving else ""
        dialog = SavingDialog(f"Saving {target.name}{where}…", self.window)
        dialog.canceled.connect(self.cancel_save)
        self.save_dialog = dialog
        dialog.open()
        self.save_slot.start(
            task,
            f"saving {target.name}",
            on_finished=lambda project: self._saved(project, target),
            on_errored=self._save_failed,
            on_cancelled=self._save_cancelled,
            on_progress=self._save_progress,
            on_discarded=lambda project: self._save_discarded(project, target),
        )

    def _save_progress(self, stage: str, fraction: float) -> None:
        if self.save_dialog is not None:
            self.save_dialog.set_text(f"{stage}…")
            self.save_dialog.set_fraction(fraction)

    def _end_save(self) -> None:
        dialog, self.save_dialog = self.save_dialog, None
        if dialog is not None:
            with contextlib.suppress(RuntimeError, TypeError):
                dialog.canceled.disconnect(self.cancel_save)
            dialog.hide()
            dialog.deleteLater()

    def cancel_save(self) -> None:
        """Stop saving as a project; a file already written is removed again."""
        self.save_slot.cancel()  # calls _save_cancelled when a save was running

    def _save_cancelled(self) -> None:
        self._end_save()
        self.status.say("Saving cancelled; no project was written.")
        self._autosave_over()

    def _save_discarded(self, project: Project, path: Path) -> None:
        """Saving was cancelled after the file was complete: remove it again."""
        discard(project, path)
        log.info("Saving cancelled: removed %s again", project.path)

    def _saved(self, project: Project, path: Path) -> None:
        try:
            self._take_saved(project, path)
        finally:
            self._autosave_over()  # round 1 may start now

    def _take_saved(self, project: Project, path: Path) -> None:
        self._end_save()
        session = project.session
        if session is not self.session:  # other data was opened meanwhile
            close_quietly(project)
            return
        if not project.in_step:  # cannot happen: the dialog is modal
            discard(project, path)
            self._fail("Labels changed while the project was being saved; save it again.")
            return
        try:  # a round that was committed while the file was written goes in now
            stored = {r[0] for r in project.store.query("SELECT idx FROM rounds")}
            for result in session.rounds:
                if result.index not in stored:
                    project.record_round(result)
        except DamiError as error:
            discard(project, path)
            self._fail(str(error))
            return
        self.project = project
        remember_project(project.path)
        self.session_changed(session, self.colors)
        if self.layouts.shown is not None:
            self.keep_layout(self.layouts.shown.positions, self.layouts.shown.name)
        self.status.say(f"Saved as {project.path.name}. {SAVED_NOTE}")
        log.info("Saved the session as %s", project.path)
        self.opened.emit(project)

    def _save_failed(self, failure: Failure) -> None:
        self._end_save()
        self.status.say("The project was not saved.")
        self._fail(failure.message)
        self._autosave_over()

    # -- open --------------------------------------------------------------------------------
    def open(self, path: str | Path | None = None) -> None:
        """Open a project (file dialog without ``path``) in the background, then show it."""
        self.opener.open(path)

    def open_recent(self, path: str | Path) -> None:
        """Open a project of the recent list; for one that is gone, ask: find it or remove it."""
        path = Path(path)
        if not path.is_file():
            self.moved.ask(path)
            return
        self.open(path)

    def _is_open(self, path: Path) -> bool:
        return self.project is not None and same_file(self.project.path, path)

    def _show_project(self, project: Project) -> None:
        session = project.session
        old, self.project = self.project, project
        if old is not None:
            self._session_link.drop()
            close_quietly(old)
        colors = self.colors
        try:
            colors = ClassColors([c or "" for c in project.class_colours])
            umap = project.load_layout("umap")
        except DamiError as error:
            log.warning("Could not read the colours or the map of %s: %s", project.path, error)
            umap = None
        if umap is not None:
            self.layouts.remember(session.dataset.X, umap)
        done, total = session.query_status()
        start = not session.rounds or (self.rounds.auto_next() and total > 0 and done == total)
        self.show_session(session, start, colors)
        remember_project(project.path)
        rounds = len(session.rounds)
        text = (
            f"Opened {project.path.name}: {session.n_labeled:,} labeled rows, {rounds} "
            f"round{'s' if rounds != 1 else ''}. {SAVED_NOTE}"
        )
        for note in project.notes:  # what was damaged in the file, set aside or computed again
            log.warning("%s", note)
            text = f"{text} {note}"
        if self.rounds.running:
            self.status.busy(text)
        else:
            self.status.idle(text)
        status = project.status
        if status is not None and (status.moved or status.changed):
            log.info("%s", status.describe())
        log.info("Opened project %s", project.path)
        self.opened.emit(project)

    # -- colours and the map -----------------------------------------------------------------
    def set_class_colour(self, index: int, colour: str) -> None:
        """Give class ``index`` another colour in the views, and keep it in the project."""
        self.colors.set(index, colour)  # the views share this object
        session = self.session
        if session is None:
            return
        if self.saved:
            assert self.project is not None
            try:
                colours: list[str | None] = list(self.colors.as_list(len(session.classes)))
                self.project.set_class_colours(colours)
            except DamiError as error:
                self._fail(str(error))
        self.coloursChanged.emit()

    def keep_layout(self, positions: np.ndarray, name: str) -> None:
        """Keep a map that was just computed in the project, so reopening reuses it."""
        project = self.project
        if project is None or not self.saved or not name:
            return
        key = name.lower()
        try:
            if project.load_layout(key) is None:
                project.save_layout(key, positions)
        except DamiError as error:
            log.warning("Could not keep the %s map in %s: %s", name, project.path.name, error)

    # -- closing -----------------------------------------------------------------------------
    def _close_project(self) -> None:
        project, self.project = self.project, None
        if project is None:
            return
        self._session_link.drop()
        close_quietly(project)
        log.info("Closed project %s", project.path)
        self.closed.emit()

    def close(self) -> None:
        """Close the project (the window is closing): stop saving, release the lock."""
        self.cancel_save()
        self.opener.close()
        self._close_project()

    def _fail(self, message: str) -> None:
        self.status.error(message)
        self.failed.emit(message)
