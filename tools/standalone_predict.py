"""Use a model exported by dami-gui with numpy alone: no dami-gui, no torch, no safetensors.

    python standalone_predict.py model.json new.csv > predictions.csv

``model.json`` and ``model.safetensors`` are the two files *File → Export → Trained model…* (or
``dami project export P.dami -o labels.csv --model model.safetensors``) writes. This file is the
example of docs/portable-model.md, and the test suite runs it and checks that its probabilities
equal dami-gui's on the same rows. Copy it into your own program: it only needs numpy and the
standard library.

It trusts neither file, as dami-gui does not: both must be regular files of bounded size, every
field of the JSON is type-checked and every number finite, the weights file's header is checked
(and compared with the network the JSON describes) before a tensor is read, the weights must be
finite and not absurdly large, and their SHA-256 must be the one the JSON records. Anything else
is a :class:`ModelError` with one sentence (``error: ...`` and exit code 2 from the command line).
A cell too far from the labeling file's values for float32 (``1e300``) is clamped to
±:data:`MAX_FEATURE` standard deviations and its row named in a ``clamped`` column, as dami-gui
does; probabilities that are not finite numbers are refused with the row's number.

It reads a comma-separated file with a header, in UTF-8 (or Windows cp1252). dami-gui's own
reader also guesses other separators and decimal commas; convert such files first, or give
:func:`prepare` the columns as lists of text yourself.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import math
import os
import re
import stat
import struct
import sys
from pathlib import Path

import numpy as np

#: Cell texts that mean "no value" (dami-gui's reader uses the same list).
MISSING = {
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null", "?",
}  # fmt: skip
NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]?(inf|infinity)", re.IGNORECASE)
DTYPES = {"F32": "<f4", "F64": "<f8", "F16": "<f2"}
#: The limits dami-gui applies (dami_gui/core/untrusted.py, model_file.py, preprocessing.py).
MAX_DESCRIPTION_BYTES = 32 << 20
MAX_WEIGHTS_HEADER = 1 << 20
MAX_LAYERS = 16
MAX_WIDTH = 16384
MAX_PARAMETERS = 50_000_000
MAX_WEIGHT = 1e6
MAX_FEATURE = 1e6
#: The longest CSV cell (or line) read, as dami-gui's reader (16 MB).
MAX_CELL = 16 << 20


class ModelError(ValueError):
    """A file that cannot be used; ``str(error)`` is one sentence saying why and what to do."""


def read_file(path: str | Path, limit: int | None, what: str) -> bytes:
    """The bytes of a regular file (never a named pipe, which would wait forever), refused
    beyond ``limit`` bytes from its size, before it is read."""
    path = Path(path)
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise ModelError(f"{path.name} is not an ordinary file, so it is not read as {what}.")
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise ModelError(f"{path.name} is not an ordinary file.")
            size = os.fstat(fd).st_size
            if limit is not None and size > limit:
                raise ModelError(f"{path.name} is larger than {what} can be ({limit:,} bytes).")
            return handle.read() if limit is None else handle.read(limit)
    except OSError as error:
        raise ModelError(f"{path.name} cannot be read ({error.strerror or error}).") from None


def read_json(data: bytes, name: str) -> object:
    """Strict JSON: UTF-8, no NaN or Infinity, not nested deeper than the parser goes."""

    def no_constant(text: str) -> object:
        raise ValueError(text)

    try:
        return json.loads(data.decode("utf-8"), parse_constant=no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ModelError(
            f"{name} is not valid JSON (UTF-8, no NaN, not nested too deeply)."
        ) from None


def read_safetensors(
    path: str | Path, expected: dict[str, tuple[int, ...]], sha256: object = None
) -> dict[str, np.ndarray]:
    """The tensors ``expected`` (name -> shape) of a safetensors file, as float64 arrays: 8-byte
    header length, JSON header, raw bytes. A file larger than these tensors need is refused
    from its size before it is read; the header must hold exactly them, and the bytes match
    ``sha256`` when given."""
    name = Path(path).name
    needed = 8 + MAX_WEIGHTS_HEADER + 8 * sum(math.prod(s) for s in expected.values())
    data = read_file(path, needed, "the weights of this network")
    if sha256 is not None and hashlib.sha256(data).hexdigest() != str(sha256).lower():
        raise ModelError(
            f"{name} is not the weights file written with model.json; export the model again."
        )

    def broken(why: str) -> ModelError:
        return ModelError(
            f"{name} is not a valid safetensors file ({why}); export the model again."
        )

    if len(data) < 8:
        raise broken("it is shorter than its 8-byte header length")
    (size,) = struct.unpack("<Q", data[:8])
    if size > MAX_WEIGHTS_HEADER or 8 + size > len(data):
        raise broken("the header length is larger than the file")
    header = read_json(data[8 : 8 + size], f"The header of {name}")
    if not isinstance(header, dict):
        raise broken("the header is not a JSON object")
    header.pop("__metadata__", None)
    if set(header) != set(expected):
        raise broken("it does not hold the tensors model.json names")
    start, tensors, spans = 8 + size, {}, []
    for key, shape in expected.items():
        entry = header[key]
        try:
            dtype = np.dtype(DTYPES[entry["dtype"]])
            begin, end = (int(v) for v in entry["data_offsets"])
            declared = tuple(int(n) for n in entry["shape"])
        except (KeyError, TypeError, ValueError):
            raise broken(f"the entry of '{key}' is incomplete or of an unknown type") from None
        if declared != shape:
            raise broken(f"'{key}' has the shape {declared}, not {shape}")
        if not 0 <= begin <= end <= len(data) - start:
            raise broken(f"the data of '{key}' lies outside the file")
        if end - begin != math.prod(shape) * dtype.itemsize:
            raise broken(f"the data of '{key}' does not match its shape")
        spans.append((begin, end))
        raw = np.frombuffer(data[start + begin : start + end], dtype=dtype)
        tensors[key] = raw.reshape(shape).astype(np.float64)
    position = 0
    for begin, end in sorted(spans):
        if begin != position:
            raise broken("its tensors overlap or leave a gap")
        position = end
    if position != len(data) - start:
        raise broken("it has bytes after the last tensor")
    return tensors


def _text(value: object, what: str) -> str:
    if not isinstance(value, str) or "\x00" in value:
        raise ModelError(f"model.json: {what} is not a text; export the model again.")
    return value


def _number(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ModelError(f"model.json: {what} is not a finite number; export the model again.")
    return float(value)


def _texts(value: object, what: str, distinct: bool = True) -> list[str]:
    if not isinstance(value, list):
        raise ModelError(f"model.json: {what} are not a list; export the model again.")
    items = [_text(v, what) for v in value]
    if distinct and ("" in items or len(set(items)) != len(items)):
        raise ModelError(f"model.json: {what} are empty or repeated; export the model again.")
    return items


def check_transform(transform: object) -> int:
    """Check one recorded transform (see the docs); return the number of inputs it gives."""
    if not isinstance(transform, dict):
        raise ModelError(
            "model.json: a preprocessing transform is not an object; export the model again."
        )
    column = _text(transform.get("column"), "a column name")
    kind = transform.get("kind")
    if kind not in ("numeric", "boolean", "categorical"):
        raise ModelError(
            f"model.json: column '{column}' has no known kind; export the model again."
        )
    for key in ("mean", "std", "fill"):
        _number(transform.get(key), f"the {key} of column '{column}'")
    if transform["std"] <= 0:
        raise ModelError(
            f"model.json: the std of column '{column}' is not above 0; export the model again."
        )
    if not isinstance(transform.get("missing_indicator"), bool):
        raise ModelError(
            f"model.json: missing_indicator of column '{column}' is not a boolean; export the "
            "model again."
        )
    categories = _texts(transform.get("categories"), f"the categories of '{column}'")
    _texts(transform.get("true_values"), f"the true values of '{column}'", distinct=False)
    width = len(categories) if kind == "categorical" else 1
    return width + int(transform["missing_indicator"])


def load(description_path: str | Path) -> tuple[dict, list[tuple[np.ndarray, np.ndarray]]]:
    """The JSON description and the layers as (weight, bias) pairs, first layer first, every
    part checked (see the module's docstring); a problem is a :class:`ModelError`."""
    path = Path(description_path)
    description = read_json(
        read_file(path, MAX_DESCRIPTION_BYTES, "a model description"), path.name
    )
    if not isinstance(description, dict) or description.get("format") != "dami-gui model":
        raise ModelError(
            f"{path.name} is not a model description written by dami-gui; export the model again."
        )
    version = description.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or not 2 <= version <= 2:
        raise ModelError(
            f"{path.name} has a format_version this example does not read (2); export the "
            "model again."
        )
    weights = description.get("weights")
    if (
        not isinstance(weights, str)
        or weights in ("", ".", "..")
        or re.search(r"[/\\:\x00]", weights)
    ):
        raise ModelError(
            f"{path.name} does not name a weights file beside it; export the model again."
        )
    if description.get("weights_format") != "safetensors":
        raise ModelError(
            f"{path.name}: this example reads safetensors weights only; export the model again."
        )
    classes = _texts(description.get("classes"), "the classes")
    preprocessing = description.get("preprocessing")
    transforms = preprocessing.get("transforms") if isinstance(preprocessing, dict) else None
    if not isinstance(transforms, list) or not transforms:
        raise ModelError(f"{path.name} has no preprocessing transforms; export the model again.")
    n_inputs = sum(check_transform(t) for t in transforms)
    network = description.get("architecture")
    layers = network.get("layers") if isinstance(network, dict) else None
    hidden = network.get("hidden") if isinstance(network, dict) else None
    if not (
        isinstance(layers, list)
        and isinstance(hidden, list)
        and len(layers) == len(hidden) + 1 <= MAX_LAYERS + 1
        and all(isinstance(layer, dict) for layer in layers)
        and [layer.get("activation") for layer in layers] == ["relu"] * len(hidden) + ["softmax"]
    ):
        raise ModelError(
            f"{path.name} does not describe the network's layers; export the model again."
        )
    widths = [n_inputs]
    for h in hidden:
        if isinstance(h, bool) or not isinstance(h, int) or not 1 <= h <= MAX_WIDTH:
            raise ModelError(
                f"{path.name}: a hidden layer's width is not 1 to {MAX_WIDTH}; export the model "
                "again."
            )
        widths.append(h)
    widths.append(len(classes))
    if sum(a * b + b for a, b in itertools.pairwise(widths)) > MAX_PARAMETERS:
        raise ModelError(
            f"{path.name} describes a network larger than dami-gui makes; export the model again."
        )
    expected = {}
    for i, layer in enumerate(layers):
        expected[_text(layer.get("weight"), "a weight's name")] = (widths[i + 1], widths[i])
        expected[_text(layer.get("bias"), "a bias's name")] = (widths[i + 1],)
    if len(expected) != 2 * len(layers):
        raise ModelError(f"{path.name} names one tensor twice; export the model again.")
    tensors = read_safetensors(path.with_name(weights), expected, description.get("weights_sha256"))
    for key, array in tensors.items():
        if not np.isfinite(array).all() or np.abs(array).max(initial=0.0) > MAX_WEIGHT:
            raise ModelError(
                f"{weights}: the tensor {key} holds values that are not finite or beyond "
                f"{MAX_WEIGHT:g}; export the model again."
            )
    pairs = [(tensors[layer["weight"]], tensors[layer["bias"]]) for layer in layers]
    return description, pairs


def _cells(values: list[str]) -> list[str | None]:
    """Stripped cell texts, None for a missing one."""
    return [None if v.strip() in MISSING else v.strip() for v in values]


def _as_text(cells: list[str | None]) -> list[str | None]:
    """Categories compare as text; in a column of numbers, 2.0 is "2" (as dami-gui reads it)."""
    filled = [c for c in cells if c is not None]
    if not filled or not all(NUMBER.fullmatch(c) for c in filled):
        return cells
    out: list[str | None] = []
    for c in cells:
        value = None if c is None else float(c)
        if value is None or not math.isfinite(value):
            out.append(None)
        elif value.is_integer() and abs(value) < 1e15:
            out.append(str(int(value)))
        else:
            out.append(repr(value))
    return out


def _column_features(transform: dict, values: list[str]) -> np.ndarray:
    """The inputs one column gives, following the recorded transform (see the docs)."""
    cells = _cells(values)
    if transform["kind"] == "categorical":
        text = _as_text(cells)
        missing = np.array([t is None for t in text])
        index = {c: j for j, c in enumerate(transform["categories"])}
        block = np.zeros((len(text), len(index)))
        for i, t in enumerate(text):
            if t in index:  # an unseen category, like a gap, leaves every indicator at 0
                block[i, index[t]] = 1.0
    else:
        if transform["kind"] == "boolean":
            truth = set(transform["true_values"])
            text = _as_text(cells)
            numbers = [math.nan if t is None else float(t.lower() in truth) for t in text]
        else:
            numbers = [float(c) if c and NUMBER.fullmatch(c) else math.nan for c in cells]
        column = np.array(numbers, dtype=np.float64)
        missing = ~np.isfinite(column)
        column[missing] = transform["fill"]
        with np.errstate(over="ignore"):
            block = ((column - transform["mean"]) / transform["std"])[:, None]
    if transform["missing_indicator"]:
        block = np.hstack([block, missing[:, None].astype(np.float64)])
    return block


def prepare(description: dict, columns: dict[str, list[str]]) -> tuple[np.ndarray, list[str]]:
    """The model's input matrix (rows x inputs, float32) from the table's columns of text, and
    per row the columns whose value was clamped to ±MAX_FEATURE ("" for none)."""
    blocks, n = [], len(next(iter(columns.values()), []))
    clamped = [""] * n
    for transform in description["preprocessing"]["transforms"]:
        if transform["column"] not in columns:
            raise ModelError(
                f"The file has no column '{transform['column']}', which the model needs."
            )
        block = _column_features(transform, columns[transform["column"]])
        for i in np.flatnonzero((~(np.abs(block) <= MAX_FEATURE)).any(axis=1)):
            column = transform["column"]
            clamped[i] = f"{clamped[i]}, {column}" if clamped[i] else column
        blocks.append(np.clip(block, -MAX_FEATURE, MAX_FEATURE))
    return np.hstack(blocks).astype(np.float32), clamped


def probabilities(layers: list[tuple[np.ndarray, np.ndarray]], X: np.ndarray) -> np.ndarray:
    """The network: ReLU after every layer but the last, then softmax over the classes."""
    h = X.astype(np.float64)
    for i, (weight, bias) in enumerate(layers):
        h = h @ weight.astype(np.float64).T + bias
        if i < len(layers) - 1:
            h = np.maximum(h, 0.0)
    h -= h.max(axis=1, keepdims=True)
    e = np.exp(h)
    return e / e.sum(axis=1, keepdims=True)


def read_columns(path: str | Path) -> dict[str, list[str]]:
    """A comma-separated file (UTF-8, else Windows cp1252) as column name -> list of cells."""
    name = Path(path).name
    raw = read_file(path, None, "a CSV file")
    if b"\x00" in raw:
        raise ModelError(f"{name} holds binary data (a NUL byte), not only text.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    csv.field_size_limit(MAX_CELL)
    try:
        rows = [row for row in csv.reader(io.StringIO(text, newline="")) if row]
    except csv.Error as error:
        raise ModelError(f"{name} cannot be read as CSV ({error}).") from None
    if not rows:
        raise ModelError(f"{name} is empty; give a file with a header row and data rows.")
    header = [cell.strip() for cell in rows[0]]
    if len(set(header)) != len(header):
        raise ModelError(f"{name}: two columns have the same name in the header.")
    if len(rows) < 2:
        raise ModelError(f"{name} has a header but no rows.")
    for number, row in enumerate(rows[1:], start=1):
        if len(row) > len(header):
            raise ModelError(f"{name}: data row {number} has more values than the header.")
    body = [row + [""] * (len(header) - len(row)) for row in rows[1:]]
    return {column: [row[j] for row in body] for j, column in enumerate(header)}


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: standalone_predict.py model.json new.csv > predictions.csv", file=sys.stderr)
        return 2
    try:
        description, layers = load(argv[0])
        X, clamped = prepare(description, read_columns(argv[1]))
        with np.errstate(all="ignore"):  # an overflow is refused below, with its row
            proba = probabilities(layers, X)
        bad = ~np.isfinite(proba).all(axis=1)
        if bad.any():
            raise ModelError(f"The model gives no finite probabilities for row {bad.argmax() + 1}.")
    except ModelError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    classes = description["classes"]
    out = csv.writer(sys.stdout, lineterminator="\n")
    flagged = any(clamped)
    out.writerow(["row", "predicted", *[f"p_{c}" for c in classes], *["clamped"][: int(flagged)]])
    for i, p in enumerate(proba):
        values = [f"{v:.9g}" for v in p]
        out.writerow([i + 1, classes[int(p.argmax())], *values, *[clamped[i]][: int(flagged)]])
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BrokenPipeError:  # the reader stopped early (``| head``): not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
