"""Which row is which across edits of the CSV file: row identities, and what changed.

A project does not copy its CSV file; it re-reads it on every open. A label belongs to a row, not
to a line number, so when the file is edited (rows added, removed, sorted, cells corrected) a
saved label must follow its row, or be reported as lost, and never land on another row by
position. Each row gets a *key*: the id column's value when the table has one, else a hash of the
row's cells (the label cell left out, so filling in labels in the file keeps the key; the k-th
repeat of an identical row gets ``#k``). A *content digest* over all cells tells an edited row
from an unchanged one. The stored 64-bit digests of every row let a later open say how many rows
were added, removed and edited (:class:`SourceStatus`).

Each version also keeps every row's key and the class code of its label cell
(:func:`encode_rows`, since format 3): with the file's size and SHA-256, that is all labeling
needs, so a label, skip or undo from the shell need not read an unchanged file (issue 24).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dami_gui.core.errors import DataError
from dami_gui.core.progress import Reporter
from dami_gui.core.project.arrays import decode_array, encode_array
from dami_gui.core.project.errors import ProjectError
from dami_gui.core.untrusted import names, open_regular

if TYPE_CHECKING:
    from dami_gui.core.data.dataset import Dataset

__all__ = [
    "RowKeys",
    "SourceChanged",
    "SourceMissing",
    "SourceStatus",
    "compare_rows",
    "decode_rows",
    "encode_rows",
    "hash_file",
    "record_source",
    "remap_arrays",
    "row_keys",
    "rows_of_old",
]


@dataclass
class RowKeys:
    """Identity of every row: ``keys`` (text) and 64-bit blake2b digests of keys and whole rows."""

    kind: str  # "id" (the id column's values) or "content" (a hash of the cells)
    keys: np.ndarray  # object array of str, all different
    key_digests: np.ndarray  # uint64 (N,)
    content_digests: np.ndarray  # uint64 (N,)

    def index(self) -> dict[str, int]:
        """Key -> row number."""
        return {key: i for i, key in enumerate(self.keys.tolist())}


def _digest64(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")


def _cell(value: object) -> str:
    return "\x00" if value is None else str(value)


def row_keys(dataset: Dataset, reporter: Reporter | None = None) -> RowKeys:
    """Keys and digests of every row of ``dataset``.

    Only the columns named in the dataset's roles count, in name order, so a column added to the
    file or moved does not change any row's identity. Cells are compared as the text the roles
    see (whole numbers without ".0", stripped text, empty for missing).
    """
    from dami_gui.core.data.cells import text_values  # reads the table: pandas

    reporter = reporter or Reporter()
    frame, report = dataset.frame, dataset.report
    label_column, id_column = report.column("label"), report.column("id")
    columns = sorted(d.column for d in report.decisions if d.column in frame.columns)
    texts = [text_values(frame[c]).to_numpy(dtype=object) for c in columns]
    key_texts = [t for c, t in zip(columns, texts, strict=True) if c != label_column]
    n = len(frame)
    keys = np.empty(n, dtype=object)
    key_digests = np.empty(n, dtype=np.uint64)
    content_digests = np.empty(n, dtype=np.uint64)
    seen: dict[str, int] = {}
    step = max(1, n // 50)
    for i in range(n):
        if i % step == 0:
            reporter("Matching rows", i / n)
            reporter.check()
        content_digests[i] = _digest64("\x1f".join(_cell(t[i]) for t in texts))
        if id_column is not None:
            key = str(dataset.ids[i])
        else:
            cells = "\x1f".join(_cell(t[i]) for t in key_texts).encode("utf-8")
            key = hashlib.blake2b(cells, digest_size=16).hexdigest()
            repeat = seen.get(key, 0)
            seen[key] = repeat + 1
            key = f"{key}#{repeat}" if repeat else key
        keys[i] = key
        key_digests[i] = _digest64(key)
    reporter("Matching rows", 1.0)
    return RowKeys("id" if id_column else "content", keys, key_digests, content_digests)


def hash_file(path: Path, reporter: Reporter | None = None) -> tuple[str, int]:
    """(sha256 hex, size) of ``path``, read in 4 MiB blocks with progress and cancel."""
    reporter = reporter or Reporter()
    digest = hashlib.sha256()
    try:
        with open_regular(path, "a CSV file") as handle:  # never a named pipe: it would wait
            size = os.fstat(handle.fileno()).st_size
            while block := handle.read(4 << 20):
                digest.update(block)
                reporter("Checking the file", handle.tell() / max(size, 1))
                reporter.check()
    except OSError as error:
        raise DataError(
            f"{path.name} cannot be read ({error.strerror or error}); check access to it."
        ) from None
    return digest.hexdigest(), size


def record_source(
    conn: sqlite3.Connection,
    version: int,
    path: Path,
    size: int,
    sha: str,
    keys: RowKeys,
    file_labels: np.ndarray,
    note: str,
    folder: Path,
) -> None:
    """Add version ``version`` of the CSV file to the project's ``sources`` table.

    ``size`` and ``sha`` come from :func:`hash_file`, ``keys`` from :func:`row_keys`,
    ``file_labels`` are the class codes of the label cells (``Dataset.y`` as read); ``note``
    says why the version was recorded ("created", "moved", "accepted changes"). The path is
    stored relative to ``folder``, the project's, so that a folder moved or copied with its
    project and CSV file keeps working (absolute when there is no relative path, e.g. another
    drive).
    """
    conn.execute(
        "INSERT INTO sources (version, path, size, sha256, mtime, n_rows, key_digests, "
        "content_digests, recorded, note, key_kind, row_keys, file_labels) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            version,
            relative_path(path, folder),
            size,
            sha,
            path.stat().st_mtime,
            len(keys.keys),
            encode_array(keys.key_digests),
            encode_array(keys.content_digests),
            time.time(),
            note,
            *encode_rows(keys, file_labels),
        ),
    )


#: The longest row key a project keeps (an event's key is read back with the same bound).
MAX_KEY = 1000


def encode_rows(keys: RowKeys, file_labels: np.ndarray) -> tuple[str, bytes, bytes]:
    """What a version of the file keeps for labeling without reading it (the ``sources`` columns
    ``key_kind``, ``row_keys``, ``file_labels``): the kind of its row keys, every row's key (a
    JSON list of text, in ASCII, its bytes stored as a compressed array: a content key's 32
    hexadecimal digits take about 20 bytes) and the class code of its label cell (-1: empty)."""
    listed = json.dumps(keys.keys.tolist()).encode("ascii")
    labels = np.asarray(file_labels, dtype=np.int64)
    return keys.kind, encode_array(np.frombuffer(listed, np.uint8)), encode_array(labels)


def decode_rows(
    kind: object,
    keys_blob: object,
    labels_blob: object,
    key_digests: np.ndarray,
    content_digests: np.ndarray,
    n_classes: int,
) -> tuple[RowKeys, np.ndarray]:
    """Inverse of :func:`encode_rows`, with the stored digests of the same version: the
    :class:`RowKeys` and the file's class codes, or ``ValueError`` when they are not stored
    (a version recorded before format 3) or make no sense (one key per row, all different and
    at most :data:`MAX_KEY` characters; codes from -1 to ``n_classes - 1``)."""
    n = len(key_digests)
    if kind not in ("id", "content") or len(content_digests) != n:
        raise ValueError(f"row keys of kind {kind!r}")
    try:
        listed = decode_array(keys_blob, n * (6 * MAX_KEY + 3) + 2, "The row keys")  # "\uXXXX"
        labels = decode_array(labels_blob, 8 * n, "The labels of the CSV file")
        if listed.dtype != np.uint8 or listed.ndim != 1:
            raise ValueError(f"row keys of type {listed.dtype}")
        stored = json.loads(listed.tobytes().decode("ascii"))
    except (ProjectError, RecursionError) as error:
        raise ValueError(str(error)) from None
    keys = names(stored, "row keys", n, MAX_KEY)
    if len(keys) != n:
        raise ValueError(f"{len(keys)} row keys for {n} rows")
    if labels.shape != (n,) or labels.dtype.kind not in "iu":
        raise ValueError(f"file labels of shape {labels.shape}")
    if n and not (labels.min() >= -1 and labels.max() < n_classes):
        raise ValueError("file labels out of range")
    rows = RowKeys(str(kind), np.array(keys, dtype=object), key_digests, content_digests)
    return rows, labels.astype(np.int64)


def relative_path(path: Path, folder: Path) -> str:
    """``path`` as text relative to ``folder`` ("pool.csv", "../data/pool.csv") when possible."""
    try:
        return os.path.relpath(os.path.abspath(path), os.path.abspath(folder))
    except ValueError:  # Windows: another drive
        return str(Path(path).absolute())


@dataclass
class SourceStatus:
    """How the CSV file found now relates to the one the project was saved with.

    Rows are matched by key (id or content), never by position.
    """

    stored_path: Path
    path: Path
    found: bool = True
    moved: bool = False  # found under another path than the stored one
    changed: bool = False  # its bytes differ from the stored ones
    rows_before: int = 0
    rows_after: int = 0
    added: int = 0
    removed: int = 0
    edited: int = 0  # same key, other cell values
    labels_lost: int = 0  # rows with a label event that are no longer in the file
    matched_by: str = ""
    #: False: the file is not the recorded one and was not compared row by row (not read: it
    #: lies outside the project's folder, or cannot be read as the project's table).
    compared: bool = True

    @property
    def same_rows(self) -> bool:
        """Every row is still there, unedited (the bytes may differ, e.g. line endings)."""
        return self.found and not (self.added or self.removed or self.edited)

    def describe(self) -> str:
        """One sentence saying what changed."""
        if not self.found:
            return f"The CSV file {self.stored_path} of this project was not found."
        where = f" (now at {self.path})" if self.moved else ""
        if not self.changed:
            return f"The CSV file {self.path.name}{where} is unchanged."
        if not self.compared:
            return (
                f"The CSV file {self.path} is not the file this project was saved with (its size "
                "or content differ), and it was not compared with it."
            )
        text = (
            f"The CSV file {self.path.name}{where} changed since the project was saved: "
            f"{self.added} rows added, {self.removed} removed, {self.edited} edited "
            f"({self.rows_before} rows before, {self.rows_after} now, matched by "
            f"{self.matched_by})"
        )
        if self.labels_lost:
            text += f"; {self.labels_lost} of the rows you labeled are no longer in it"
        return text + "."


class SourceMissing(ProjectError):
    """The project's CSV file is not where it was; ``status`` says where it was looked for."""

    def __init__(self, status: SourceStatus, project: Path) -> None:
        self.status = status
        super().__init__(
            f"{status.describe()} Locate it: `dami project relocate {project.name} NEW.csv` "
            "(in the app: choose the file)."
        )


