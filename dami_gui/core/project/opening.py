"""Opening a project: re-read its CSV, match the rows, replay the stored history, lock the file.

The CSV is not copied into the project. Opening re-reads it with the stored roles and replays the
stored preprocessing; rows are matched by their id or content (never by position), and a file
that moved or changed is reported (:class:`SourceMissing`, :class:`SourceChanged`) so the user
can locate it or accept the change (``open_project(path, source=..., accept_changes=True)``).
The label history is replayed through :meth:`dami_gui.core.session.Session.apply`, the same rules
the live session follows, so the reopened session is the one that was saved.

For work on the labels only (label, skip, undo, status), ``with_table=False`` does not read a
CSV file that is still the recorded one (same size and SHA-256): the rows' keys and the label
cells' class codes kept with that version (:func:`~.source.decode_rows`) give the same session
without its table, and the open loads no pandas (issue 24: a label from the shell answers at
once). Anything else (a changed, moved or missing file, a version recorded before format 3) is
read as without it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
from pathlib import Path

import numpy as np

from dami_gui.core.data.dataset import Dataset, build_dataset, row_numbers
from dami_gui.core.data.preprocessing import Preprocessing
from dami_gui.core.data.roles import ColumnDecision, RoleReport
from dami_gui.core.errors import DataError
from dami_gui.core.learner import LEARNER_CHOICES
from dami_gui.core.network import NETWORK_CHOICES, network_choice
from dami_gui.core.progress import CancelToken, ProgressCallback, Reporter, as_reporter
from dami_gui.core.project import checks
from dami_gui.core.project.arrays import decode_array
from dami_gui.core.project.errors import ProjectCorrupt, ProjectError
from dami_gui.core.project.journal import Project
from dami_gui.core.project.replay import TableNeeded, replay
from dami_gui.core.project.rounds import ROUND_FIELDS
from dami_gui.core.project.settings import session_from_settings
from dami_gui.core.project.source import (
    RowKeys,
    SourceChanged,
    SourceMissing,
    SourceStatus,
    compare_rows,
    decode_rows,
    encode_rows,
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
    with_models: bool = True,
    with_table: bool = True,
    progress: ProgressCallback | Reporter | None = None,
    cancel: CancelToken | None = None,
) -> Project:
    """Open the project ``path``: re-read its CSV, replay preprocessing and labels, lock it.

    ``source``: the CSV to use instead of the stored path (a moved file). When the CSV is missing
    raises :class:`SourceMissing`; when its rows changed raises :class:`SourceChanged` (with a
    :class:`SourceStatus`) unless ``accept_changes``: then labels follow their rows by id or
    content and labels of removed rows are set aside (kept in the file's history). ``readonly``
    opens without lock and refuses writes (status, export, a read-only folder).
    ``with_models=False`` leaves the rounds' networks unread (their spec and weights empty): for
    work on the labels only (label, skip, undo, status, the labels' export), which then needs no
    torch; a damaged network is found, and its round computed again, by the next open that
    reads it. ``with_table=False``: a CSV file that is still the recorded one is not read; the
    session's dataset is then one without its table (``dataset.has_table`` is False: labels,
    ids, classes, no rows or features), for label, skip, undo and status, which then need no
    pandas.
    """
    reporter = as_reporter(progress, cancel)
    store = Store(path, readonly=readonly)
    try:
        return _open(store, source, accept_changes, reporter, with_models, with_table)
    except MemoryError:
        _close_quietly(store)
        raise DataError(
            "The project's CSV file does not fit in this computer's memory; close other "
            "programs or use a computer with more memory."
        ) from None
    except BaseException:
        _close_quietly(store)
        raise


def _close_quietly(store: Store) -> None:
    """Close after a failed open: the failure is what to report, not a checkpoint after it."""
    with contextlib.suppress(ProjectError):
        store.close()


def _open(
    store: Store,
    source: str | Path | None,
    accept_changes: bool,
    reporter: Reporter,
    with_models: bool = True,
    with_table: bool = True,
) -> Project:
    project_path = store.path
    try:
        version, stored, size0, sha0, n0, kd0, cd0, *kept = store.query(
            "SELECT version, path, size, sha256, n_rows, key_digests, content_digests, "
            "key_kind, row_keys, file_labels FROM sources ORDER BY version DESC LIMIT 1"
        )[0]
        version, n0 = checks.whole(version, 1), checks.whole(n0, 0, checks.MAX_ROWS)
        settings = json.loads(store.get_meta("settings") or "{}")
        settings = settings if isinstance(settings, dict) else {}
        preprocessing = json.loads(store.get_meta("preprocessing") or "{}")
        if not isinstance(preprocessing, dict):
            raise ValueError("preprocessing")
        hidden = json.loads(store.get_meta("file_labels") or '"used"') == "hidden"
        truth_is_file = json.loads(store.get_meta("truth") or "null") == "label_column"
        decisions = [
            ColumnDecision(*row)
            for row in checks.columns(
                store.query("SELECT name, role, kind, reason FROM columns ORDER BY position")
            )
        ]
        classes = checks.classes(store.query("SELECT code, name FROM classes ORDER BY code"))
    except (IndexError, ValueError, TypeError, RecursionError) as error:
        raise _damaged(project_path, error) from None
    preprocessing = Preprocessing.from_dict(
        preprocessing,
        where=f"The feature preparation stored in {project_path.name}",
        advice="open a backup copy, or start a new project from the CSV file",
    )
    stored_path = stored_csv_path(store.real, stored)
    csv = Path(source).resolve() if source is not None else stored_path
    moved = not _same_file(csv, stored_path)
    status = SourceStatus(stored_path, csv, moved=moved, rows_before=n0)
    if not csv.is_file():
        status.found = False
        raise SourceMissing(status, project_path)

    sha, size = hash_file(csv, reporter.sub(0.0, 0.1))
    status.changed = (sha, size) != (sha0, size0)
    # A file that is not the recorded one is read only once the user has chosen it (``source``,
    # ``accept_changes``); until then one outside the project's folder is not read at all, and
    # one inside it is compared row by row, its content never quoted in an error.
    chosen = source is not None or accept_changes
    if status.changed and not chosen and not _inside(csv, store.real.parent):
        status.compared = False
        raise SourceChanged(status, project_path)
    report = RoleReport(decisions)
    unchanged = not (status.changed or status.moved)
    known = None
    if unchanged and not with_table:  # the recorded file: its rows as kept, the file not read
        known = _rows_kept(store, (n0, kd0, cd0, kept), classes, preprocessing, report, csv)
    if known is not None:
        keys, dataset = known
    else:
        try:
            from dami_gui.core.data.reader import read_csv  # pandas: the table is read

            frame = read_csv(
                csv,
                progress=reporter.sub(0.1, 0.7, "Reading file"),
                rules=preprocessing.reader_rules,
            )
            reporter("Preparing features", 0.7)
            dataset = build_dataset(
                frame, report, classes=classes, source=csv, preprocessing=preprocessing
            )
        except DataError:
            if not status.changed or chosen:
                raise
            status.compared = False
            raise SourceChanged(status, project_path) from None
        keys = row_keys(dataset, reporter.sub(0.75, 0.9))
    status.rows_after = len(keys.keys)
    events = store.query(
        "SELECT seq, row, row_key, source_version, kind, label, round, time, undoes "
        "FROM events ORDER BY seq"
    )
    if status.changed:
        labeled = {e[2] for e in events if e[4] != "undo"}
        counts = compare_rows(*_digests(project_path, n0, kd0, cd0), keys, labeled,
                              dataset.report.column("id"))  # fmt: skip
        status = dataclasses.replace(status, **counts)
        if not status.same_rows and not accept_changes:
            raise SourceChanged(status, project_path)
    if (status.changed or status.moved) and not store.readonly:
        version += 1
        note = "moved" if not status.changed else "accepted changes"
        with store.transaction("the new location of the CSV file") as conn:
            record_source(conn, version, csv, size, sha, keys, dataset.y, note, store.real.parent)
    elif unchanged and known is None and not store.readonly:
        _keep_rows(store, version, (n0, kd0, cd0, kept), keys, dataset.y)

    truth = dataset.y.copy() if truth_is_file else None
    if hidden:
        dataset.y = np.full_like(dataset.y, -1)
    session = session_from_settings(dataset, settings, truth)
    project = Project(store, session, keys, version)
    project.status = status
    reporter("Restoring the session", 0.9)
    rounds = store.query(f"SELECT {ROUND_FIELDS} FROM rounds ORDER BY idx")
    try:
        replay(project, events, rounds, with_models)
    except TableNeeded:  # a damaged last round is computed again from the rows: read them
        return _open(store, source, accept_changes, reporter, with_models)
    _tell_older_network(project)
    _tell_older_learner(project)
    session.journal = project
    reporter("Restoring the session", 1.0)
    return project


def _tell_older_network(project: Project) -> None:
    """Say so when a project whose rounds were computed before 0.2 (they do not record their
    network) keeps a network that is no longer the default for new projects.

    It is kept on purpose: its rounds replay exactly as they were computed, and the user chooses
    when to move (Network, in the round settings).
    """
    choice = network_choice(project.session.model_config)
    default = NETWORK_CHOICES[0]
    rounds = project.session.rounds
    made_before = bool(rounds) and not any("model_config" in r.info for r in rounds)
    if made_before and choice is not None and choice != default:
        project.notes.append(
            f"This project keeps the network it was made with ({choice.title}); new projects use "
            f"{default.title}, which you can choose under Network for the next rounds."
        )


def _tell_older_learner(project: Project) -> None:
    """Say so when a project made before the ensemble (0.3: its rounds do not record a learner)
    keeps learning with the network alone. Kept on purpose, like the network: its rounds replay
    as computed, and the user chooses when to move (Learner, in the round settings)."""
    session = project.session
    made_before = bool(session.rounds) and not any("learner" in r.info for r in session.rounds)
    if made_before and not session.learner.is_ensemble:
        default = LEARNER_CHOICES[0]
        project.notes.append(
            "This project keeps learning with the network alone, as it was made; new projects "
            f"use the {default.title.lower()} learner, which you can choose under Learner for "
            "the next rounds."
        )


def stored_csv_path(project: Path, stored: object) -> Path:
    """Where the project's CSV file is: a relative stored path is taken from the project's folder.

    Never from the current folder. A path that is not text (a damaged file) names nothing.
    """
    try:
        text = checks.text(stored, checks.MAX_PATH)
    except ValueError:
        text = "(damaged path)"
    path = Path(text)
    return Path(os.path.normpath(path if path.is_absolute() else project.parent / path))


def _inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` (links followed) is in ``folder``'s tree."""
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError):
        return False


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a == b or a.samefile(b)
    except OSError:
        return False


