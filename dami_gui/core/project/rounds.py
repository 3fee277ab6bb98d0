"""A round as a project stores it: one row of ``rounds`` and its arrays in ``round_arrays``.

The summary figures get columns, the model its weights (see :mod:`dami_gui.core.project.arrays`),
the rest of the :class:`RoundResult` (timings, strategy extras, coverage) plain JSON. Queries,
scores and centers are kept for every round; the other arrays (partition, region ids,
probabilities, the cross-validated predictions) only for the last one, since they are large and
only the last round shows them. A version that does not know an array leaves it unread.

Reading a round back checks every part (:mod:`.checks`): figures that make no sense end the list
of rounds read (:class:`DamagedRound`); a model or an array that cannot be read is left out and
named in :attr:`StoredRound.damaged`, for the caller to recompute (see :mod:`.replay`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import sqlite3
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from dami_gui.core.coverage import RoundCoverage
from dami_gui.core.project import checks
from dami_gui.core.project.arrays import (
    check_state,
    decode_array,
    decode_state,
    encode_array,
    encode_state,
)
from dami_gui.core.project.errors import ProjectCorrupt
from dami_gui.core.project.source import RowKeys, remap_arrays, rows_of_old
from dami_gui.core.project.storage import Row, Store
from dami_gui.core.records import PER_PICK_INFO, RoundResult

if TYPE_CHECKING:
    import torch

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
    skip = {"index", "model_state", "model_spec", "cv_predictions", *ROUND_COLUMNS, *arrays}
    extra = {k: jsonable(v) for k, v in values.items() if k not in skip}
    # rows left from a damaged history (rounds the session set aside) give way to the new one
    conn.execute("DELETE FROM round_arrays WHERE round >= ?", (result.index,))
    conn.execute("DELETE FROM rounds WHERE idx >= ?", (result.index,))
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


class DamagedRound(ValueError):
    """A stored round whose figures make no sense; it and the rounds after it are set aside."""


@dataclass
class StoredRound:
    """A round read back: the result (on today's rows), and what of it could not be read."""

    result: RoundResult
    events_before: int
    damaged: list[str] = field(default_factory=list)  # e.g. "model", "scores"


#: The per-row arrays of a round: name -> (dimensions, whether the values are row numbers).
_ARRAY_SHAPES = {
    "queries": (1, True),
    "centers": (1, True),
    "scores": (1, False),
    "region_ids": (1, False),
    "partition": (1, False),
    "center_distance": (1, False),
    "proba": (2, False),
    "cv_predictions": (2, False),  # (row, label, predicted) of each labeled row
}


#: The columns of ``rounds`` as :func:`read_round` takes them (named: a damaged schema can make
#: the names ``SELECT *`` gives unreadable).
ROUND_FIELDS = (
    "idx, source_version, events_before, strategy, batch_size, seed, labeled_count, "
    "accuracy_estimate, test_accuracy, train_accuracy, model_spec, model_state, extra, time"
)


def read_round(
    store: Store,
    row: Row,
    keys: RowKeys,
    source_version: int,
    n_classes: int,
    n_features: int,
    with_model: bool = True,
) -> StoredRound:
    """The round of one ``rounds`` row (:data:`ROUND_FIELDS`), on today's rows, each checked.

    Arrays saved against an older version of the CSV file are moved onto the rows of ``keys``
    (the file as read now, version ``source_version``); arrays not kept read as empty. Raises
    :class:`DamagedRound` when the round's figures are unusable. ``with_model=False`` leaves the
    network out (empty spec and weights, as for a model that could not be read): reading weights
    loads torch, which labeling from the shell does not need. Its spec and the stored weights'
    archive are still checked (without torch), so a damaged model is found all the same, but
    for damage inside the tensors themselves (found by the next open that reads them).
    """
    (idx, version, before, strategy, batch, seed, count, estimate, test, train, spec, state,
     extra, _when) = row  # fmt: skip
    try:
        index, version = checks.whole(idx, 1), checks.whole(version, 1)
        result = RoundResult(
            index=index, strategy=checks.text(strategy, 200),
            batch_size=checks.whole(batch, 1, checks.MAX_ROWS),
            seed=checks.whole(seed, -(1 << 62)),
            labeled_count=checks.whole(count, 0, checks.MAX_ROWS),
            accuracy_estimate=checks.real_or_none(estimate),
            test_accuracy=checks.real_or_none(test),
            train_accuracy=checks.real_or_none(train),
            queries=np.empty(0, np.int64), scores=np.full(len(keys.keys), np.nan),
            partition=None, centers=None, region_ids=np.zeros(0, np.int64),
            proba=np.zeros((0, n_classes), np.float32), model_spec={}, model_state={},
        )  # fmt: skip
        before = checks.whole(before, 0)
    except ValueError as error:
        raise DamagedRound(f"round {idx!r}: {error}") from None
    n_rows = len(keys.keys)
    damaged: list[str] = []
    result.info, result.timings = _read_extra(extra)
    if not (result.cold_start and spec == "{}"):  # a cold start has no model to read
        result.model_spec, result.model_state = _read_model(
            spec, state, n_features, n_classes, damaged, with_model
        )
    arrays = _read_arrays(store, index, version, source_version, keys, n_classes, damaged)
    for name in _ARRAY_SHAPES:  # centers before the partition that points into them
        if name in arrays and _fits(name, arrays[name], n_rows, n_classes, result):
            setattr(result, name, arrays[name])
        elif name in arrays:
            damaged.append(name.replace("_", " "))
    for key in PER_PICK_INFO:
        values = result.info.get(key)
        if values is not None and not (
            isinstance(values, list) and len(values) == len(result.queries)
        ):
            del result.info[key]
    if "coverage" not in result.info and result.partition is None:
        result.info["coverage"] = _known_coverage(result)
    return StoredRound(result, before, damaged)


def _read_model(
    spec: object,
    state: object,
    n_features: int,
    n_classes: int,
    damaged: list[str],
    with_model: bool = True,
) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    try:
        model_spec = checks.model_spec(
            json.loads(checks.text(spec, 100_000)), n_features, n_classes
        )
        if not with_model:
            check_state(state, checks.state_bytes(model_spec))
            return {}, {}
        model_state = decode_state(state, checks.state_bytes(model_spec))
        checks.model_state(model_state, model_spec)
        return model_spec, model_state
    except (ValueError, TypeError, RecursionError, ProjectCorrupt):
        damaged.append("model")
        return {}, {}


def _read_arrays(
    store: Store,
    idx: int,
    version: int,
    source_version: int,
    keys: RowKeys,
    n_classes: int,
    damaged: list[str],
) -> dict[str, np.ndarray]:
    """The round's arrays, each bounded by the rows of the file version it was made on."""
    n_rows = len(keys.keys)
    new_of_old = None
    if version != source_version:
        old = store.query("SELECT n_rows, key_digests FROM sources WHERE version = ?", (version,))
        try:
            n_old = checks.whole(old[0][0], 0, checks.MAX_ROWS)
            digests = decode_array(old[0][1], 8 * n_old, "A stored list of rows")
            if digests.shape != (n_old,):
                raise ValueError("digests")
            new_of_old = rows_of_old(digests, keys.key_digests)
            n_rows = n_old
        except (IndexError, ValueError, ProjectCorrupt):
            damaged.append("queries and scores")
            return {}
    arrays: dict[str, np.ndarray] = {}
    rows = store.query("SELECT name, data FROM round_arrays WHERE round = ?", (idx,))
    for name, data in rows:
        if name not in _ARRAY_SHAPES:
            continue  # written by a newer version: not used here
        try:
            if not isinstance(data, bytes):
                raise ValueError("not an array")
            width = {"proba": n_classes, "cv_predictions": 3}.get(name, 1)
            limit = 8 * max(n_rows, 1) * width
            arrays[name] = decode_array(data, limit, f"The {name} of round {idx}")
        except (ValueError, ProjectCorrupt):
            damaged.append(name.replace("_", " "))
    if new_of_old is not None:
        arrays = remap_arrays(new_of_old, len(keys.keys), arrays)
    return arrays


def _fits(name: str, array: np.ndarray, n_rows: int, n_classes: int, kept: RoundResult) -> bool:
    """Whether a read array has the shape and values its name calls for."""
    dims, row_numbers = _ARRAY_SHAPES[name]
    if array.ndim != dims:
        return False
    integers = array.dtype.kind in "iu"
    if row_numbers:
        return integers and bool(((array >= 0) & (array < n_rows)).all())
    if name == "proba":
        return array.shape[1] == n_classes and array.shape[0] in (0, n_rows)
    if name == "cv_predictions":
        codes = array[:, 1:]
        return (
            integers
            and array.shape[1] == 3
            and bool(((array[:, 0] >= 0) & (array[:, 0] < n_rows)).all())
            and bool(((codes >= 0) & (codes < n_classes)).all())
        )
    if name == "region_ids":
        return integers
    if name == "partition":
        centers = kept.centers
        return (
            array.shape == (n_rows,)
            and integers
            and centers is not None
            and bool(((array >= 0) & (array < len(centers))).all())
        )
    return array.shape == (n_rows,)


def _read_extra(extra: object) -> tuple[dict[str, Any], dict[str, float]]:
    """Info (with the round's coverage, when valid) and timings from the round's JSON."""
    info: dict[str, Any] = {}
    timings: dict[str, float] = {}
    with contextlib.suppress(ValueError, TypeError, AttributeError, RecursionError):
        stored = json.loads(checks.text(extra, 10_000_000))
        if isinstance(stored.get("info"), dict):
            info = stored["info"]
        timings = {
            str(k): float(v)
            for k, v in stored.get("timings", {}).items()
            if isinstance(v, int | float) and not isinstance(v, bool)
        }
    try:
        RoundCoverage.from_dict(_coverage(info.get("coverage")))
    except (ValueError, TypeError, AttributeError):
        info.pop("coverage", None)  # computed from the arrays, where there are any
    return info, timings


def _known_coverage(result: RoundResult) -> dict[str, Any]:
    """The coverage record of a round with no arrays to compute it from: what is known."""
    accuracy = result.test_accuracy
    return RoundCoverage(
        round=result.index, labels=result.labeled_count, labeled_share=math.nan,
        n_exact_regions=0, new_regions=0, changed_region=None, prediction_change=None,
        accuracy=accuracy if accuracy is not None else result.accuracy_estimate,
    ).to_dict()  # fmt: skip


def _coverage(value: object) -> dict[str, Any]:
    """A stored coverage record with the right kinds of values (else ``ValueError``)."""
    if not isinstance(value, dict):
        raise ValueError("not a record")
    for name in ("round", "labels", "n_exact_regions", "new_regions"):
        checks.whole(value.get(name), 0)
    checks.real_or_none(value.get("labeled_share"))
    if value.get("changed_region") is not None:
        checks.whole(value.get("changed_region"), 0)
    for name in ("prediction_change", "accuracy"):
        checks.real_or_none(value.get(name))
    return value
