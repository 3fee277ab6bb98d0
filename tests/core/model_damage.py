"""An exported model and the file to predict, and every kind of damage done to them, one by one.

Shared by the tests of dami-gui's own loader (``dami predict``, tests/core/test_model_crafted.py)
and of the numpy-only example (tools/standalone_predict.py, tests/core/test_standalone_loader.py):
both loaders face the same damaged files and must give the same verdict, one line and exit
code 2, or (for the few kinds in :data:`BENIGN`) the same, flagged, predictions.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import shutil
import struct
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from dami_gui.cli import main as cli
from dami_gui.core.prediction import safetensors
from dami_gui.core.project.export import export_model

from .predict_data import mixed_project, new_rows

TOOL = Path(__file__).resolve().parents[2] / "tools" / "standalone_predict.py"
JSON, WEIGHTS, CSV = "model.json", "model.safetensors", "new.csv"


def make_export(folder: Path) -> Path:
    """A project after one round, its model exported, and a new file to predict: ``folder``."""
    with mixed_project(folder) as project:
        export_model(project.session, folder / WEIGHTS)
    new_rows().to_csv(folder / CSV, index=False)
    return folder


def copy_export(source: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in (JSON, WEIGHTS, CSV):
        shutil.copyfile(source / name, folder / name)
    return folder


# ------------------------------------------------------------------------------ editing


def description(folder: Path) -> dict:
    return json.loads((folder / JSON).read_text(encoding="utf-8"))


def edit_json(folder: Path, change: Callable[[dict], object]) -> None:
    meta = description(folder)
    change(meta)
    (folder / JSON).write_text(json.dumps(meta), encoding="utf-8")


def sign(folder: Path) -> None:
    """Record the weights file's current SHA-256 in the JSON, so that damage to the weights
    reaches the checks behind the digest's."""
    digest = hashlib.sha256((folder / WEIGHTS).read_bytes()).hexdigest()
    edit_json(folder, lambda meta: meta.__setitem__("weights_sha256", digest))


def write_weights(folder: Path, data: bytes, signed: bool = True) -> None:
    (folder / WEIGHTS).write_bytes(data)
    if signed:
        sign(folder)


def tensors(folder: Path) -> dict[str, np.ndarray]:
    return safetensors.decode((folder / WEIGHTS).read_bytes())[0]


def set_weight(folder: Path, value: float) -> None:
    """One weight of the first layer set to ``value``; the file otherwise valid and signed."""
    arrays = tensors(folder)
    arrays["linears.0.weight"][0, 0] = value
    write_weights(folder, safetensors.encode(arrays))


def split(folder: Path) -> tuple[dict, bytes]:
    """(the safetensors header as a dict, the bytes after it)."""
    data = (folder / WEIGHTS).read_bytes()
    (size,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8 : 8 + size]), data[8 + size :]


def join(header: dict, buffer: bytes) -> bytes:
    text = json.dumps(header).encode("utf-8")
    return struct.pack("<Q", len(text)) + text + buffer


def edit_csv(folder: Path, change: Callable[[pd.DataFrame], pd.DataFrame | None]) -> None:
    frame = pd.read_csv(folder / CSV, dtype=str, keep_default_na=False)
    changed = change(frame)
    (changed if changed is not None else frame).to_csv(folder / CSV, index=False)


def fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def missing_tensor(folder: Path) -> None:
    header, buffer = split(folder)
    last = max(header, key=lambda name: header[name].get("data_offsets", [0, 0])[1])
    begin, _ = header.pop(last)["data_offsets"]  # the last in the buffer: the rest stays valid
    write_weights(folder, join(header, buffer[:begin]))


def huge_weights(folder: Path) -> None:
    """The valid weights followed by 2.5 GB (a sparse file: no disk, and nothing to read if the
    loader does its job)."""
    sign(folder)
    with (folder / WEIGHTS).open("r+b") as handle:
        handle.truncate(2_500_000_000)


def huge_network(meta: dict) -> None:
    """A spec and architecture of two hidden layers of 16,000 units (1.3 GB of weights)."""
    meta["spec"]["hidden"] = meta["architecture"]["hidden"] = [16000, 16000]
    meta["architecture"]["layers"] = [
        {"weight": f"linears.{i}.weight", "bias": f"linears.{i}.bias", "activation": act}
        for i, act in enumerate(["relu", "relu", "softmax"])
    ]


