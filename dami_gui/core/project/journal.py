"""A labeling campaign saved as it happens: create, open and journal a project file.

A project (``*.dami``, see :mod:`dami_gui.core.project.storage` and docs/project-files.md) ties a
CSV file to everything done with it: column roles, the recorded preprocessing, the classes, every
label event, every round and the last model. :class:`Project` is the session's *journal*
(:class:`dami_gui.core.session.Journal`): each label, skip, undo and round is committed to disk
before the session applies it, so whatever the user saw as done survives a crash.

The CSV is not copied into the project. Opening re-reads it with the stored roles and replays the
stored preprocessing; rows are matched by their id or content (never by position), and a file
that moved or changed is reported (:class:`SourceMissing`, :class:`SourceChanged`) so the user
can locate it or accept the change (``open_project(path, source=..., accept_changes=True)``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from dami_gui import __version__
from dami_gui.core.data.dataset import Dataset, build_dataset, class_codes, load_dataset
from dami_gui.core.data.preprocessing import Preprocessing
from dami_gui.core.data.reader import read_csv
from dami_gui.core.data.roles import ColumnDecision, RoleReport
from dami_gui.core.errors import DamiError, DataError
from dami_gui.core.model import MLPConfig
from dami_gui.core.progress import CancelToken, ProgressCallback, Reporter, as_reporter
from dami_gui.core.project.source import (
    RowKeys,
    SourceChanged,
    SourceMissing,
    SourceStatus,
    compare_rows,
    hash_file,
    remap_arrays,
    row_keys,
    rows_of_old,
)
from dami_gui.core.project.storage import (
    ProjectError,
    Store,
    create_file,
    decode_array,
    decode_state,
    encode_array,
    encode_state,
)
from dami_gui.core.session import LabelEvent, RoundResult, Session

__all__ = [
    "MAX_CLASSES",
    "Project",
    "ProjectError",
    "RowKeys",
    "SourceChanged",
    "SourceMissing",
    "SourceStatus",
    "check_labels_usable",
    "create_project",
    "create_project_from_csv",
    "open_project",
    "row_keys",
]

#: More classes than this and the label column is taken for something else (an id, a number).
MAX_CLASSES = 100
#: Round arrays kept for every round; the other per-row arrays only for the last round.
ROUND_ARRAYS_KEPT = frozenset({"queries", "scores", "centers"})
_ROUND_COLUMNS = (
    "strategy",
    "batch_size",
    "seed",
    "labeled_count",
    "accuracy_estimate",
    "test_accuracy",
    "train_accuracy",
)

# ------------------------------------------------------------------------------- checks


def check_labels_usable(dataset: Dataset) -> None:
    """Refuse, with the count, classes that cannot be labeled with: fewer than 2, or far too many.

    A label column whose values are nearly all different (a measurement, a name, an id) is surely
    not a list of classes; the app can call this in its import dialog, the CLI calls it in
    ``project new``.
    """
    label = dataset.report.column("label") or "(none)"
    n_classes, n_labeled = len(dataset.classes), int((dataset.y >= 0).sum())
    if n_classes < 2:
        have = f"only the class '{dataset.classes[0]}'" if n_classes else "no classes"
        raise DataError(
            f"The label column '{label}' has {have}; a classifier needs at least two: name them "
            "all (--classes A,B,... on the command line)."
        )
    if n_classes > MAX_CLASSES or (n_classes > 20 and n_classes >= 0.9 * n_labeled):
        raise DataError(
            f"The label column '{label}' has {n_classes} different values in {n_labeled} "
            "labeled rows, so it is surely not a column of classes; choose the column that "
            "holds the classes (--label-column)."
        )


# ------------------------------------------------------------------------------- the project


class Project:
    """An open project: its :class:`Session` (journaled here), source status, colours and maps.

    Use as a context manager or call :meth:`close`; the file stays locked while open.
    """

    def __init__(self, store: Store, session: Session, keys: RowKeys, version: int) -> None:
        self.store = store
        self.session = session
        self.keys = keys
        self.source_version = version
        self.status: SourceStatus | None = None
        self._seqs: list[int] = []  # database seq of each session.events entry
        self._broken = False

    @property
    def path(self) -> Path:
        return self.store.path

    @property
    def dataset(self) -> Dataset:
        return self.session.dataset

    # ------------------------------------------------------------------------ the journal
    def record_event(self, event: LabelEvent) -> None:
        """Commit one label event before the session applies it (the session calls this)."""
        self._check_writable()
        if len(self._seqs) != len(self.session.events):
            raise ProjectError(
                "The session and its project file are out of step; reopen the project."
            )
        undoes = self._seqs[event.undoes] if event.undoes is not None else None
        with self.store.transaction("the label") as conn:
            cursor = conn.execute(
                "INSERT INTO events (row, row_key, source_version, kind, label, previous_label, "
                "previous_skipped, round, time, undoes) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    event.row,
                    str(self.keys.keys[event.row]),
                    self.source_version,
                    event.kind,
                    event.label,
                    event.previous_label,
                    int(event.previous_skipped),
                    event.round,
                    event.time,
                    undoes,
                ),
            )
            seq = int(cursor.lastrowid)
        self._seqs.append(seq)

    def record_round(self, result: RoundResult) -> None:
        """Commit a round (summary, queries, scores, weights, the per-row arrays) before use."""
        self._check_writable()
        last_seq = self._seqs[-1] if self._seqs else 0
        with self.store.transaction("the round") as conn:
            _insert_round(conn, result, self.source_version, last_seq)
            _save_settings(conn, self.session)
        self.store.checkpoint("PASSIVE")  # keeps the log short without waiting for readers

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Group several labels into one write: all are saved or none.

        If the block fails, the file is as before but the session in memory is not: the project
        refuses further writes until it is reopened. Meant for batch imports (``--from``).
        """
        try:
            with self.store.transaction("the labels"):
                yield
        except BaseException:
            self._broken = True
            raise

    def _check_writable(self) -> None:
        if self._broken:
            raise ProjectError(
                f"An earlier write to {self.path.name} failed; reopen the project to go on."
            )

    # ------------------------------------------------------------------- other saved state
    def save_settings(self) -> None:
        """Save the session's strategy, batch size, seed and model settings."""
        with self.store.transaction("the settings") as conn:
            _save_settings(conn, self.session)

    @property
    def class_colours(self) -> list[str | None]:
        """One colour per class (e.g. "#0072B2"), None where the app has not chosen one."""
        rows = self.store.query("SELECT colour FROM classes ORDER BY code")
        return [r[0] for r in rows]

    def set_class_colours(self, colours: list[str | None]) -> None:
        if len(colours) != len(self.session.classes):
            raise DataError(
                f"Give one colour per class ({len(self.session.classes)}), not {len(colours)}."
            )
        with self.store.transaction("the class colours") as conn:
            conn.executemany(
                "UPDATE classes SET colour = ? WHERE code = ?",
                [(c, i) for i, c in enumerate(colours)],
            )

    def save_layout(self, name: str, xy: np.ndarray) -> None:
        """Keep a 2-D map of the pool (``(N, 2)`` float32) under ``name``, e.g. "umap"."""
        xy = np.asarray(xy, dtype=np.float32)
        if xy.shape != (self.session.n_rows, 2):
            raise DataError(f"A map needs {self.session.n_rows} x 2 numbers, not {xy.shape}.")
        with self.store.transaction("the map") as conn:
            conn.execute(
                "INSERT OR REPLACE INTO layouts VALUES (?,?,?,?)",
                (name, self.source_version, encode_array(xy), time.time()),
            )

    def load_layout(self, name: str) -> np.ndarray | None:
        """The saved map ``name``, or None when there is none for the current rows."""
        rows = self.store.query(
            "SELECT data FROM layouts WHERE name = ? AND source_version = ?",
            (name, self.source_version),
        )
        if not rows:
            return None
        xy = decode_array(rows[0][0])
        return xy if xy.shape == (self.session.n_rows, 2) else None

    def row_of_id(self, row_id: str) -> int:
        """The row named ``row_id`` (id column value, or 1-based number without an id column)."""
        ids = self.dataset.ids
        text = str(row_id).strip()
        hits = np.flatnonzero(ids == text)
        if not hits.size:
            with contextlib.suppress(ValueError):
                number = float(text)
                if math.isfinite(number) and number == int(number):
                    hits = np.flatnonzero(ids == str(int(number)))
        if not hits.size:
            what = f"id column '{self.dataset.report.column('id')}'"
            if self.dataset.report.column("id") is None:
                what = f"row numbers 1..{len(ids)}"
            raise DataError(f"There is no row '{text}' in the {what}; check the row id.")
        return int(hits[0])

    def close(self) -> None:
        """Detach from the session, write back the log and release the lock."""
        if self.session.journal is self:
            self.session.journal = None
        self.store.close()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _save_settings(conn, session: Session) -> None:
    settings = {
        "strategy": session.strategy,
        "batch_size": session.batch_size,
        "seed": session.seed,
        "model_config": session.model_config.to_dict(),
        "estimate_accuracy": session.estimate_accuracy,
    }
    conn.execute("INSERT OR REPLACE INTO meta VALUES ('settings', ?)", (json.dumps(settings),))


