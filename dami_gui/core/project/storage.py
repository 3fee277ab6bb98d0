"""The project file on disk: one SQLite database per project, opened safely and written whole.

This module knows tables, not sessions (that is :mod:`dami_gui.core.project.journal`). It gives

* :class:`Store`: a connection opened safely (header checked before anything is written, a lock
  against a second opener, an integrity check, migrations to the current schema, WAL journal with
  full sync) and :meth:`Store.transaction`, through which every write goes, so a write either
  happens whole or not at all and every failure becomes one :class:`ProjectError` sentence;
* :func:`create_file`: a new project written under a temporary name and moved into place only
  when complete, so a failed creation leaves no file behind.

No file beside the project is ever opened through a link (:mod:`.sidecars`). Reading sees every
saved change, those still in the write-ahead log included; a log that closing could not fold into
the file is reported (:class:`~dami_gui.core.project.errors.NotCheckpointed`), never left silent.

The tables and their versions are in :mod:`dami_gui.core.project.schema`, numbers as bytes in
:mod:`dami_gui.core.project.arrays`, the lock in :mod:`dami_gui.core.project.lock`, the errors
in :mod:`dami_gui.core.project.errors`. See docs/project-files.md.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import struct
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from dami_gui.core.project import sidecars
from dami_gui.core.project.errors import (
    ProjectCorrupt,
    ProjectError,
    ProjectReadOnly,
    checkpoint_error,
    translate_error,
)
from dami_gui.core.project.lock import FileLock
from dami_gui.core.project.schema import (
    APPLICATION_ID,
    MIGRATIONS,
    REQUIRED_TABLES,
    SCHEMA_VERSION,
    create_schema,
    refuse_newer,
    run_script,
)
from dami_gui.core.untrusted import open_regular

SUFFIX = ".dami"
#: One row of a query: SQLite values (int, float, str, bytes or None), unchecked.
Row = tuple[Any, ...]
_SQLITE_MAGIC = b"SQLite format 3\x00"


def read_header(path: Path) -> tuple[int, int]:
    """(schema version, application id) from the file header, read without opening SQLite.

    Raises :class:`ProjectError` for a missing path or a folder, :class:`ProjectCorrupt` for a
    file that is not an SQLite database at all (empty, truncated header, another format).
    """
    if not path.exists():
        raise ProjectError(
            f"The project {path} does not exist; check its name and folder, or create it with "
            "`dami project new`."
        )
    if path.is_dir():
        raise ProjectError(f"{path} is a folder, not a project file; choose a .dami file.")
    # a regular file only: a named pipe or a device would make this read (or SQLite) wait
    with open_regular(path, "a project file", ProjectError) as handle:
        size = os.fstat(handle.fileno()).st_size
        try:
            head = handle.read(100)
        except OSError as error:
            raise ProjectError(
                f"{path.name} cannot be read ({error.strerror or error}); check access to it."
            ) from None
    if len(head) < 100 or not head.startswith(_SQLITE_MAGIC):
        what = "empty" if not head else "truncated or not a project file"
        raise ProjectCorrupt(
            f"{path.name} is {what}, not a dami project; open a backup copy, or start a new "
            "project from the CSV file with `dami project new`."
        )
    version, app_id = struct.unpack_from(">i", head, 60)[0], struct.unpack_from(">i", head, 68)[0]
    # a cut-off file: fewer bytes than the pages the header counts (when that count is valid).
    # Not while the write-ahead log holds changes: the missing pages may be there (a checkpoint
    # cut short by a full disk), and SQLite reads them from it; the integrity check decides.
    (page_size,) = struct.unpack_from(">H", head, 16)
    page_size = 65536 if page_size == 1 else page_size
    counter, pages = struct.unpack_from(">II", head, 24)
    (valid_for,) = struct.unpack_from(">I", head, 92)
    logged = sidecars.wal_has_data(Path(os.path.realpath(path)))
    if counter == valid_for and size < pages * page_size and not logged:
        raise ProjectCorrupt(
            f"{path.name} is truncated ({size} of {pages * page_size} bytes), so "
            "it is damaged; open a backup copy, or start a new project from the CSV file."
        )
    return version, app_id


def _text(data: bytes) -> str:
    """Stored text as ``str``; bytes that are not UTF-8 stay recognisable (lone surrogates), so
    the checks of :mod:`.checks` refuse that one value instead of the whole read failing."""
    return data.decode("utf-8", "surrogateescape")


class Store:
    """An open project file. Writes go through :meth:`transaction`; close with :meth:`close`.

    ``readonly=True`` reads without locking and refuses every write (for status and export while
    the app has the project open, or for a file in a read-only folder). It sees the changes still
    in the write-ahead log, and leaves nothing beside the file that its owner could not use (see
    :func:`~dami_gui.core.project.sidecars.reader_plan`).
    """

    def __init__(self, path: str | Path, readonly: bool = False) -> None:
        self.path = Path(path)
        #: The file itself (``path`` may be a link to it): its lock and logs are beside it.
        self.real = Path(os.path.realpath(self.path))
        self.readonly = readonly
        self.conn: sqlite3.Connection
        self._closed = False
        self._lock: FileLock | None = None
        self._mutex = threading.RLock()  # the app writes from its GUI thread and may read elsewhere
        self._depth = 0
        self._stamp: tuple[object, ...] | None = None  # read without locks: what must not change
        self._copy: Path | None = None  # a private copy read instead (see reader_plan)
        self._open()

    # ----------------------------------------------------------------------------- opening
    def _open(self) -> None:
        path = self.path
        version, app_id = read_header(path)
        if app_id not in (0, APPLICATION_ID) or (app_id == 0 and version == 0):
            raise ProjectCorrupt(
                f"{path.name} is an SQLite database but not a dami project; choose a .dami file."
            )
        refuse_newer(path, version)
        sidecars.check_sidecars(self.real)
        if not self.readonly:
            if not os.access(self.real.parent, os.W_OK) or not os.access(self.real, os.W_OK):
                raise ProjectReadOnly(
                    f"{path.name} cannot be changed because it or its folder "
                    f"({self.real.parent}) is read-only; copy it to a folder you can write to, or "
                    "open it read-only."
                )
            self._lock = FileLock(sidecars.sidecar(self.real, ".lock"))
            self._lock.acquire(path)
        conn: sqlite3.Connection | None = None
        try:
            if not self.readonly:
                sidecars.clear_unusable_logs(self.real)
            left_in_log = sidecars.wal_has_data(self.real)
            conn = self.conn = self._connect()
            self._check()
        except BaseException:
            if conn is not None:
                conn.close()
            self._release()
            if self._copy is not None:
                sidecars.remove_copy(self._copy)
            raise
        if left_in_log and not self.readonly:
            # changes a crash or a full disk left in the log: SQLite has read them; fold them in
            # now if there is room (if not, they stay safe in the log and closing says so)
            with contextlib.suppress(ProjectError):
                self.checkpoint()

    def _connect(self) -> sqlite3.Connection:
        path = self.real
        try:
            if not self.readonly:
                conn = sqlite3.connect(path, check_same_thread=False, timeout=10)
            else:
                stamp = sidecars.stamp(path)  # before the plan: a writer after it is noticed
                plan = sidecars.reader_plan(path)
                if plan == "immutable" and (not stamp or stamp[-1]):
                    plan = "shared"  # a log appeared meanwhile
                if plan == "copy":
                    self._copy, copy = sidecars.private_copy(path)
                    conn = sqlite3.connect(copy, check_same_thread=False)
                    conn.execute("PRAGMA query_only = ON")
                else:
                    mode = "ro" if plan == "shared" else "ro&immutable=1"
                    if plan == "immutable":
                        self._stamp = stamp
                    uri = f"{path.as_uri()}?mode={mode}"
                    conn = sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=10)
            conn.isolation_level = None  # explicit transactions only
            conn.text_factory = _text  # damaged text reaches the checks, not a UnicodeDecodeError
            return conn
        except sqlite3.Error as error:
            raise translate_error(error, self.path, "the project", "opened") from None

    def _check(self) -> None:
        """Integrity, version and tables; then WAL and migrations for a writable store."""
        path, conn = self.path, self.conn
        try:
            result = conn.execute("PRAGMA quick_check").fetchone()
            self._check_unchanged()
            if result is None or result[0] != "ok":
                raise sqlite3.DatabaseError(f"database disk image is malformed: {result}")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            refuse_newer(path, version)
            if not self.readonly:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = FULL")  # a committed label survives power loss
                conn.execute("PRAGMA foreign_keys = ON")
                if version < SCHEMA_VERSION:
                    self._migrate(version)
            elif version < SCHEMA_VERSION:
                raise ProjectReadOnly(
                    f"{path.name} uses an older project format that must be upgraded before it "
                    "can be read; open it once where it can be written."
                )
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        except (sqlite3.Error, UnicodeDecodeError) as error:
            self._check_unchanged()
            raise translate_error(error, path, "the project", "opened") from None
        missing = REQUIRED_TABLES - tables
        if missing:
            raise ProjectCorrupt(
                f"{path.name} is damaged: it lacks the table(s) {', '.join(sorted(missing))}; "
                "open a backup copy, or start a new project from the CSV file."
            )

    def _check_unchanged(self) -> None:
        """Read without locks: refuse what was read if a writer changed the file meanwhile."""
        if self._stamp is not None and sidecars.stamp(self.real) != self._stamp:
            raise ProjectError(
                f"{self.path.name} was changed by another dami window or command while it was "
                "being read; run this again."
            )

    def _migrate(self, version: int) -> None:
        """Upgrade from ``version`` step by step, after copying the file to ``*.v<version>.bak``."""
        if version < 1:
            raise ProjectCorrupt(
                f"{self.path.name} has no project format version; it is not a dami project."
            )
        self._backup(version)
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            for old in range(version, SCHEMA_VERSION):
                run_script(self.conn, MIGRATIONS[old])
                self.conn.execute(f"PRAGMA user_version = {old + 1}")
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    def _backup(self, version: int) -> Path:
        """Copy the file to ``<name>.v<version>.bak`` (the first such name that is free).

        Written whole under a new hidden name, then linked: an existing backup, or a link put
        under that name, is never written through or replaced.
        """
        stem = f"{self.real.name}.v{version}"
        names = [self.real.with_name(f"{stem}.bak")]
        names += [self.real.with_name(f"{stem}-{i}.bak") for i in range(2, 100)]
        temp: Path | None = None
        try:
            temp = sidecars.new_temp(self.real)
            target = sqlite3.connect(temp)
            try:
                self.conn.backup(target)
            finally:
                target.close()
            return sidecars.publish_free(temp, names)
        except (OSError, sqlite3.Error) as error:
            raise translate_error(error, self.path, "the backup before the upgrade") from None
        finally:
            if temp is not None:
                for leftover in (temp, sidecars.sidecar(temp, "-journal")):
                    with contextlib.suppress(OSError):
                        leftover.unlink()

    # ----------------------------------------------------------------------------- using
    @contextlib.contextmanager
    def transaction(self, doing: str) -> Iterator[sqlite3.Connection]:
        """Run the block's writes as one transaction; on failure nothing of it is kept.

        Nested blocks join the outer one. Every SQLite or disk error becomes a
        :class:`ProjectError` saying that ``doing`` (e.g. "the label") was not saved.
        """
        self._check_open()
        if self.readonly:
            raise ProjectReadOnly(
                f"{self.path.name} is open read-only, so {doing} cannot be saved; open it for "
                "writing."
            )
        with self._mutex:
            outer = self._depth == 0
            try:
                if outer:
                    self.conn.execute("BEGIN IMMEDIATE")
                self._depth += 1
                try:
                    yield self.conn
                finally:
                    self._depth -= 1
                if outer:
                    self.conn.execute("COMMIT")
            except BaseException as error:
                if outer:
                    with contextlib.suppress(sqlite3.Error):
                        self.conn.execute("ROLLBACK")
                if isinstance(error, sqlite3.Error | OSError):
                    raise translate_error(error, self.path, doing) from None
                raise

    def query(self, sql: str, params: Row = ()) -> list[Row]:
        """Rows of a read; errors become a :class:`ProjectError`."""
        self._check_open()
        with self._mutex:
            try:
                rows = self.conn.execute(sql, params).fetchall()
            except (sqlite3.Error, UnicodeDecodeError) as error:
                self._check_unchanged()
                raise translate_error(error, self.path, "the project", "read") from None
            self._check_unchanged()
            return rows

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        rows = self.query("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else default

    def checkpoint(self, mode: str = "TRUNCATE") -> None:
        """Fold the write-ahead log into the file, so a plain copy of the .dami is complete.

        TRUNCATE (on close) waits for readers and empties the log; PASSIVE does what it can now.
        Raises :class:`~dami_gui.core.project.errors.NotCheckpointed` when the file cannot be
        written (a full disk): nothing is lost, the changes stay in the log.
        """
        if self._closed or self.readonly or mode not in ("PASSIVE", "TRUNCATE"):
            return
        with self._mutex:
            try:
                self.conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchall()
            except sqlite3.Error as error:
                raise checkpoint_error(error, self.path) from None

    def close(self) -> None:
        """Checkpoint, close and release the lock; safe to call twice.

        A checkpoint that fails is raised after everything is closed and released
        (:class:`~dami_gui.core.project.errors.NotCheckpointed`: every change is safe in the log).
        """
        failure: ProjectError | None = None
        if not self._closed:
            try:
                self.checkpoint()
            except ProjectError as error:
                failure = error
            with contextlib.suppress(sqlite3.Error):
                self.conn.close()
            self._closed = True
        self._release()
        if self._copy is not None:
            sidecars.remove_copy(self._copy)
            self._copy = None
        if failure is not None:
            raise failure

    def _check_open(self) -> None:
        if self._closed:
            raise ProjectError(f"{self.path.name} has been closed; open the project again.")

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None


def create_file(path: str | Path, fill: Callable[[sqlite3.Connection], None]) -> Path:
    """Write a new project at ``path`` with ``fill(conn)``, all or nothing.

    The database is built under a new hidden name in the same folder, in one transaction, and
    linked to ``path`` only when complete; an existing ``path`` (or a link there) is never
    replaced. On any failure (including :class:`~dami_gui.core.errors.Cancelled`) nothing is left
    behind.
    """
    path = Path(path)
    if os.path.lexists(path):
        raise ProjectError(
            f"{path} already exists; choose another name, or delete that file first."
        )
    if not path.parent.is_dir():
        raise ProjectError(f"The folder {path.parent} does not exist; create it or choose another.")
    if not os.access(path.parent, os.W_OK):
        raise ProjectReadOnly(
            f"The folder {path.parent} is read-only, so the project cannot be created there; "
            "choose a folder you can write to."
        )
    temp: Path | None = None
    try:
        temp = sidecars.new_temp(path)
        conn = sqlite3.connect(temp)
        try:
            conn.isolation_level = None
            conn.execute("BEGIN IMMEDIATE")
            create_schema(conn)
            fill(conn)
            conn.execute("COMMIT")
        finally:
            conn.close()
        sidecars.publish(temp, path)
    except FileExistsError:
        raise ProjectError(
            f"{path} was created by someone else meanwhile; choose another name."
        ) from None
    except BaseException as error:
        if isinstance(error, sqlite3.Error | OSError):
            raise translate_error(error, path, "the new project", "created") from None
        raise
    finally:
        if temp is not None:
            for leftover in (temp, sidecars.sidecar(temp, "-journal")):
                with contextlib.suppress(OSError):
                    leftover.unlink()
    return path