def cell_text(column: str, row: int, value: str) -> Callable[[Path], None]:
    def change(folder: Path) -> None:
        edit_csv(folder, lambda frame: frame.__setitem__(column, _set(frame[column], row, value)))

    return change


def _set(series: pd.Series, row: int, value: str) -> pd.Series:
    series = series.copy()
    series.iloc[row] = value
    return series


def cp1252(folder: Path) -> None:
    edit_csv(folder, lambda frame: frame.__setitem__("comment", "vérifié – ok"))
    text = (folder / CSV).read_text(encoding="utf-8")
    (folder / CSV).write_bytes(text.encode("cp1252"))


def nul_byte(folder: Path) -> None:
    data = (folder / CSV).read_bytes()
    (folder / CSV).write_bytes(data[:-20] + b"\x00" + data[-20:])


#: Each kind of damage, by name: a function that applies it to a copy of the export's folder.
DAMAGE: dict[str, Callable[[Path], None]] = {
    # model.json
    "json is a list": lambda f: (f / JSON).write_text("[1, 2]"),
    "json nested 100,000 deep": lambda f: (f / JSON).write_text("[" * 100_000 + "]" * 100_000),
    "json not UTF-8": lambda f: (f / JSON).write_bytes((f / JSON).read_bytes() + b"\xff\xfe"),
    "json empty": lambda f: (f / JSON).write_bytes(b""),
    "json NaN": lambda f: (f / JSON).write_text(
        (f / JSON).read_text().replace('"mean": ', '"mean": NaN, "was": ', 1)
    ),
    "format_version as text": lambda f: edit_json(f, lambda m: m.update(format_version="2")),
    "format_version as a list": lambda f: edit_json(f, lambda m: m.update(format_version=[2])),
    "format_version newer": lambda f: edit_json(f, lambda m: m.update(format_version=3)),
    "weights ../x": lambda f: edit_json(f, lambda m: m.update(weights="../x")),
    "weights absolute": lambda f: edit_json(f, lambda m: m.update(weights=str(f / WEIGHTS))),
    "weights empty": lambda f: edit_json(f, lambda m: m.update(weights="")),
    "classes repeated": lambda f: edit_json(f, lambda m: m.update(classes=["a", "a", "c"])),
    "classes too few": lambda f: edit_json(f, lambda m: m.update(classes=["a", "b"])),
    "scale zero": lambda f: edit_json(
        f, lambda m: m["preprocessing"]["transforms"][0].update(std=0)
    ),
    "mean as text": lambda f: edit_json(
        f, lambda m: m["preprocessing"]["transforms"][0].update(mean="0.5")
    ),
    "hidden [16000, 16000]": lambda f: edit_json(f, huge_network),
    # model.safetensors (signed again after the damage, so that the digest does not hide it)
    "weights file empty": lambda f: write_weights(f, b""),
    "header length past the file": lambda f: write_weights(
        f, struct.pack("<Q", 1 << 20) + (f / WEIGHTS).read_bytes()[8:]
    ),
    "header not UTF-8": lambda f: write_weights(
        f,
        (f / WEIGHTS).read_bytes().replace(b'"dtype"', b'"\xff\xfeype"', 1),  # same length
    ),
    "shape not matching the data": lambda f: write_weights(
        f, (f / WEIGHTS).read_bytes().replace(b'"shape":[8,8]', b'"shape":[8,9]', 1)
    ),
    "a tensor missing": missing_tensor,
    "weights cut short": lambda f: write_weights(f, (f / WEIGHTS).read_bytes()[:-10]),
    "NaN weight": lambda f: set_weight(f, np.nan),
    "infinite weight": lambda f: set_weight(f, np.inf),
    "weight 1e30": lambda f: set_weight(f, 1e30),
    "weights 2.5 GB": huge_weights,
    "weights not the signed ones": lambda f: (
        set_weight(f, 0.5) or edit_json(f, lambda m: m.update(weights_sha256="0" * 64))
    ),
    # the file to predict
    "csv empty": lambda f: (f / CSV).write_bytes(b""),
    "csv header only": lambda f: (f / CSV).write_text("comment,flag,name,colour,x2,x1\n"),
    "csv with a NUL byte": nul_byte,
    "csv without a needed column": lambda f: edit_csv(f, lambda frame: frame.drop(columns="x1")),
    "csv in cp1252": cp1252,
    "csv cell of 200 KB": cell_text("x1", 4, "9" * 200_000),
    "csv cells 1e300 and -1e308": lambda f: (
        cell_text("x1", 2, "1e300")(f),
        cell_text("x2", 7, "-1e308")(f),
    ),
}
if hasattr(os, "mkfifo"):
    DAMAGE["json a named pipe"] = lambda f: fifo(f / JSON)
    DAMAGE["weights a named pipe"] = lambda f: fifo(f / WEIGHTS)
    DAMAGE["csv a named pipe"] = lambda f: fifo(f / CSV)

