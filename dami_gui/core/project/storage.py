"""The project file on disk: one SQLite database per project, its schema, versions and lock.

This module knows bytes and tables, not sessions (that is :mod:`dami_gui.core.project.journal`). It
gives

* :class:`Store`: a connection opened safely (header checked before anything is written, a lock
  against a second opener, an integrity check, migrations to the current schema, WAL journal with
  full sync) and :meth:`Store.transaction`, through which every write goes, so a write either
  happens whole or not at all and every failure becomes one :class:`ProjectError` sentence;
* :func:`create_file`: a new project written under a temporary name and moved into place only
  when complete, so a failed creation leaves no file behind;
* :func:`encode_array` / :func:`decode_array` and :func:`encode_state` / :func:`decode_state`:
  numbers as bytes (numpy buffers with dtype and shape; tensors through ``torch.save`` loaded with
  ``weights_only=True``), never pickled Python objects.

The schema version is ``PRAGMA user_version``; ``PRAGMA application_id`` marks the file as ours.
A file from a newer version is refused before it is touched. See docs/project-files.md.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import socket
import sqlite3
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import torch

from dami_gui.core.errors import DamiError

#: "DAMI" in ASCII; stored as ``PRAGMA application_id`` so other SQLite files are told apart.
APPLICATION_ID = 0x44414D49
#: The schema version this code writes; older files are migrated on open, newer ones refused.
SCHEMA_VERSION = 2
SUFFIX = ".dami"
_SQLITE_MAGIC = b"SQLite format 3\x00"

# ------------------------------------------------------------------------------------- errors


class ProjectError(DamiError):
    """The project file cannot be used as asked; the message says why and what to do."""


class ProjectLocked(ProjectError):
    """Another process has the project open for writing."""


class ProjectReadOnly(ProjectError):
    """The project (or its folder) cannot be written."""


class ProjectCorrupt(ProjectError):
    """The file is damaged, truncated, or not a dami project."""


class ProjectTooNew(ProjectError):
    """The file was written by a newer dami-gui; it is left untouched."""


class DiskFull(ProjectError):
    """A write failed for lack of space; what was saved before is intact."""


_READONLY_ERRNOS = (errno.EACCES, errno.EPERM, errno.EROFS)


def translate_error(error: BaseException, path: Path, doing: str) -> ProjectError:
    """One sentence for a failed SQLite or file operation on ``path`` while ``doing`` something.

    ``doing`` names what was lost, e.g. "the label" or "the project"; the sentence says what is
    wrong and what to do. Codes are used when SQLite gives them, else the message text.
    """
    if isinstance(error, ProjectError):
        return error
    name = path.name
    text = str(error).lower()
    code = getattr(error, "sqlite_errorname", None) or ""
    err = getattr(error, "errno", None)
    if code == "SQLITE_FULL" or "disk is full" in text or err in (errno.ENOSPC, errno.EDQUOT):
        return DiskFull(
            f"The disk holding {name} is full, so {doing} was not saved; free some space and "
            "try again (everything saved before is safe)."
        )
    if code.startswith("SQLITE_READONLY") or "readonly" in text or err in _READONLY_ERRNOS:
        return ProjectReadOnly(
            f"{name} cannot be written (its folder or the file is read-only), so {doing} was not "
            "saved; copy the project to a folder you can write to and open the copy."
        )
    if code.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "database is locked" in text:
        return ProjectLocked(
            f"{name} is in use by another program, so {doing} was not saved; close the other "
            "dami window or command and try again."
        )
    if (
        code in ("SQLITE_NOTADB", "SQLITE_CORRUPT")
        or "malformed" in text
        or "not a database" in text
    ):
        return ProjectCorrupt(
            f"{name} is damaged or is not a dami project ({error}); open a backup copy, or start "
            "a new project from the CSV file with `dami project new`."
        )
    return ProjectError(
        f"{name}: {doing} could not be saved ({error}); check the disk and the folder, then try "
        "again."
    )


# ------------------------------------------------------------------------------------- schema

#: Version 1, kept verbatim: migrations start from it and the tests build v1 files with it.
SCHEMA_V1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sources (
    version INTEGER PRIMARY KEY, path TEXT NOT NULL, size INTEGER NOT NULL,
    sha256 TEXT NOT NULL, mtime REAL, n_rows INTEGER NOT NULL, key_kind TEXT NOT NULL,
    key_digests BLOB NOT NULL, content_digests BLOB NOT NULL, recorded REAL NOT NULL, note TEXT);
CREATE TABLE columns (
    position INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, role TEXT NOT NULL,
    kind TEXT NOT NULL, reason TEXT NOT NULL);
CREATE TABLE classes (code INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, row INTEGER NOT NULL, row_key TEXT NOT NULL,
    source_version INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('label', 'skip', 'undo')), label INTEGER,
    previous_label INTEGER NOT NULL, previous_skipped INTEGER NOT NULL,
    round INTEGER NOT NULL, time REAL NOT NULL, undoes INTEGER REFERENCES events (seq));
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'the label history is append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'the label history is append-only'); END;
CREATE TABLE rounds (
    idx INTEGER PRIMARY KEY, source_version INTEGER NOT NULL, events_before INTEGER NOT NULL,
    strategy TEXT NOT NULL, batch_size INTEGER NOT NULL, seed INTEGER NOT NULL,
    labeled_count INTEGER NOT NULL, accuracy_estimate REAL, test_accuracy REAL,
    train_accuracy REAL, model_spec TEXT NOT NULL, model_state BLOB NOT NULL,
    extra TEXT NOT NULL, time REAL NOT NULL);
CREATE TABLE round_arrays (
    round INTEGER NOT NULL REFERENCES rounds (idx), name TEXT NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY (round, name));
"""

