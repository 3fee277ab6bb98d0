"""Opening a project: re-read its CSV, match the rows, replay the stored history, lock the file.

The CSV is not copied into the project. Opening re-reads it with the stored roles and replays the
stored preprocessing; rows are matched by their id or content (never by position), and a file
that moved or changed is reported (:class:`SourceMissing`, :class:`SourceChanged`) so the user
can locate it or accept the change (``open_project(path, source=..., accept_changes=True)``).
The label history is replayed through :meth:`dami_gui.core.session.Session.apply`, the same rules
the live session follows, so the reopened session is the one that was saved.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from dami_gui.core.data.dataset import build_dataset
from dami_gui.core.data.preprocessing import Preprocessing
from dami_gui.core.data.reader import read_csv
from dami_gui.core.data.roles import ColumnDecision, RoleReport
from dami_gui.core.errors import DataError
from dami_gui.core.progress import CancelToken, ProgressCallback, Reporter, as_reporter
from dami_gui.core.project.arrays import decode_array
from dami_gui.core.project.errors import ProjectError
from dami_gui.core.project.journal import Project
from dami_gui.core.project.rounds import read_round
from dami_gui.core.project.settings import session_from_settings
from dami_gui.core.project.source import (
    SourceChanged,
    SourceMissing,
    SourceStatus,
    compare_rows,
    hash_file,
    record_source,
    row_keys,
)
from dami_gui.core.project.storage import Store

__all__ = ["open_project"]


def open_project(
    path: str | Path,
    *,
    source: str | Path | None = None,
    accept_changes: bool = False,
    readonly: bool = False,
    progress: ProgressCallback | Reporter | None = None,
    cancel: CancelToken | None = None,
) -> Project:
    """Open the project ``path``: re-read its CSV, replay preprocessing and labels, lock it.

    ``source``: the CSV to use instead of the stored path (a moved file). When the CSV is missing
    raises :class:`SourceMissing`; when its rows changed raises :class:`SourceChanged` (with a
    :class:`SourceStatus`) unless ``accept_changes``: then labels follow their rows by id or
    content and labels of removed rows are set aside (kept in the file's history). ``readonly``
    opens without lock and refuses writes (status, export, a read-only folder).
    """
    reporter = as_reporter(progress, cancel)
    store = Store(path, readonly=readonly)
    try:
        return _open(store, source, accept_changes, reporter)
    except MemoryError:
        store.close()
        raise DataError(
            "The project's CSV file does not fit in this computer's memory; close other "
            "programs or use a computer with more memory."
        ) from None
    except BaseException:
        store.close()
        raise


def _open(
    store: Store, source: str | Path | None, accept_changes: bool, reporter: Reporter
) -> Project:
    project_path = store.path
    try:
        version, stored, _size, sha0, n0, kd0, cd0 = store.query(
            "SELECT version, path, size, sha256, n_rows, key_digests, content_digests "
            "FROM sources ORDER BY version DESC LIMIT 1"
        )[0]
        settings = json.loads(store.get_meta("settings") or "{}")
        preprocessing = Preprocessing.from_dict(json.loads(store.get_meta("preprocessing") or "{}"))
        hidden = json.loads(store.get_meta("file_labels") or '"used"') == "hidden"
        truth_is_file = json.loads(store.get_meta("truth") or "null") == "label_column"
    except (IndexError, ValueError, TypeError) as error:
        raise _damaged(project_path, error) from None
    decisions = [
        ColumnDecision(*row)
        for row in store.query("SELECT name, role, kind, reason FROM columns ORDER BY position")
    ]
    classes = [r[0] for r in store.query("SELECT name FROM classes ORDER BY code")]
    stored_path = Path(stored)
    csv = Path(source).resolve() if source is not None else stored_path
    status = SourceStatus(stored_path, csv, moved=csv != stored_path, rows_before=n0)
    if not csv.is_file():
        status.found = False
        raise SourceMissing(status, project_path)

    sha, size = hash_file(csv, reporter.sub(0.0, 0.1))
    frame = read_csv(
        csv, progress=reporter.sub(0.1, 0.7, "Reading file"), rules=preprocessing.reader_rules
    )
    reporter("Preparing features", 0.7)
    dataset = build_dataset(
        frame, RoleReport(decisions), classes=classes, source=csv, preprocessing=preprocessing
    )
    keys = row_keys(dataset, reporter.sub(0.75, 0.9))
    status.rows_after = len(keys.keys)
    events = store.query(
        "SELECT seq, row, row_key, source_version, kind, label, round, time, undoes "
        "FROM events ORDER BY seq"
    )
    status.changed = sha != sha0
    if status.changed:
        labeled = {e[2] for e in events if e[4] != "undo"}
        old = (decode_array(kd0), decode_array(cd0))
        counts = compare_rows(*old, keys, labeled, dataset.report.column("id"))
        status = dataclasses.replace(status, **counts)
        if not status.same_rows and not accept_changes:
            raise SourceChanged(status, project_path)
    if (status.changed or status.moved) and not store.readonly:
        version += 1
        note = "moved" if not status.changed else "accepted changes"
        with store.transaction("the new location of the CSV file") as conn:
            record_source(conn, version, csv, size, sha, keys, note)

    truth = dataset.y.copy() if truth_is_file else None
    if hidden:
        dataset.y = np.full_like(dataset.y, -1)
    session = session_from_settings(dataset, settings, truth)
    project = Project(store, session, keys, version)
    project.status = status
    reporter("Restoring the session", 0.9)
    rounds = store.query("SELECT * FROM rounds ORDER BY idx")
    _replay(project, events, rounds)
    session.journal = project
    reporter("Restoring the session", 1.0)
    return project


def _damaged(path: Path, error: object) -> ProjectError:
    return ProjectError(
        f"{path.name} is damaged ({error}); open a backup copy, or start a new project from the "
        "CSV file."
    )


def _replay(project: Project, events: list[tuple], rounds: list[tuple]) -> None:
    """Rebuild labels, skips, events, rounds and current queries from the stored history.

    Events are applied in order to the file's labels; an event whose row is no longer in the file
    is set aside (it stays in the history). ``previous_*`` are recomputed from the replayed state,
    so undo restores exactly what the user saw.
    """
    session, keys = project.session, project.keys
    index: dict[str, int] | None = None
    by_seq: dict[int, int] = {}
    last = rounds[-1] if rounds else None
    open_rows: np.ndarray | None = None
    last_before = last[2] if last else -1

    def snapshot() -> None:
        nonlocal open_rows
        open_rows = (session.labels < 0) & ~session.skipped

    if last_before == 0:
        snapshot()
    for seq, row, key, _version, kind, label, rnd, when, undoes in events:
        if not (0 <= row < len(keys.keys) and keys.keys[row] == key):
            index = index if index is not None else keys.index()
            row = index.get(key, -1)
        target = by_seq.get(undoes) if undoes is not None else None
        if row >= 0 and (kind != "undo" or target is not None):
            event = session.new_event(row, kind, label, target, round_index=rnd, when=when)
            by_seq[seq] = len(session.events)
            session.apply(event)
            project.event_seqs.append(seq)
        if seq == last_before:
            snapshot()
    if last is not None and open_rows is None:
        snapshot()
    n_classes = len(session.classes)
    for row in rounds:
        result = read_round(project.store, row, keys, project.source_version, n_classes)
        session.rounds.append(result)
    if last is not None and open_rows is not None:
        queries = session.rounds[-1].queries
        session.queries = queries[open_rows[queries]]
