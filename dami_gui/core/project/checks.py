"""Values read back from a project file, checked before they are used.

A project file can be damaged, or made by someone else to harm; nothing in it is taken on trust.
Each check here returns the value in the form the code uses, or raises ``ValueError`` saying what
is wrong, and the caller decides what that costs: a label event that does not make sense is set
aside (:mod:`.replay`), a round's model that does not is recomputed, damaged classes or columns
refuse the project with one sentence. Limits are far above anything the app makes, and far below
what would exhaust a computer: a model spec cannot ask for 160 GB of weights.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping
from typing import Any

import torch

from dami_gui.core.data.kinds import KINDS
from dami_gui.core.data.roles import ROLES
from dami_gui.core.model import MLPConfig
from dami_gui.core.records import EVENT_KINDS

#: Hidden layers and units per layer a stored network may have.
MAX_LAYERS = 16
MAX_WIDTH = 16384
#: Weights and biases of a stored network, all layers together (200 MB of float32).
MAX_PARAMETERS = 50_000_000
#: Training schedule a stored configuration may ask for.
MAX_EPOCHS = 100_000
MAX_STEPS = 10_000_000
#: Rows a stored version of the CSV file may have had, and the longest stored path.
MAX_ROWS = 1 << 31
MAX_PATH = 4096


def whole(value: object, minimum: int = 0, maximum: int = 1 << 62) -> int:
    """``value`` as an int in ``minimum..maximum``; bool and anything else is refused."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{value!r} is not a whole number")
    if not minimum <= value <= maximum:
        raise ValueError(f"{value} is not in {minimum}..{maximum}")
    return value


def real_or_none(value: object) -> float | None:
    """A finite number (as float) or None; anything else is refused."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{value!r} is not a number")
    return float(value)


def text(value: object, max_length: int = 10_000) -> str:
    """A string of valid UTF-8 without NUL characters, at most ``max_length`` long."""
    if not isinstance(value, str) or "\x00" in value or len(value) > max_length:
        raise ValueError("not a text")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # bytes that were not UTF-8 in the file (see Store)
        raise ValueError("not a text") from None
    return value


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


def model_spec(value: object, n_features: int, n_classes: int) -> dict[str, Any]:
    """A network spec (:meth:`MLP.spec`) for this dataset, within the limits above."""
    if not isinstance(value, Mapping):
        raise ValueError("not a spec")
    features = whole(value.get("n_features"), 1, MAX_WIDTH * 64)
    classes = whole(value.get("n_classes"), 1, MAX_WIDTH)
    if (features, classes) != (n_features, n_classes):
        raise ValueError(f"a network for {features} features and {classes} classes")
    hidden = value.get("hidden")
    if not isinstance(hidden, list | tuple) or not 1 <= len(hidden) <= MAX_LAYERS:
        raise ValueError("hidden layers")
    widths = [features, *(whole(h, 1, MAX_WIDTH) for h in hidden), classes]
    if sum(a * b + b for a, b in itertools.pairwise(widths)) > MAX_PARAMETERS:
        raise ValueError("too many weights")
    return {"n_features": features, "n_classes": classes, "hidden": widths[1:-1]}


def state_shapes(spec: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
    """The names and shapes of the tensors of a network with a checked ``spec``."""
    widths = [spec["n_features"], *spec["hidden"], spec["n_classes"]]
    shapes: dict[str, tuple[int, ...]] = {}
    for i, (a, b) in enumerate(itertools.pairwise(widths)):
        shapes[f"linears.{i}.weight"] = (b, a)
        shapes[f"linears.{i}.bias"] = (b,)
    return shapes


def state_bytes(spec: Mapping[str, Any]) -> int:
    """The most bytes ``torch.save`` of such a network can take (tensors, names, alignment)."""
    shapes = state_shapes(spec)
    return sum(8 * math.prod(s) for s in shapes.values()) + 4096 * (len(shapes) + 4)


def model_state(state: Mapping[str, torch.Tensor], spec: Mapping[str, Any]) -> None:
    """Refuse weights that are not exactly those of ``spec``, or not finite numbers."""
    shapes = state_shapes(spec)
    if set(state) != set(shapes):
        raise ValueError("other tensors than the network's")
    for name, tensor in state.items():
        if tuple(tensor.shape) != shapes[name] or not tensor.dtype.is_floating_point:
            raise ValueError(f"tensor {name}")
        if not bool(torch.isfinite(tensor).all()):
            raise ValueError(f"tensor {name} is not finite")


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