class SourceChanged(ProjectError):
    """The project's CSV file changed; ``status`` says how. Accept it or locate the right file."""

    def __init__(self, status: SourceStatus, project: Path) -> None:
        self.status = status
        if not status.compared:
            super().__init__(
                f"{status.describe()} If it is the right file, compare it: `dami project relocate "
                f"{project.name} {status.path}` (in the app: Read this file); else locate the "
                "original file."
            )
            return
        super().__init__(
            f"{status.describe()} Labels follow their rows: to go on with this file run "
            f"`dami project relocate {project.name} {status.path} --accept-changes`, or locate "
            "the original file."
        )


def compare_rows(
    old_keys: np.ndarray,
    old_content: np.ndarray,
    new: RowKeys,
    labeled_keys: set[str],
    id_column: str | None,
) -> dict[str, Any]:
    """Fields of :class:`SourceStatus`: rows added, removed, edited, and labeled rows lost.

    ``old_keys``/``old_content``: the stored digests; ``labeled_keys``: keys of labeled rows.
    """
    old = dict(zip(old_keys.tolist(), old_content.tolist(), strict=True))
    now = dict(zip(new.key_digests.tolist(), new.content_digests.tolist(), strict=True))
    matched = old.keys() & now.keys()
    return {
        "rows_before": len(old),
        "rows_after": len(now),
        "added": len(now) - len(matched),
        "removed": len(old) - len(matched),
        "edited": sum(old[k] != now[k] for k in matched),
        "labels_lost": len(labeled_keys - set(new.keys.tolist())),
        "matched_by": f"the id column '{id_column}'" if id_column else "their content",
    }