#: Each entry upgrades the schema from version ``n`` to ``n + 1``; run in one transaction.
MIGRATIONS: dict[int, str] = {
    # 2: class colours (chosen in the app) and saved map layouts (N x 2 float32 per name).
    1: """
ALTER TABLE classes ADD COLUMN colour TEXT;
CREATE TABLE layouts (
    name TEXT PRIMARY KEY, source_version INTEGER NOT NULL, data BLOB NOT NULL,
    time REAL NOT NULL);
""",
}

REQUIRED_TABLES = frozenset(
    {"meta", "sources", "columns", "classes", "events", "rounds", "round_arrays", "layouts"}
)


def _run_script(conn: sqlite3.Connection, script: str) -> None:
    """Run ``;``-separated statements inside the caller's transaction (unlike executescript)."""
    statement = ""
    for line in script.strip().splitlines():
        statement += line + "\n"
        if sqlite3.complete_statement(statement):
            conn.execute(statement)
            statement = ""


def create_schema(conn: sqlite3.Connection, version: int = SCHEMA_VERSION) -> None:
    """Create the tables of schema ``version`` (1 or the current one) in an empty database."""
    _run_script(conn, SCHEMA_V1)
    for old in range(1, version):
        _run_script(conn, MIGRATIONS[old])
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {int(version)}")


# -------------------------------------------------------------------------------------- bytes

_ARRAY_MAGIC = b"DAMA"
_DTYPES = frozenset("?bBhHiIlLqQefdg")


def encode_array(array: np.ndarray, compress: bool = True) -> bytes:
    """A numeric array as bytes: magic, dtype, shape, then the (zlib-compressed) buffer."""
    array = np.ascontiguousarray(array)
    if array.dtype.char not in _DTYPES:
        raise TypeError(f"only numeric arrays are stored, not {array.dtype}")
    dtype = array.dtype.str.encode("ascii")
    payload = array.tobytes()
    packed = zlib.compress(payload, 1) if compress else payload
    header = struct.pack(
        f"<4sB{len(dtype)}sB{array.ndim}qB",
        _ARRAY_MAGIC,
        len(dtype),
        dtype,
        array.ndim,
        *array.shape,
        1 if compress else 0,
    )
    return header + packed


def decode_array(data: bytes) -> np.ndarray:
    """Inverse of :func:`encode_array`; a damaged blob raises :class:`ProjectCorrupt`."""
    try:
        data = bytes(data)
        magic, n = struct.unpack_from("<4sB", data, 0)
        if magic != _ARRAY_MAGIC:
            raise ValueError("bad magic")
        offset = 5
        dtype = np.dtype(data[offset : offset + n].decode("ascii"))
        if dtype.char not in _DTYPES:
            raise ValueError(f"dtype {dtype}")
        offset += n
        (ndim,) = struct.unpack_from("<B", data, offset)
        shape = struct.unpack_from(f"<{ndim}q", data, offset + 1)
        offset += 1 + 8 * ndim
        (compressed,) = struct.unpack_from("<B", data, offset)
        payload = data[offset + 1 :]
        if compressed:
            payload = zlib.decompress(payload)
        return np.frombuffer(payload, dtype=dtype).reshape(shape).copy()
    except (ValueError, TypeError, struct.error, zlib.error, UnicodeDecodeError) as error:
        raise ProjectCorrupt(
            f"A stored array in the project is damaged ({error}); open a backup copy of the "
            "project."
        ) from None


def encode_state(state: dict[str, torch.Tensor]) -> bytes:
    """A model's ``state_dict`` as the bytes of ``torch.save`` (tensors only)."""
    buffer = io.BytesIO()
    torch.save({k: v.detach().cpu() for k, v in state.items()}, buffer)
    return buffer.getvalue()