#: Damage both loaders take in their stride: the same predictions (cells read as gaps, a text
#: encoding both know), or flagged ones (:data:`CLAMPED` rows).
BENIGN = {"csv in cp1252", "csv cell of 200 KB", "csv cells 1e300 and -1e308"}
#: The rows (0-based) predicted from a clamped value after each benign damage, and the column.
CLAMPED = {"csv cells 1e300 and -1e308": {2: "x1", 7: "x2"}}


# ------------------------------------------------------------------------------ running


@contextlib.contextmanager
def never_blocked(folder: Path, seconds: float = 60.0) -> Iterator[None]:
    """Fail, instead of hanging the suite, if a loader waits on a named pipe in ``folder``: after
    ``seconds`` a writer opens and closes each pipe, so that a blocked reader goes on."""
    done = threading.Event()
    pipes = [p for p in folder.iterdir() if p.is_fifo()]

    def rescue() -> None:
        if done.wait(seconds):
            return
        for pipe in pipes:
            with contextlib.suppress(OSError):  # ENXIO: nobody reads it, nobody waits
                os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))

    thread = threading.Thread(target=rescue, daemon=True)
    thread.start()
    started = time.monotonic()
    try:
        yield
    finally:
        done.set()
    assert time.monotonic() - started < seconds, "a loader waited on a named pipe"


def one_line(code: int, err: str, prefix: str) -> str | None:
    """The error line of a run that failed (exit 2, one line starting with ``prefix``); None for
    a run that worked. Anything else (a traceback, two errors, another code) fails the test."""
    assert "Traceback" not in err, err
    errors = [line for line in err.splitlines() if line.startswith(prefix)]
    assert (code, len(errors)) in ((0, 0), (2, 1)), err
    return errors[0] if errors else None


def run_app(folder: Path, capsys) -> tuple[str | None, pd.DataFrame | None]:
    """``dami predict model.json new.csv``: (the error line or None, the predictions)."""
    out = folder / "out.csv"
    with never_blocked(folder):
        code = cli.main(["predict", str(folder / JSON), str(folder / CSV), "-o", str(out)])
    error = one_line(code, capsys.readouterr().err, "dami: error")
    if error is not None:
        assert not out.exists()
        return error, None
    return None, pd.read_csv(out, keep_default_na=False)


def standalone():
    """tools/standalone_predict.py as a module (it is a script users copy, not a package)."""
    spec = importlib.util.spec_from_file_location("standalone_predict", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_standalone(folder: Path, capsys, tool=None) -> tuple[str | None, pd.DataFrame | None]:
    """``standalone_predict.py model.json new.csv``: (the error line or None, the predictions)."""
    tool = tool or standalone()
    with never_blocked(folder):
        code = tool.main([str(folder / JSON), str(folder / CSV)])
    captured = capsys.readouterr()
    error = one_line(code, captured.err, "error:")
    if error is not None:
        return error, None
    return None, pd.read_csv(pd.io.common.StringIO(captured.out), keep_default_na=False)


def check_predictions(table: pd.DataFrame, classes: list[str], n: int) -> np.ndarray:
    """Every row predicted, finite probabilities that sum to 1, the class their largest."""
    columns = [f"p_{c}" for c in classes]
    proba = table[columns].to_numpy(dtype=np.float64)
    assert len(table) == n and np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert table["predicted"].tolist() == [classes[k] for k in proba.argmax(axis=1)]
    return proba