def rows_of_old(old_keys: np.ndarray, new_keys: np.ndarray) -> np.ndarray:
    """For each old row (by key digest), its row number now, or -1 when it is gone."""
    where = {k: i for i, k in enumerate(new_keys.tolist())}
    return np.array([where.get(k, -1) for k in old_keys.tolist()], dtype=np.int64)


def remap_arrays(
    new_of_old: np.ndarray, n_rows: int, arrays: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """A round's arrays saved against an older version of the file, moved onto today's rows.

    Row lists (queries, centers) keep the rows still there; per-row scores and probabilities are
    moved, new rows get no score (nan) and even probabilities. Arrays that describe the old rows
    as a whole (partition, region ids) are left out.
    """
    n_old = len(new_of_old)
    out: dict[str, np.ndarray] = {}
    for name, a in arrays.items():
        if name in ("queries", "centers"):
            mapped = new_of_old[a[(a >= 0) & (a < n_old)]]
            out[name] = mapped[mapped >= 0]
        elif name in ("scores", "proba") and a.ndim >= 1 and a.shape[0] == n_old:
            fill = np.nan if name == "scores" else 1.0 / max(a.shape[-1], 1)
            moved = np.full((n_rows, *a.shape[1:]), fill, dtype=a.dtype)
            keep = new_of_old >= 0
            moved[new_of_old[keep]] = a[keep]
            out[name] = moved
    return out
