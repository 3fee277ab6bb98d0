"""Making a new project: check a table can be labeled, then save a session as a project file.

The CSV is not copied into the project; the project records its path, hash and row identities
(see :mod:`dami_gui.core.project.source`) so that opening it later finds the same rows. The file
is written whole under a temporary name, so a failed or cancelled creation leaves nothing.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path

import numpy as np

from dami_gui import __version__
from dami_gui.core.data.dataset import (
    MAX_CLASSES,
    Dataset,
    check_classes,
    class_codes,
    load_dataset,
)
from dami_gui.core.errors import DataError
from dami_gui.core.learner.config import LearnerConfig
from dami_gui.core.network import MLPConfig
from dami_gui.core.progress import CancelToken, ProgressCallback, Reporter, as_reporter
from dami_gui.core.project.journal import Project
from dami_gui.core.project.rounds import write_round
from dami_gui.core.project.settings import write_settings
from dami_gui.core.project.source import SourceStatus, hash_file, record_source, row_keys
from dami_gui.core.project.storage import Store, create_file
from dami_gui.core.records import LabelEvent
from dami_gui.core.session import DEFAULT_BATCH_SIZE, Session
from dami_gui.core.strategies import DEFAULT_STRATEGY

__all__ = ["MAX_CLASSES", "check_labels_usable", "create_project", "create_project_from_csv"]


def check_labels_usable(dataset: Dataset) -> None:
    """Refuse, with the count, classes that cannot be labeled with: fewer than 2, or far too many.

    The app can call this in its import dialog, the CLI calls it in ``project new`` and
    ``select``; the Dask engine applies the same rule (:func:`check_classes`) to its pool.
    """
    label = dataset.report.column("label")
    check_classes(label, dataset.classes, int((dataset.y >= 0).sum()))


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
    strategy: str = DEFAULT_STRATEGY,
    batch_size: int = DEFAULT_BATCH_SIZE,
    seed: int = 0,
    model_config: MLPConfig | None = None,
    learner: LearnerConfig | None = None,
    estimate_accuracy: bool = True,
) -> Project:
    """Read ``csv``, check it can be labeled, and create the project ``path`` for it.

    ``strategy`` to ``estimate_accuracy`` are the new :class:`Session`'s settings. Raises
    :class:`DataError`/:class:`ProjectError`; then no file is written.
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
    session = Session(
        dataset,
        strategy=strategy,
        batch_size=batch_size,
        seed=seed,
        model_config=model_config,
        learner=learner,
        estimate_accuracy=estimate_accuracy,
    )
    return create_project(path, session, progress=reporter.sub(0.6, 1.0))


def event_group_ranges(events: list[LabelEvent]) -> list[list[int]]:
    """The seqs (position + 1) of each group of events given together, as [first, last]."""
    members: dict[int, list[int]] = {}
    for position, event in enumerate(events):
        if event.group is not None:
            members.setdefault(event.group, []).append(position + 1)
    return [[min(seqs), max(seqs)] for seqs in members.values() if len(seqs) > 1]


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
    folder = Path(os.path.realpath(path)).parent  # the stored CSV path is relative to it
    if colours is not None and len(colours) != len(dataset.classes):
        raise DataError(f"Give one colour per class ({len(dataset.classes)}), not {len(colours)}.")
    sha, size = hash_file(source, reporter.sub(0.0, 0.3))
    keys = row_keys(dataset, reporter.sub(0.3, 0.9))
    file_codes = class_codes(dataset.frame, dataset.report.column("label"), dataset.classes)[0]
    # the demo hides the file's labels (they are its ground truth): remember to hide them again
    hidden = bool((dataset.y < 0).all() and (file_codes >= 0).any())
    truth_is_file = session.truth is not None and np.array_equal(session.truth, file_codes)
    n_classes = len(dataset.classes)
    class_colours = colours or [None] * n_classes

    def fill(conn: sqlite3.Connection) -> None:
        meta = {
            "created": json.dumps(time.time()),
            "app_version": json.dumps(__version__),
            "preprocessing": json.dumps(dataset.preprocessing.to_dict()),
            "file_labels": json.dumps("hidden" if hidden else "used"),
            "truth": json.dumps("label_column" if truth_is_file else None),
            "event_groups": json.dumps(event_group_ranges(session.events)),
        }
        conn.executemany("INSERT INTO meta VALUES (?,?)", list(meta.items()))
        write_settings(conn, session)
        record_source(conn, 1, source, size, sha, keys, file_codes, "created", folder)
        decisions = dataset.report.decisions
        conn.executemany(
            "INSERT INTO columns VALUES (?,?,?,?,?)",
            [(i, d.column, d.role, d.kind, d.reason) for i, d in enumerate(decisions)],
        )
        conn.executemany(
            "INSERT INTO classes (code, name, colour) VALUES (?,?,?)",
            [(i, name, class_colours[i]) for i, name in enumerate(dataset.classes)],
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
            write_round(conn, result, 1, max(before, default=0))

    create_file(path, fill)
    reporter("Saving", 1.0)
    store = Store(path)
    project = Project(store, session, keys, 1, list(range(1, len(session.events) + 1)))
    project.status = SourceStatus(source, source, rows_before=len(keys.keys))
    project.status.rows_after = len(keys.keys)
    session.journal = project
    return project
