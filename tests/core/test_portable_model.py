"""The exported model travels: safetensors written to the spec, JSON, old .pt exports still load."""

from __future__ import annotations

import itertools
import json
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from dami_gui.core.errors import DataError
from dami_gui.core.model import predict_proba
from dami_gui.core.prediction import safetensors
from dami_gui.core.prediction.model_file import load_model
from dami_gui.core.project.export import export_model

from .predict_data import mixed_project


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A project after one round, exported as safetensors and as .pt; and its pool's X."""
    folder = tmp_path_factory.mktemp("export")
    with mixed_project(folder) as project:
        session = project.session
        export_model(session, folder / "model.safetensors")
        export_model(session, folder / "old.pt")
        return folder, session.dataset.X, session.last_round.proba, session.classes


def test_safetensors_file_follows_the_format(exported):
    folder, *_ = exported
    data = (folder / "model.safetensors").read_bytes()
    (size,) = struct.unpack("<Q", data[:8])
    assert (8 + size) % 8 == 0  # the byte buffer starts aligned
    header = json.loads(data[8 : 8 + size].decode("utf-8"))
    assert data[8:9] == b"{"
    assert header.pop("__metadata__")["format"] == "pt"
    names = {"linears.0.weight", "linears.0.bias", "linears.1.weight", "linears.1.bias"}
    assert set(header) == names
    spans = sorted(tuple(e["data_offsets"]) for e in header.values())
    assert spans[0][0] == 0 and all(a[1] == b[0] for a, b in itertools.pairwise(spans))
    assert spans[-1][1] == len(data) - 8 - size  # the offsets cover the buffer exactly
    weight = header["linears.0.weight"]
    # 8 hidden units; inputs x1, x2 and its gap flag, 3 colours and a gap flag, flag
    assert weight["dtype"] == "F32" and weight["shape"] == [8, 8]
    begin, end = weight["data_offsets"]
    raw = np.frombuffer(data[8 + size + begin : 8 + size + end], dtype="<f4").reshape(8, 8)
    model = load_model(folder / "model.json").model
    np.testing.assert_array_equal(raw, model.linears[0].weight.detach().numpy())


def test_safetensors_round_trip_and_broken_files():
    tensors = {
        "b": np.arange(6, dtype=np.float64).reshape(2, 3),
        "a": np.array([1, -2], dtype=np.int64),
        "empty": np.zeros((0, 4), np.float32),
        "scalar": np.array(2.5, dtype=np.float32),
    }
    data = safetensors.encode(tensors, {"note": "x"})
    back, meta = safetensors.decode(data)
    assert meta == {"note": "x"} and set(back) == set(tensors)
    for name, array in tensors.items():
        assert back[name].dtype == array.dtype and back[name].shape == array.shape
        np.testing.assert_array_equal(back[name], array)
    (size,) = struct.unpack("<Q", data[:8])
    broken = {
        "too short": data[:5],
        "header past the end": struct.pack("<Q", len(data)) + data[8:],
        "bytes after the last tensor": data + b"\0",
        "truncated data": data[:-3],
        "not an object": struct.pack("<Q", 2) + b"[]",
    }
    for bad in broken.values():
        with pytest.raises(DataError, match="not a valid safetensors file"):
            safetensors.decode(bad)
    header = json.loads(data[8 : 8 + size])
    header["scalar"]["data_offsets"] = [0, 4]  # overlaps "a" and leaves a hole at the end
    text = json.dumps(header).encode()
    with pytest.raises(DataError, match="overlap or leave a gap"):
        safetensors.decode(struct.pack("<Q", len(text)) + text + data[8 + size :])


def test_json_has_what_a_program_needs_and_the_model_predicts_the_same(exported):
    folder, X, proba, classes = exported
    meta = json.loads((folder / "model.json").read_text())
    assert meta["format"] == "dami-gui model" and meta["format_version"] == 2
    assert meta["weights"] == "model.safetensors" and meta["weights_format"] == "safetensors"
    assert meta["classes"] == classes
    assert meta["input_columns"] == ["x1", "x2", "colour", "flag"]
    layers = meta["architecture"]["layers"]
    assert [layer["activation"] for layer in layers] == ["relu", "softmax"]
    kinds = {t["column"]: t["kind"] for t in meta["preprocessing"]["transforms"]}
    assert kinds == {"x1": "numeric", "x2": "numeric", "colour": "categorical", "flag": "boolean"}
    colour = next(t for t in meta["preprocessing"]["transforms"] if t["column"] == "colour")
    assert colour["categories"] == ["blue", "green", "red"] and colour["missing_indicator"]
    portable = load_model(folder / "model.safetensors")  # the weights file finds its JSON
    np.testing.assert_allclose(predict_proba(portable.model, X), proba, atol=1e-6)


def test_old_pt_exports_still_load(exported):
    folder, X, proba, _ = exported
    assert json.loads((folder / "old.json").read_text())["weights_format"] == "torch"
    assert set(torch.load(folder / "old.pt", weights_only=True)) >= {"linears.0.weight"}
    # a format-1 description, as dami-gui 0.1.0 wrote it
    meta = json.loads((folder / "old.json").read_text())
    for key in ("format_version", "weights_format", "architecture", "input_columns"):
        del meta[key]
    meta["format"] = "dami-gui model 1"
    (folder / "v1.json").write_text(json.dumps({**meta, "weights": "old.pt"}))
    for path in (folder / "old.pt", folder / "v1.json"):
        model = load_model(path).model
        np.testing.assert_allclose(predict_proba(model, X), proba, atol=1e-6)


def test_load_problems_are_one_sentence(exported, tmp_path: Path):
    folder, *_ = exported
    with pytest.raises(DataError, match="was not found beside"):
        load_model(tmp_path / "nothing.safetensors")
    (tmp_path / "m.json").write_text("{not json")
    with pytest.raises(DataError, match="not a model description"):
        load_model(tmp_path / "m.json")
    meta = json.loads((folder / "model.json").read_text())
    (tmp_path / "m.json").write_text(json.dumps(meta))
    with pytest.raises(DataError, match=r"weights file model\.safetensors was not found"):
        load_model(tmp_path / "m.json")
    (tmp_path / "model.safetensors").write_bytes(b"\x01\x00\x00\x00\x00\x00\x00\x00{")
    with pytest.raises(DataError, match="not a valid safetensors file"):
        load_model(tmp_path / "m.json")
    (tmp_path / "m.json").write_text(json.dumps({**meta, "format_version": 9}))
    with pytest.raises(DataError, match="newer version of dami-gui"):
        load_model(tmp_path / "m.json")
    wrong = {**meta, "spec": {**meta["spec"], "hidden": [5]}, "weights": "x.safetensors"}
    (tmp_path / "x.safetensors").write_bytes((folder / "model.safetensors").read_bytes())
    (tmp_path / "m.json").write_text(json.dumps(wrong))
    with pytest.raises(DataError, match="its architecture and its spec differ"):
        load_model(tmp_path / "m.json")
    wrong["architecture"] = {**meta["architecture"], "hidden": [5]}  # both say 5 units
    (tmp_path / "m.json").write_text(json.dumps(wrong))
    with pytest.raises(DataError, match=r"has another shape or type for the tensor linears\.0"):
        load_model(tmp_path / "m.json")
