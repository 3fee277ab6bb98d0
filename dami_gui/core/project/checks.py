"""Values read back from a project file, checked before they are used.

A project file can be damaged, or made by someone else to harm; nothing in it is taken on trust.
Each check here returns the value in the form the code uses, or raises ``ValueError`` saying what
is wrong, and the caller decides what that costs: a label event that does not make sense is set
aside (:mod:`.replay`), a round's model that does not is recomputed, damaged classes or columns
refuse the project with one sentence. The rules every reader shares (numbers, texts, the limits
of a network and its weights) live in :mod:`dami_gui.core.untrusted`, so an exported model meets
the same ones; they are imported here under their usual names.
"""

from __future__ import annotations

import json
import math
from typing import Any

from dami_gui.core.data.kinds import KINDS
from dami_gui.core.data.roles import ROLES
from dami_gui.core.learner.config import LearnerConfig
from dami_gui.core.network import MLPConfig
from dami_gui.core.records import EVENT_KINDS

# the rules shared with every reader (an exported model's too): one place, see core.untrusted
from dami_gui.core.untrusted import (
    MAX_LAYERS,
    MAX_PARAMETERS,
    MAX_WIDTH,
    model_spec,
    model_state,
    real_or_none,
    state_bytes,
    state_shapes,
    text,
    whole,
)

__all__ = [
    "MAX_EPOCHS",
    "MAX_LAYERS",
    "MAX_PARAMETERS",
    "MAX_PATH",
    "MAX_ROWS",
    "MAX_STEPS",
    "MAX_WIDTH",
    "classes",
    "columns",
    "event",
    "model_config",
    "model_spec",
    "model_state",
    "real_or_none",
    "state_bytes",
    "state_shapes",
    "text",
    "whole",
]

#: Training schedule a stored configuration may ask for.
MAX_EPOCHS = 100_000
MAX_STEPS = 10_000_000
#: Rows a stored version of the CSV file may have had, and the longest stored path.
MAX_ROWS = 1 << 31
MAX_PATH = 4096


# ------------------------------------------------------------------------------ label events


Event = tuple[int, int, str, str, int | None, int, float, int | None]


def event(row: tuple[Any, ...], n_classes: int) -> Event:
    """A stored event ``(seq, row, key, version, kind, label, round, time, undoes)`` checked.

    Returns ``(seq, row, key, kind, label, round, time, undoes)``; ``row`` is -1 when the stored
    row number is unusable (the key finds the row). A label must be a class code in
    ``0..n_classes - 1``.
    """
    seq, position, key, _version, kind, label, rnd, when, undoes = row
    seq = whole(seq, 1)
    try:
        position = whole(position, 0, MAX_ROWS)
    except ValueError:
        position = -1
    key = text(key, 1000)
    if kind not in EVENT_KINDS:
        raise ValueError(f"kind {kind!r}")
    if kind == "label":
        label = whole(label, 0, n_classes - 1)
    elif label is not None:
        label = None  # a skip or undo carries no label; a stray value means nothing
    rnd = whole(rnd, 0, 1 << 31)
    when = real_or_none(when)
    undoes = None if undoes is None else whole(undoes, 1)
    if kind == "undo" and undoes is None:
        raise ValueError("an undo of nothing")
    return seq, position, key, kind, label, rnd, 0.0 if when is None else when, undoes


def event_groups(stored: object) -> list[tuple[int, int]]:
    """The stored ranges of seqs given together (meta 'event_groups', a row or its JSON text),
    each checked; anything damaged reads as no group (the events undo one by one)."""
    if isinstance(stored, tuple | list) and len(stored) == 1:
        stored = stored[0]  # a row of the meta table
    if stored is None:
        return []
    try:
        pairs = json.loads(text(stored, 10_000_000))
        if not isinstance(pairs, list):
            return []
        out = []
        for pair in pairs:
            if not (isinstance(pair, list) and len(pair) == 2):
                return []
            first, last = whole(pair[0], 1), whole(pair[1], 1)
            if last < first:
                return []
            out.append((first, last))
        return out
    except (ValueError, TypeError, RecursionError):
        return []


# ------------------------------------------------------------------------------ the model


def model_config(value: object) -> MLPConfig | None:
    """A stored :class:`MLPConfig` within the limits above, or None (the caller's default)."""
    try:
        if not isinstance(value, dict):
            return None
        config = MLPConfig.from_dict(dict(value))
    except Exception:  # anything a damaged record can raise: the default is used
        return None
    widths = config.hidden
    within = (
        len(widths) <= MAX_LAYERS
        and max(widths) <= MAX_WIDTH
        and config.min_epochs <= MAX_EPOCHS
        and config.min_steps <= MAX_STEPS
        and config.batch_size <= MAX_ROWS
        and math.isfinite(config.learning_rate)
        and math.isfinite(config.weight_decay)
    )
    return config if within else None


def learner_config(value: object) -> LearnerConfig | None:
    """A stored :class:`LearnerConfig` within the limits above, or None (the caller's default)."""
    try:
        if not isinstance(value, dict):
            return None
        config = LearnerConfig.from_dict(dict(value))
    except Exception:  # anything a damaged record can raise: the default is used
        return None
    within = (
        config.transfer_rows <= MAX_ROWS
        and config.augment_to <= MAX_ROWS
        and config.student_epochs <= MAX_EPOCHS
        and config.student_min_steps <= MAX_STEPS
        and config.student_batch_size <= MAX_ROWS
        and math.isfinite(config.student_learning_rate)
        and math.isfinite(config.student_weight_decay)
    )
    return config if within else None


# ------------------------------------------------------------------------------ the table


def columns(rows: list[tuple[Any, ...]]) -> list[tuple[str, str, str, str]]:
    """Stored column decisions ``(name, role, kind, reason)``: known roles and kinds only."""
    checked = []
    for name, role, kind, reason in rows:
        if role not in ROLES or kind not in KINDS:
            raise ValueError(f"column {name!r}: role {role!r}, kind {kind!r}")
        checked.append((text(name, 10_000), role, kind, text(reason)))
    if not checked:
        raise ValueError("no columns")
    return checked


def classes(rows: list[tuple[Any, ...]]) -> list[str]:
    """Stored classes ``(code, name)``: codes 0, 1, 2, ... and distinct non-empty names."""
    names = []
    for expected, (code, name) in enumerate(rows):
        if code != expected or isinstance(code, bool):
            raise ValueError(f"class code {code!r}")
        names.append(text(name, 10_000))
    if not names or len(set(names)) != len(names) or "" in names:
        raise ValueError("class names")
    return names