def _jsonable(value: object) -> object:
    """Plain JSON for round extras: numpy scalars become numbers, big arrays are dropped."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist() if value.size <= 1000 else None
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _insert_round(conn, result: RoundResult, source_version: int, events_before: int) -> None:
    values = {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}
    arrays = {k: v for k, v in values.items() if isinstance(v, np.ndarray)}
    skip = {"index", "model_state", "model_spec", *_ROUND_COLUMNS, *arrays}
    extra = {k: _jsonable(v) for k, v in values.items() if k not in skip}
    conn.execute(
        "INSERT INTO rounds (idx, source_version, events_before, strategy, batch_size, seed, "
        "labeled_count, accuracy_estimate, test_accuracy, train_accuracy, model_spec, "
        "model_state, extra, time) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            result.index,
            source_version,
            events_before,
            result.strategy,
            int(result.batch_size),
            int(result.seed),
            int(result.labeled_count),
            _number(result.accuracy_estimate),
            _number(result.test_accuracy),
            _number(result.train_accuracy),
            json.dumps(_jsonable(result.model_spec)),
            encode_state(result.model_state),
            json.dumps(extra),
            time.time(),
        ),
    )
    placeholders = ",".join("?" * len(ROUND_ARRAYS_KEPT))
    conn.execute(  # the per-row arrays of older rounds are not kept (see docs/project-files.md)
        f"DELETE FROM round_arrays WHERE round < ? AND name NOT IN ({placeholders})",
        (result.index, *sorted(ROUND_ARRAYS_KEPT)),
    )
    conn.executemany(
        "INSERT INTO round_arrays VALUES (?,?,?)",
        [(result.index, name, encode_array(a)) for name, a in arrays.items()],
    )


def _number(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


# ------------------------------------------------------------------------------- creating


def create_project_from_csv(
    path: str | Path,
    csv: str | Path,
    *,
    label_column: str,
    id_column: str | None = None,
    roles: dict[str, str] | None = None,
    classes: list[str] | None = None,
    progress: ProgressCallback | Reporter | None = None,
    cancel: CancelToken | None = None,
    **session_options: object,
) -> Project:
    """Read ``csv``, check it can be labeled, and create the project ``path`` for it.

    ``session_options`` go to :class:`Session` (strategy, batch_size, seed, model_config,
    estimate_accuracy). Raises :class:`DataError`/:class:`ProjectError`; then no file is written.
    """
    reporter = as_reporter(progress, cancel)
    try:
        dataset = load_dataset(
            csv,
            label_column=label_column,
            id_column=id_column,
            roles=roles,
            classes=classes,
            progress=reporter.sub(0.0, 0.6, "Reading file"),
        )
    except MemoryError:
        raise DataError(
            f"{Path(csv).name} does not fit in this computer's memory; use fewer rows or columns."
        ) from None
    check_labels_usable(dataset)
    session = Session(dataset, **session_options)  # type: ignore[arg-type]
    return create_project(path, session, progress=reporter.sub(0.6, 1.0))


def create_project(
    path: str | Path,
    session: Session,
    *,
    colours: list[str | None] | None = None,
    progress: ProgressCallback | Reporter | None = None,
    cancel: CancelToken | None = None,
) -> Project:
    """Save ``session`` (with any labels and rounds it has) as a new project and journal it.

    The session's dataset must come from a CSV file (``dataset.source``). The file is written all
    at once under a temporary name and appears at ``path`` only when complete. Returns the open
    project; ``session.journal`` is the project from then on.
    """
    reporter = as_reporter(progress, cancel)
    path = Path(path)
    dataset = session.dataset
    source = dataset.source
    if source is None or not Path(source).is_file():
        raise DataError(
            "A project needs the data as a CSV file on disk; save the table as CSV first."
        )
    source = Path(source).resolve()
    if colours is not None and len(colours) != len(dataset.classes):
        raise DataError(f"Give one colour per class ({len(dataset.classes)}), not {len(colours)}.")
    sha, size = hash_file(source, reporter.sub(0.0, 0.3))
    keys = row_keys(dataset, reporter.sub(0.3, 0.9))
    file_codes = class_codes(dataset.frame, dataset.report.column("label"), dataset.classes)[0]
    # the demo hides the file's labels (they are its ground truth): remember to hide them again
    hidden = bool((dataset.y < 0).all() and (file_codes >= 0).any())
    truth_is_file = session.truth is not None and np.array_equal(session.truth, file_codes)
    n_classes = len(dataset.classes)
    colours = colours or [None] * n_classes

    def fill(conn) -> None:
        meta = {
            "created": json.dumps(time.time()),
            "app_version": json.dumps(__version__),
            "preprocessing": json.dumps(dataset.preprocessing.to_dict()),
            "file_labels": json.dumps("hidden" if hidden else "used"),
            "truth": json.dumps("label_column" if truth_is_file else None),
        }
        conn.executemany("INSERT INTO meta VALUES (?,?)", list(meta.items()))
        _save_settings(conn, session)
        _insert_source(conn, 1, source, size, sha, keys, "created")
        decisions = dataset.report.decisions
        conn.executemany(
            "INSERT INTO columns VALUES (?,?,?,?,?)",
            [(i, d.column, d.role, d.kind, d.reason) for i, d in enumerate(decisions)],
        )
        conn.executemany(
            "INSERT INTO classes (code, name, colour) VALUES (?,?,?)",
            [(i, name, colours[i]) for i, name in enumerate(dataset.classes)],
        )
        for i, e in enumerate(session.events):  # seq = position + 1 in an empty table
            undoes = None if e.undoes is None else e.undoes + 1
            conn.execute(
                "INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (i + 1, e.row, str(keys.keys[e.row]), 1, e.kind, e.label, e.previous_label,
                 int(e.previous_skipped), e.round, e.time, undoes),
            )  # fmt: skip
        for result in session.rounds:
            before = [i + 1 for i, e in enumerate(session.events) if e.round < result.index]
            _insert_round(conn, result, 1, max(before, default=0))

    create_file(path, fill)
    reporter("Saving", 1.0)
    store = Store(path)
    project = Project(store, session, keys, 1)
    project._seqs = list(range(1, len(session.events) + 1))
    project.status = SourceStatus(source, source, rows_before=len(keys.keys))
    project.status.rows_after = len(keys.keys)
    session.journal = project
    return project


def _insert_source(conn, version: int, path: Path, size: int, sha: str, keys: RowKeys, note: str):
    conn.execute(
        "INSERT INTO sources VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (
            version,
            str(path),
            size,
            sha,
            path.stat().st_mtime,
            len(keys.keys),
            keys.kind,
            encode_array(keys.key_digests),
            encode_array(keys.content_digests),
            time.time(),
            note,
        ),
    )


# ------------------------------------------------------------------------------- opening


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


def _open(store: Store, source, accept_changes: bool, reporter: Reporter) -> Project:
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
            _insert_source(conn, version, csv, size, sha, keys, note)

    truth = dataset.y.copy() if truth_is_file else None
    if hidden:
        dataset.y = np.full_like(dataset.y, -1)
    session = _new_session(dataset, settings, truth)
    project = Project(store, session, keys, version)
    project.status = status
    reporter("Restoring the session", 0.9)
    rounds = store.query("SELECT * FROM rounds ORDER BY idx")
    _replay(project, events, rounds)
    session.journal = project
    reporter("Restoring the session", 1.0)
    return project


def _new_session(dataset: Dataset, settings: dict, truth: np.ndarray | None) -> Session:
    """A session with the saved settings; a setting this version does not know is left default."""
    try:
        config = MLPConfig.from_dict(settings["model_config"])
    except (KeyError, TypeError, ValueError, DamiError):
        config = None
    session = Session(dataset, model_config=config, truth=truth)
    for name in ("strategy", "batch_size", "seed", "estimate_accuracy"):
        with contextlib.suppress(KeyError, TypeError, ValueError, DamiError):
            value = settings[name]
            setattr(session, name, int(value) if name in ("batch_size", "seed") else value)
    return session


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
            event = LabelEvent(
                row=row,
                kind=kind,
                label=label,
                previous_label=int(session.labels[row]),
                previous_skipped=bool(session.skipped[row]),
                round=rnd,
                time=when,
                undoes=target,
            )
            if kind == "undo":
                undone = session.events[target]
                session.labels[row] = undone.previous_label
                session.skipped[row] = undone.previous_skipped
            else:
                session.labels[row] = -1 if label is None else label
                session.skipped[row] = kind == "skip"
            by_seq[seq] = len(session.events)
            session.events.append(event)
            project._seqs.append(seq)
        if seq == last_before:
            snapshot()
    if last is not None and open_rows is None:
        snapshot()
    for row in rounds:
        session.rounds.append(_load_round(project, row, row is last))
    if last is not None and open_rows is not None:
        queries = session.rounds[-1].queries
        session.queries = queries[open_rows[queries]]


def _load_round(project: Project, row: tuple, is_last: bool) -> RoundResult:
    (idx, version, _before, strategy, batch, seed, count, estimate, test, train, spec, state,
     extra, _when) = row  # fmt: skip
    arrays = {
        name: decode_array(data)
        for name, data in project.store.query(
            "SELECT name, data FROM round_arrays WHERE round = ?", (idx,)
        )
    }
    if version != project.source_version:
        old = project.store.query("SELECT key_digests FROM sources WHERE version = ?", (version,))
        new_of_old = rows_of_old(decode_array(old[0][0]), project.keys.key_digests)
        arrays = remap_arrays(new_of_old, project.session.n_rows, arrays)
    n_classes = len(project.session.classes)
    values = dict(json.loads(extra))
    values.update(
        index=idx, strategy=strategy, batch_size=batch, seed=seed, labeled_count=count,
        accuracy_estimate=estimate, test_accuracy=test, train_accuracy=train,
        model_spec=json.loads(spec), model_state=decode_state(state),
        queries=np.empty(0, np.int64), scores=np.full(project.session.n_rows, np.nan),
        partition=None, centers=None, region_ids=np.zeros(0, np.int64),
        proba=np.zeros((0, n_classes), np.float32),
    )  # fmt: skip
    values.update(arrays)
    known = {f.name for f in dataclasses.fields(RoundResult)}
    return RoundResult(**{k: v for k, v in values.items() if k in known})
