"""An open project: the session's journal, committing every label and round to disk first.

A project (``*.dami``, see :mod:`dami_gui.core.project.storage` and docs/project-files.md) ties a
CSV file to everything done with it: column roles, the recorded preprocessing, the classes, every
label event, every round and the last model. :class:`Project` is the session's *journal*
(:class:`dami_gui.core.session.Journal`): each label, skip, undo and round is committed to disk
before the session applies it, so whatever the user saw as done survives a crash.

A project is made by :func:`dami_gui.core.project.creating.create_project` and reopened, with its
history replayed, by :func:`dami_gui.core.project.opening.open_project`.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from dami_gui.core.data.dataset import Dataset
from dami_gui.core.errors import DataError
from dami_gui.core.project.arrays import decode_array, encode_array
from dami_gui.core.project.checks import event_groups
from dami_gui.core.project.errors import ProjectError
from dami_gui.core.project.rounds import write_round
from dami_gui.core.project.settings import write_settings
from dami_gui.core.project.source import RowKeys, SourceStatus
from dami_gui.core.project.storage import Store
from dami_gui.core.records import LabelEvent, RoundResult
from dami_gui.core.session import Session

_COLOUR = re.compile(r"#[0-9A-Fa-f]{3,8}|[A-Za-z]{1,30}")  # "#0072B2", "#123", "red"


class Project:
    """An open project: its :class:`Session` (journaled here), source status, colours and maps.

    ``event_seqs`` holds the database seq of each entry of ``session.events``, in the same
    order. Use as a context manager or call :meth:`close`; the file stays locked while open.
    """

    def __init__(
        self,
        store: Store,
        session: Session,
        keys: RowKeys,
        version: int,
        event_seqs: list[int] | None = None,
    ) -> None:
        self.store = store
        self.session = session
        self.keys = keys
        self.source_version = version
        self.status: SourceStatus | None = None
        self.event_seqs: list[int] = [] if event_seqs is None else event_seqs
        #: What opening found damaged and set aside or computed again, one sentence each.
        self.notes: list[str] = []
        self._broken = False

    @property
    def path(self) -> Path:
        return self.store.path

    @property
    def dataset(self) -> Dataset:
        return self.session.dataset

    @property
    def in_step(self) -> bool:
        """Whether the file holds exactly the session's label events, one seq for each."""
        return len(self.event_seqs) == len(self.session.events)

    # ------------------------------------------------------------------------ the journal
    def record_event(self, event: LabelEvent) -> None:
        """Commit one label event before the session applies it (the session calls this)."""
        self.record_events([event])

    def record_events(self, events: list[LabelEvent]) -> None:
        """Commit label events given together (a group of rows labeled at once, or its undo),
        all or none, in one transaction, before the session applies them.

        More than one is a group: the range of their seqs goes to ``meta`` 'event_groups' in
        the same transaction, so that a reopened project undoes them together too (a version
        that does not know the key reads them one by one, as they are).
        """
        self._check_writable()
        if not self.in_step:
            raise ProjectError(
                "The session and its project file are out of step; reopen the project."
            )
        seqs: list[int] = []
        what = "the label" if len(events) == 1 else "the labels"
        with self.store.transaction(what) as conn:
            for event in events:
                undoes = self.event_seqs[event.undoes] if event.undoes is not None else None
                cursor = conn.execute(
                    "INSERT INTO events (row, row_key, source_version, kind, label, "
                    "previous_label, previous_skipped, round, time, undoes) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?)",
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
                seq = cursor.lastrowid
                assert seq is not None  # an INSERT into a table with a rowid always sets it
                seqs.append(seq)
            if len(seqs) > 1:
                row = conn.execute("SELECT value FROM meta WHERE key = 'event_groups'").fetchone()
                groups = event_groups(row)
                groups.append((min(seqs), max(seqs)))
                conn.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('event_groups', ?)",
                    (json.dumps([list(pair) for pair in groups]),),
                )
        self.event_seqs.extend(seqs)

    def record_round(self, result: RoundResult) -> None:
        """Commit a round (summary, queries, scores, weights, the per-row arrays) before use."""
        self._check_writable()
        last_seq = self.event_seqs[-1] if self.event_seqs else 0
        with self.store.transaction("the round") as conn:
            write_round(conn, result, self.source_version, last_seq)
            write_settings(conn, self.session)
        # keeps the log short without waiting for readers; if there is no room the round is
        # safe in the log all the same, and closing reports it
        with contextlib.suppress(ProjectError):
            self.store.checkpoint("PASSIVE")

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
            write_settings(conn, self.session)

    @property
    def class_colours(self) -> list[str | None]:
        """One colour per class (e.g. "#0072B2"), None where the app has not chosen one (or
        where the file holds something else)."""
        rows = self.store.query("SELECT colour FROM classes ORDER BY code")
        return [r[0] if isinstance(r[0], str) and _COLOUR.fullmatch(r[0]) else None for r in rows]

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
        if not rows or not isinstance(rows[0][0], bytes):
            return None
        try:  # a damaged map is computed again, like a missing one
            xy = decode_array(rows[0][0], self.session.n_rows * 2 * 8, "The saved map")
        except ProjectError:
            return None
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

    def __exit__(self, kind: object, *exc: object) -> None:
        if kind is None:
            self.close()
            return
        with contextlib.suppress(ProjectError):  # the error under way is the one to report
            self.close()
