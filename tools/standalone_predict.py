"""Use a model exported by dami-gui with numpy alone: no dami-gui, no torch, no safetensors.

    python standalone_predict.py model.json new.csv > predictions.csv

``model.json`` and ``model.safetensors`` are the two files *File → Export → Trained model…* (or
``dami project export P.dami -o labels.csv --model model.safetensors``) writes. This file is the example
of docs/portable-model.md, and the test suite runs it and checks that its probabilities equal
dami-gui's on the same rows. Copy it into your own program: it only needs numpy and the
standard library.

It reads a plain comma-separated UTF-8 file with a header. dami-gui's own reader also guesses
other separators, decimal commas and encodings; convert such files first, or give
:func:`prepare` the columns as lists of text yourself.
"""

from __future__ import annotations

import csv
import json
import math
import re
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


def read_safetensors(path: str | Path) -> dict[str, np.ndarray]:
    """Every tensor of a safetensors file: 8-byte header length, JSON header, raw bytes."""
    data = Path(path).read_bytes()
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + size])
    header.pop("__metadata__", None)
    start = 8 + size
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        array = np.frombuffer(data[start + begin : start + end], dtype=DTYPES[entry["dtype"]])
        tensors[name] = array.reshape(entry["shape"])
    return tensors


def load(description_path: str | Path) -> tuple[dict, list[tuple[np.ndarray, np.ndarray]]]:
    """The JSON description and the layers as (weight, bias) pairs, first layer first."""
    path = Path(description_path)
    description = json.loads(path.read_text(encoding="utf-8"))
    tensors = read_safetensors(path.with_name(description["weights"]))
    layers = [
        (tensors[layer["weight"]], tensors[layer["bias"]])
        for layer in description["architecture"]["layers"]
    ]
    return description, layers


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
        block = ((column - transform["mean"]) / transform["std"])[:, None]
    if transform["missing_indicator"]:
        block = np.hstack([block, missing[:, None].astype(np.float64)])
    return block


def prepare(description: dict, columns: dict[str, list[str]]) -> np.ndarray:
    """The model's input matrix (rows x inputs, float32) from the table's columns of text."""
    blocks = []
    for transform in description["preprocessing"]["transforms"]:
        if transform["column"] not in columns:
            raise SystemExit(f"error: the file has no column '{transform['column']}'")
        blocks.append(_column_features(transform, columns[transform["column"]]))
    return np.nan_to_num(np.hstack(blocks)).astype(np.float32)


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
    """A comma-separated UTF-8 file as column name -> list of cell texts."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    header = [name.strip() for name in rows[0]]
    body = [row + [""] * (len(header) - len(row)) for row in rows[1:] if row]
    return {name: [row[j] for row in body] for j, name in enumerate(header)}


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: standalone_predict.py model.json new.csv > predictions.csv", file=sys.stderr)
        return 2
    description, layers = load(argv[0])
    columns = read_columns(argv[1])
    proba = probabilities(layers, prepare(description, columns))
    classes = description["classes"]
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["row", "predicted", *[f"p_{c}" for c in classes]])
    for i, p in enumerate(proba):
        out.writerow([i + 1, classes[int(p.argmax())], *[f"{v:.9g}" for v in p]])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