def decode_state(data: bytes) -> dict[str, torch.Tensor]:
    """Inverse of :func:`encode_state`, loading tensors only (``weights_only=True``)."""
    try:
        state = torch.load(io.BytesIO(bytes(data)), map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many kinds for a damaged buffer
        raise ProjectCorrupt(
            f"The stored model weights are damaged ({type(error).__name__}); run a new round to "
            "train the model again."
        ) from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ProjectCorrupt("The stored model weights are not a set of tensors; run a new round.")
    return state


# --------------------------------------------------------------------------------------- lock


class FileLock:
    """An exclusive lock on ``<project>.lock``, held while a process has the project open.

    The operating system drops the lock when the process dies (``flock`` / ``msvcrt.locking``),
    so a crash never leaves the project locked. The file holds the owner's process id and host
    for the message shown to a second opener. After locking, the path is checked to still name
    the locked file, so removing the lock file on release is safe.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self, project: Path) -> None:
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as error:
                raise translate_error(error, project, "the project") from None
            if not _try_lock(fd):
                owner = _read_owner(fd)
                os.close(fd)
                raise ProjectLocked(
                    f"{project.name} is open in another dami window or command{owner}; close it "
                    "there first, or open a copy of the file."
                )
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except OSError:
                same = False
            if same:
                break
            os.close(fd)  # released and removed by its owner meanwhile: lock the new one
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {socket.gethostname()} {time.time():.0f}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        with contextlib.suppress(OSError):
            os.close(self._fd)  # closing drops the lock
        self._fd = None


def _try_lock(fd: int) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


def _read_owner(fd: int) -> str:
    try:
        text = os.pread(fd, 200, 0).decode("utf-8", "replace").split()
    except (OSError, AttributeError):
        return ""
    return f" (process {text[0]} on {text[1]})" if len(text) >= 2 else ""


# -------------------------------------------------------------------------------------- store


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
    try:
        with path.open("rb") as handle:
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
    # a cut-off file: fewer bytes than the pages the header counts (when that count is valid)
    (page_size,) = struct.unpack_from(">H", head, 16)
    page_size = 65536 if page_size == 1 else page_size
    counter, pages = struct.unpack_from(">II", head, 24)
    (valid_for,) = struct.unpack_from(">I", head, 92)
    if counter == valid_for and path.stat().st_size < pages * page_size:
        raise ProjectCorrupt(
            f"{path.name} is truncated ({path.stat().st_size} of {pages * page_size} bytes), so "
            "it is damaged; open a backup copy, or start a new project from the CSV file."
        )
    return version, app_id


class Store:
    """An open project file. Writes go through :meth:`transaction`; close with :meth:`close`.

    ``readonly=True`` reads without locking and refuses every write (for status and export while
    the app has the project open, or for a file in a read-only folder).
    """

    def __init__(self, path: str | Path, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        self.conn: sqlite3.Connection
        self._lock: FileLock | None = None
        self._mutex = threading.RLock()  # the app writes from its GUI thread and may read elsewhere
        self._depth = 0
        self._open()

    # ----------------------------------------------------------------------------- opening
    def _open(self) -> None:
        path = self.path
        version, app_id = read_header(path)
        if app_id not in (0, APPLICATION_ID) or (app_id == 0 and version == 0):
            raise ProjectCorrupt(
                f"{path.name} is an SQLite database but not a dami project; choose a .dami file."
            )
        _refuse_newer(path, version)
        folder_writable = os.access(path.parent, os.W_OK)
        if not self.readonly:
            if not folder_writable or not os.access(path, os.W_OK):
                raise ProjectReadOnly(
                    f"{path.name} cannot be changed because it or its folder ({path.parent}) is "
                    "read-only; copy it to a folder you can write to, or open it read-only."
                )
            self._lock = FileLock(path.with_name(path.name + ".lock"))
            self._lock.acquire(path)
        self.conn = None  # type: ignore[assignment]
        try:
            self.conn = self._connect(folder_writable)
            self._check()
        except BaseException:
            if self.conn is not None:
                self.conn.close()
                self.conn = None  # type: ignore[assignment]
            self._release()
            raise

    def _connect(self, folder_writable: bool) -> sqlite3.Connection:
        path = self.path
        try:
            if self.readonly:
                mode = "ro" if folder_writable else "ro&immutable=1"
                uri = f"{path.resolve().as_uri()}?mode={mode}"
                conn = sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=10)
            else:
                conn = sqlite3.connect(path, check_same_thread=False, timeout=10)
            conn.isolation_level = None  # explicit transactions only
            return conn
        except sqlite3.Error as error:
            raise translate_error(error, path, "the project") from None

    def _check(self) -> None:
        """Integrity, version and tables; then WAL and migrations for a writable store."""
        path, conn = self.path, self.conn
        try:
            result = conn.execute("PRAGMA quick_check").fetchone()
            if result is None or result[0] != "ok":
                raise sqlite3.DatabaseError(f"database disk image is malformed: {result}")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            _refuse_newer(path, version)
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
        except sqlite3.Error as error:
            raise translate_error(error, path, "the project") from None
        missing = REQUIRED_TABLES - tables
        if missing:
            raise ProjectCorrupt(
                f"{path.name} is damaged: it lacks the table(s) {', '.join(sorted(missing))}; "
                "open a backup copy, or start a new project from the CSV file."
            )

    def _migrate(self, version: int) -> None:
        """Upgrade from ``version`` step by step, after copying the file to ``*.v<version>.bak``."""
        if version < 1:
            raise ProjectCorrupt(
                f"{self.path.name} has no project format version; it is not a dami project."
            )
        backup = self.path.with_name(f"{self.path.name}.v{version}.bak")
        target = sqlite3.connect(backup)
        try:
            self.conn.backup(target)
        finally:
            target.close()
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            for old in range(version, SCHEMA_VERSION):
                _run_script(self.conn, MIGRATIONS[old])
                self.conn.execute(f"PRAGMA user_version = {old + 1}")
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    # ----------------------------------------------------------------------------- using
    @contextlib.contextmanager
    def transaction(self, doing: str) -> Iterator[sqlite3.Connection]:
        """Run the block's writes as one transaction; on failure nothing of it is kept.

        Nested blocks join the outer one. Every SQLite or disk error becomes a
        :class:`ProjectError` saying that ``doing`` (e.g. "the label") was not saved.
        """
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

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Rows of a read; errors become a :class:`ProjectError`."""
        with self._mutex:
            try:
                return self.conn.execute(sql, params).fetchall()
            except sqlite3.Error as error:
                raise translate_error(error, self.path, "reading the project") from None

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        rows = self.query("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else default

    def checkpoint(self, mode: str = "TRUNCATE") -> None:
        """Fold the write-ahead log into the file, so a plain copy of the .dami is complete.

        TRUNCATE (on close) waits for readers and empties the log; PASSIVE does what it can now.
        """
        if self.readonly or mode not in ("PASSIVE", "TRUNCATE"):
            return
        with self._mutex, contextlib.suppress(sqlite3.Error):
            self.conn.execute(f"PRAGMA wal_checkpoint({mode})")

    def close(self) -> None:
        """Checkpoint, close and release the lock; safe to call twice."""
        if getattr(self, "conn", None) is not None:
            self.checkpoint()
            with contextlib.suppress(sqlite3.Error):
                self.conn.close()
            self.conn = None  # type: ignore[assignment]
        self._release()

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None


def _refuse_newer(path: Path, version: int) -> None:
    if version > SCHEMA_VERSION:
        raise ProjectTooNew(
            f"{path.name} was saved by a newer version of dami-gui (project format {version}; "
            f"this version reads up to {SCHEMA_VERSION}); update dami-gui to open it. The file "
            "was not changed."
        )


def create_file(path: str | Path, fill: Callable[[sqlite3.Connection], None]) -> Path:
    """Write a new project at ``path`` with ``fill(conn)``, all or nothing.

    The database is built under a hidden temporary name in the same folder, in one transaction,
    and linked to ``path`` only when complete; an existing ``path`` is never replaced. On any
    failure (including :class:`~dami_gui.core.errors.Cancelled`) nothing is left behind.
    """
    path = Path(path)
    if path.exists():
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
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    leftovers = [temp, temp.with_name(temp.name + "-journal")]
    try:
        conn = sqlite3.connect(temp)
        try:
            conn.isolation_level = None
            conn.execute("BEGIN IMMEDIATE")
            create_schema(conn)
            fill(conn)
            conn.execute("COMMIT")
        finally:
            conn.close()
        _publish(temp, path)
    except BaseException as error:
        for leftover in leftovers:
            with contextlib.suppress(OSError):
                leftover.unlink()
        if isinstance(error, sqlite3.Error | OSError):
            raise translate_error(error, path, "the project") from None
        raise
    return path


def _publish(temp: Path, path: Path) -> None:
    """Give the finished file its name without ever replacing another file."""
    try:
        os.link(temp, path)
    except FileExistsError:
        raise ProjectError(
            f"{path} was created by someone else meanwhile; choose another name."
        ) from None
    except OSError:  # a file system without hard links
        if path.exists():
            raise ProjectError(f"{path} already exists; choose another name.") from None
        os.replace(temp, path)
        return
    temp.unlink()
