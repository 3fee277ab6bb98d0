"""The tables of a project file, their versions and the migrations between them.

The schema version is ``PRAGMA user_version``; ``PRAGMA application_id`` marks the file as ours.
Each migration upgrades one version to the next; a file from a newer version is refused before
it is touched. See docs/project-files.md.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from dami_gui.core.project.errors import ProjectTooNew

#: "DAMI" in ASCII; stored as ``PRAGMA application_id`` so other SQLite files are told apart.
APPLICATION_ID = 0x44414D49
#: The schema version this code writes; older files are migrated on open, newer ones refused.
SCHEMA_VERSION = 3

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
    # 3: per version of the CSV file, every row's key (a JSON list of text, as a compressed
    # array of its bytes) and the class code of its label cell (-1: empty), so that labeling
    # from the shell need not read an unchanged file (source.encode_rows); NULL for versions
    # recorded before (filled in by the next open that reads the unchanged file).
    2: """
ALTER TABLE sources ADD COLUMN row_keys BLOB;
ALTER TABLE sources ADD COLUMN file_labels BLOB;
""",
}

REQUIRED_TABLES = frozenset(
    {"meta", "sources", "columns", "classes", "events", "rounds", "round_arrays", "layouts"}
)


def run_script(conn: sqlite3.Connection, script: str) -> None:
    """Run ``;``-separated statements inside the caller's transaction (unlike executescript)."""
    statement = ""
    for line in script.strip().splitlines():
        statement += line + "\n"
        if sqlite3.complete_statement(statement):
            conn.execute(statement)
            statement = ""


def create_schema(conn: sqlite3.Connection, version: int = SCHEMA_VERSION) -> None:
    """Create the tables of schema ``version`` (1 or the current one) in an empty database."""
    run_script(conn, SCHEMA_V1)
    for old in range(1, version):
        run_script(conn, MIGRATIONS[old])
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {int(version)}")


def refuse_newer(path: Path, version: int) -> None:
    """Raise :class:`ProjectTooNew` for a file whose schema ``version`` this code cannot read."""
    if version > SCHEMA_VERSION:
        raise ProjectTooNew(
            f"{path.name} was saved by a newer version of dami-gui (project format {version}; "
            f"this version reads up to {SCHEMA_VERSION}); update dami-gui to open it. The file "
            "was not changed."
        )
