"""A round as a project stores it: one row of ``rounds`` and its arrays in ``round_arrays``.

The summary figures get columns, the model its weights (see :mod:`dami_gui.core.project.arrays`),
the rest of the :class:`RoundResult` (timings, strategy extras, coverage) plain JSON. Queries,
scores and centers are kept for every round; the other per-row arrays (partition, region ids,
probabilities) only for the last one, since they are large and only the last round shows them.
"""

from __future__ import annotations

import dataclasses
import json
import math
import sqlite3
import time

import numpy as np

from dami_gui.core.project.arrays import decode_array, decode_state, encode_array, encode_state
from dami_gui.core.project.source import RowKeys, remap_arrays, rows_of_old
from dami_gui.core.project.storage import Store
from dami_gui.core.records import RoundResult

#: Round arrays kept for every round; the other per-row arrays only for the last round.
ROUND_ARRAYS_KEPT = frozenset({"queries", "scores", "centers"})
#: The round's figures that have a column of their own in the ``rounds`` table.
ROUND_COLUMNS = (
    "strategy",
    "batch_size",
    "seed",
    "labeled_count",
    "accuracy_estimate",
    "test_accuracy",
    "train_accuracy",
)


def jsonable(value: object) -> object:
    """Plain JSON for round extras: numpy scalars become numbers, big arrays are dropped."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist() if value.size <= 1000 else None
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def write_round(
    conn: sqlite3.Connection, result: RoundResult, source_version: int, events_before: int
) -> None:
    """Insert ``result`` (inside the caller's transaction) and drop older rounds' big arrays.

    ``events_before``: the seq of the last label event given before the round was computed.
    """
    values = {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}
    arrays = {k: v for k, v in values.items() if isinstance(v, np.ndarray)}
    skip = {"index", "model_state", "model_spec", *ROUND_COLUMNS, *arrays}
    extra = {k: jsonable(v) for k, v in values.items() if k not in skip}
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
            _finite_or_none(result.accuracy_estimate),
            _finite_or_none(result.test_accuracy),
            _finite_or_none(result.train_accuracy),
            json.dumps(jsonable(result.model_spec)),
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


def _finite_or_none(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def read_round(
    store: Store, row: tuple, keys: RowKeys, source_version: int, n_classes: int
) -> RoundResult:
    """The :class:`RoundResult` of one ``rounds`` row (``SELECT *``), on today's rows.

    Arrays saved against an older version of the CSV file are moved onto the rows of ``keys``
    (the file as read now, version ``source_version``); arrays not kept read as empty.
    """
    (idx, version, _before, strategy, batch, seed, count, estimate, test, train, spec, state,
     extra, _when) = row  # fmt: skip
    n_rows = len(keys.keys)
    arrays = {
        name: decode_array(data)
        for name, data in store.query("SELECT name, data FROM round_arrays WHERE round = ?", (idx,))
    }
    if version != source_version:
        old = store.query("SELECT key_digests FROM sources WHERE version = ?", (version,))
        new_of_old = rows_of_old(decode_array(old[0][0]), keys.key_digests)
        arrays = remap_arrays(new_of_old, n_rows, arrays)
    values = dict(json.loads(extra))
    values.update(
        index=idx, strategy=strategy, batch_size=batch, seed=seed, labeled_count=count,
        accuracy_estimate=estimate, test_accuracy=test, train_accuracy=train,
        model_spec=json.loads(spec), model_state=decode_state(state),
        queries=np.empty(0, np.int64), scores=np.full(n_rows, np.nan),
        partition=None, centers=None, region_ids=np.zeros(0, np.int64),
        proba=np.zeros((0, n_classes), np.float32),
    )  # fmt: skip
    values.update(arrays)
    known = {f.name for f in dataclasses.fields(RoundResult)}
    return RoundResult(**{k: v for k, v in values.items() if k in known})
