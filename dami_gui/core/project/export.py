"""What a campaign produces, written for other programs: labeled rows as CSV, and the model.

* :func:`export_labels`: the labeled rows (or the whole pool) with their original columns, the
  current label in the label column, the round each label was given in, and its status.
  Text cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``,
  tab or carriage return) get a leading ``'``; numbers, negative ones included, stay numbers.
* :func:`export_model`: the network's weights as safetensors (``torch.save`` for a name ending
  in ``.pt``, as before), and beside it a JSON file with what is needed to use it without
  dami-gui: the architecture, class names, feature names and the recorded preprocessing (see
  :mod:`dami_gui.core.prediction.model_file` and docs/portable-model.md).

Every file is written under a new hidden name (created new, never through a link) and renamed
when complete (:func:`write_atomic`), so a failure (a full disk, a cancelled export) never leaves
half a file where the user expects a whole one, and a link at the target is replaced, not written
through. :func:`write_table` is the one way a table leaves dami as CSV: ``dami project export``,
the app's File → Export, ``dami predict`` and ``dami select --out`` all write through it.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from dami_gui.core.errors import DamiError
from dami_gui.core.project.errors import no_room
from dami_gui.core.project.sidecars import create_new, temp_name
from dami_gui.core.records import RoundResult
from dami_gui.core.session import Session

__all__ = [
    "escape_cell",
    "export_labels",
    "export_model",
    "label_rounds",
    "labels_table",
    "write_atomic",
    "write_table",
]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def escape_cell(value: object) -> object:
    """``value`` made safe for a spreadsheet: text that would start a formula gets a ``'``.

    Non-text values are returned as they are, and so is text that is a plain number ("-3.5").
    """
    if (
        isinstance(value, str)
        and value.startswith(_FORMULA_START)
        and not _PLAIN_NUMBER.fullmatch(value.strip())
    ):
        return "'" + value
    return value


def label_rounds(session: Session) -> np.ndarray:
    """For each row, the round whose queries were shown when its current label was given.

    0 means before the first round; -1 means the label (or none) comes from the file. Undo puts
    back the round of the answer it restores.
    """
    rounds = np.full(session.n_rows, -1, dtype=np.int64)
    before: list[int] = []  # the row's round before each event, which its undo restores
    for event in session.events:
        before.append(int(rounds[event.row]))
        if event.kind == "undo" and event.undoes is not None:
            rounds[event.row] = before[event.undoes]
        else:
            rounds[event.row] = event.round
    return rounds


def _free_name(name: str, taken: set[str]) -> str:
    while name in taken:
        name = f"dami_{name}"
    return name


def labels_table(session: Session, all_rows: bool = False) -> pd.DataFrame:
    """The rows with a label (all rows with ``all_rows``) as they were read, plus the labels.

    The label column (``label`` when the table had none) holds the current class names, empty
    where there is none; a ``round`` column the round of each label (empty for labels from the
    file) and a ``status`` column one of "labeled", "from file", "skipped" or "unlabeled".
    A table without an id column gets a first column ``row``, each row's number in the file
    (1-based, as ``dami select`` and ``dami project label`` count), so that the labels join
    back to the pool.
    """
    dataset = session.dataset
    frame = dataset.frame.copy()
    taken = {str(c) for c in frame.columns}
    if dataset.report.column("id") is None:
        frame.insert(0, _free_name("row", taken), np.arange(1, session.n_rows + 1))
        taken = {str(c) for c in frame.columns}
    label_column = dataset.report.column("label") or _free_name("label", taken)
    round_column = _free_name("round", taken | {label_column})
    status_column = _free_name("status", taken | {label_column, round_column})
    labels = session.labels
    names = np.array([*session.classes, ""], dtype=object)
    rounds = label_rounds(session)
    status = np.full(session.n_rows, "unlabeled", dtype=object)
    status[labels >= 0] = "labeled"
    status[(labels >= 0) & (rounds < 0)] = "from file"
    status[session.skipped] = "skipped"
    answered = (rounds >= 0) & ((labels >= 0) | session.skipped)
    frame[label_column] = names[labels]  # -1 picks the trailing ""
    frame[round_column] = pd.array(np.where(answered, rounds, 0), dtype="Int64")
    frame.loc[~answered, round_column] = pd.NA
    frame[status_column] = status
    if not all_rows:
        frame = frame[labels >= 0]
    return frame


def export_labels(session: Session, path: str | Path, all_rows: bool = False) -> int:
    """Write :func:`labels_table` to ``path`` as UTF-8 CSV, formula-like text escaped.

    Returns the number of rows written.
    """
    return write_table(labels_table(session, all_rows), path, "the CSV")


#: How every number dami computes is written (scores, probabilities, contributions): 7
#: significant digits, what float32, the precision they are computed in, carries; 16 digits
#: were noise. The cells read from the user's file are text and are written as they were read.
FLOAT_FORMAT = "%.7g"


def write_table(table: pd.DataFrame, path: str | Path, what: str = "the CSV") -> int:
    """Write ``table`` to ``path`` as UTF-8 CSV, atomically, formula-like text escaped.

    Text cells and column names that a spreadsheet would run as a formula get a leading ``'``
    (:func:`escape_cell`); numbers stay numbers, floats with :data:`FLOAT_FORMAT`. ``what``
    names the file in an error ("the rows to label"). Returns the number of rows written.
    """
    table = table.copy()
    for column in table.columns:
        if not pd.api.types.is_numeric_dtype(table[column]):  # text (object or str) columns
            table[column] = table[column].map(escape_cell)
    table.columns = [escape_cell(str(c)) for c in table.columns]
    text = table.to_csv(index=False, lineterminator="\n", float_format=FLOAT_FORMAT)
    write_atomic(Path(path), lambda f: f.write(text.encode("utf-8")), what)
    return len(table)


def export_model(
    session: Session, path: str | Path, result: RoundResult | None = None
) -> tuple[Path, Path]:
    """Write the model of ``result`` (default: the last round) and its JSON description.

    ``path`` gets the weights: safetensors (``model.safetensors``), or ``torch.save`` of the
    ``state_dict`` for a name ending in ``.pt`` as before; the description (see
    :mod:`dami_gui.core.prediction.model_file`) goes beside it with the suffix ``.json``.
    Returns both paths. torch is loaded here, not by the labels' export.
    """
    import torch

    from dami_gui.core.prediction.model_file import (
        model_description,
        sidecar_path,
        weights_bytes,
        weights_format,
    )

    result = result or session.last_round
    if result is None:
        raise DamiError("There is no model yet; run a round first, then export the model.")
    if not result.has_model:
        raise DamiError(
            "There is no model yet: a model is trained once rows of two classes are labeled; "
            "label the first rows, run a round, then export the model."
        )
    path = Path(path)
    sidecar = sidecar_path(path)
    kind = weights_format(path)
    state = {k: v.detach().cpu() for k, v in result.model_state.items()}
    if kind == "torch":
        buffer = io.BytesIO()
        torch.save(state, buffer)
        weights = buffer.getvalue()
    else:
        weights = weights_bytes(state)
    description = model_description(session, result, path.name, kind, weights)
    text = json.dumps(description, indent=2, allow_nan=False)  # strict JSON: no NaN
    write_atomic(path, lambda f: f.write(weights), "the model")
    write_atomic(sidecar, lambda f: f.write(text.encode("utf-8")), "the model description")
    return path, sidecar


def write_atomic(path: Path, write: Callable[[io.BufferedWriter], object], what: str) -> None:
    """Write through ``write(binary file)`` to a new hidden file, then rename it to ``path``.

    The hidden file is created new (``O_EXCL | O_NOFOLLOW``) under a name nobody can guess, so a
    link put beside the target is never written through; renaming replaces ``path`` itself
    (a link there included), never the file a link points to. A failure leaves ``path`` as it
    was and raises a :class:`DamiError` naming ``what`` was not written, and why.
    """
    path = Path(path)
    temp = temp_name(path)
    try:
        with os.fdopen(create_new(temp), "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except OSError as error:
        with contextlib.suppress(OSError):
            temp.unlink()
        reason, fix = error.strerror or str(error), "choose another file or folder"
        if error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            reason = no_room(path) or "the disk is full"
            fix = "free some space, or choose another folder"
        raise DamiError(
            f"Cannot write {what} to {path} ({reason}), so nothing was written there; {fix}."
        ) from None
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