def _rows_kept(
    store: Store,
    version: tuple[int, object, object, list[object]],
    classes: list[str],
    preprocessing: Preprocessing,
    report: RoleReport,
    csv: Path,
) -> tuple[RowKeys, Dataset] | None:
    """The row keys, and the dataset without its table, from the rows kept with the recorded
    ``version`` of the file (rows, key and content digests, what :func:`encode_rows` gave); None
    when it keeps none (recorded before format 3) or they are unusable: the file is read then."""
    n_rows, key_digests, content_digests, (kind, keys_text, labels_blob) = version
    try:
        digests = _digests(store.path, n_rows, key_digests, content_digests)
        keys, labels = decode_rows(kind, keys_text, labels_blob, *digests, len(classes))
    except (ProjectError, ValueError):
        return None
    if (keys.kind == "id") != (report.column("id") is not None):
        return None
    ids = keys.keys.astype(str) if keys.kind == "id" else row_numbers(n_rows)
    return keys, Dataset(None, None, labels, classes, ids, preprocessing, report, csv)


def _keep_rows(
    store: Store,
    number: int,
    version: tuple[int, object, object, list[object]],
    keys: RowKeys,
    file_labels: np.ndarray,
) -> None:
    """Keep the rows of the recorded file, version ``number``, as just read, where it keeps none
    (recorded before format 3) or others (damaged), when they agree with its recorded digests
    (``version`` as for :func:`_rows_kept`); a failure to write only means that the next label
    from the shell reads the file again."""
    n_rows, key_digests, content_digests, kept = version
    record = encode_rows(keys, file_labels)
    if list(record) == list(kept):
        return
    try:
        stored = _digests(store.path, n_rows, key_digests, content_digests)
    except ProjectError:
        return
    now = (keys.key_digests, keys.content_digests)
    if not all(np.array_equal(a, b) for a, b in zip(stored, now, strict=True)):
        return
    with contextlib.suppress(ProjectError), store.transaction("the rows of the file") as conn:
        conn.execute(
            "UPDATE sources SET key_kind = ?, row_keys = ?, file_labels = ? WHERE version = ?",
            (*record, number),
        )


def _digests(path: Path, n_rows: int, *blobs: object) -> tuple[np.ndarray, np.ndarray]:
    """The stored key and content digests of every row, ``n_rows`` each, checked."""
    try:
        arrays = [decode_array(b, 8 * n_rows, "A stored list of rows") for b in blobs]
    except ProjectError as error:
        raise _damaged(path, error) from None
    if any(a.shape != (n_rows,) or a.dtype != np.uint64 for a in arrays):
        raise _damaged(path, "the stored row digests do not match its rows")
    return arrays[0], arrays[1]


def _damaged(path: Path, error: object) -> ProjectError:
    return ProjectCorrupt(
        f"{path.name} is damaged ({error}); open a backup copy, or start a new project from the "
        "CSV file."
    )
