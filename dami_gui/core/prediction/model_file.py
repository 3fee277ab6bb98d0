"""The exported model as files any program can use: weights, and a JSON file that says the rest.

An export is two files side by side (see docs/portable-model.md):

* the weights, ``model.safetensors`` (format 2, the default): every layer's ``weight`` and
  ``bias`` as float32 tensors named ``linears.<i>.weight`` / ``linears.<i>.bias``, readable
  with numpy alone (:mod:`dami_gui.core.prediction.safetensors`), the ``safetensors`` package
  or torch.
  A name ending in ``.pt`` still gets ``torch.save`` of the ``state_dict``, as format 1 did;
* ``model.json``: the architecture (layers in order, activations), the input columns in order,
  the recorded preprocessing (per column: kind, fill value, mean and scale, category list,
  true values, missing indicator), the feature names and the class names, plus where the model
  comes from (round, labels, accuracy estimate, dami-gui version).

:func:`model_description` writes the JSON for :func:`~dami_gui.core.project.export.export_model`;
:func:`load_model` reads an export back, format 2 or the format 1 of earlier versions (``.pt``
weights, loaded with ``torch.load(..., weights_only=True)``: never a pickle of code).
"""

from __future__ import annotations

import hashlib
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from dami_gui import __version__
from dami_gui.core.data.preprocessing import Preprocessing
from dami_gui.core.errors import DataError
from dami_gui.core.model import MLP
from dami_gui.core.prediction.safetensors import decode, encode, read_header
from dami_gui.core.untrusted import (
    MAX_WIDTH,
    load_torch_state,
    model_spec,
    model_state,
    names,
    open_regular,
    parse_json,
    read_bounded,
    state_bytes,
    state_shapes,
    whole,
)

if TYPE_CHECKING:
    from dami_gui.core.records import RoundResult
    from dami_gui.core.session import Session

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "PortableModel",
    "load_model",
    "model_description",
    "sidecar_path",
    "weights_bytes",
]

FORMAT = "dami-gui model"
FORMAT_VERSION = 2
#: The largest model description read (a network's inputs, categories and classes, as JSON).
MAX_DESCRIPTION_BYTES = 32 << 20
#: The largest safetensors header read for a model's weights (a network has at most 34 tensors).
MAX_WEIGHTS_HEADER = 1 << 20
SAFETENSORS = "safetensors"
TORCH = "torch"


def sidecar_path(weights: Path) -> Path:
    """Where the JSON description of ``weights`` goes: same name, suffix ``.json``."""
    if weights.suffix.lower() == ".json":
        return weights.with_suffix(".meta.json")
    return weights.with_name(weights.stem + ".json")


def weights_format(weights: Path) -> str:
    """``torch`` for a name ending in ``.pt`` (kept for existing scripts), else ``safetensors``."""
    return TORCH if weights.suffix.lower() in (".pt", ".pth") else SAFETENSORS


def architecture(spec: dict[str, Any]) -> dict[str, Any]:
    """The network as a list of layers, enough to run it with a few matrix products."""
    n_layers = len(spec["hidden"]) + 1
    layers = [
        {
            "weight": f"linears.{i}.weight",
            "bias": f"linears.{i}.bias",
            "activation": "relu" if i < n_layers - 1 else "softmax",
        }
        for i in range(n_layers)
    ]
    return {
        "kind": "relu-mlp",
        "n_features": int(spec["n_features"]),
        "n_classes": int(spec["n_classes"]),
        "hidden": [int(h) for h in spec["hidden"]],
        "layers": layers,
        "formula": "h = x; for each layer: h = h @ weight.T + bias, then relu on every layer "
        "but the last; probabilities = softmax(h) over the classes",
    }


#: Where the ``load`` field of an export says the loader is (a test imports it from there).
LOADER = f"{__name__}.load_model"


def model_description(
    session: Session, result: RoundResult, weights_name: str, kind: str, weights: bytes
) -> dict[str, Any]:
    """The JSON description of the model of ``result``, whose weights file is ``weights_name``
    with the bytes ``weights`` (their SHA-256 is recorded, so a damaged or swapped file is
    refused on load).

    ``source`` is the CSV file's name only: a model is shared, the folders of the person who
    made it are not (the project keeps the full path and the file's SHA-256).
    """
    dataset = session.dataset
    preprocessing = dataset.preprocessing
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "weights": weights_name,
        "weights_format": kind,
        "weights_sha256": hashlib.sha256(weights).hexdigest(),
        "load": f"{LOADER}(path), or numpy alone: see docs/portable-model.md and "
        "tools/standalone_predict.py",
        "architecture": architecture(result.model_spec),
        "input_columns": [t.column for t in preprocessing.transforms],
        "classes": list(session.classes),
        "feature_names": dataset.feature_names,
        "feature_columns": preprocessing.feature_columns,
        "preprocessing": preprocessing.to_dict(),
        "spec": result.model_spec,
        # the round's own network (recorded since 0.2), not the one chosen for the next round
        "model_config": result.info.get("model_config") or session.model_config.to_dict(),
        "round": result.index,
        "strategy": result.strategy,
        "labeled_count": result.labeled_count,
        "accuracy_estimate": _finite_or_none(result.accuracy_estimate),
        "test_accuracy": _finite_or_none(result.test_accuracy),
        "source": Path(dataset.source).name if dataset.source else None,
        "exported": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "dami_gui_version": __version__,
    }


def _finite_or_none(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def weights_bytes(state: dict[str, torch.Tensor]) -> bytes:
    """The ``state_dict`` as a safetensors file (float32 tensors, metadata ``format: pt``)."""
    arrays = {name: t.detach().cpu().numpy() for name, t in state.items()}
    return encode(arrays, {"format": "pt", "producer": f"dami-gui {__version__}"})


@dataclass
class PortableModel:
    """An exported model read back: the network, how to turn a table into its inputs, classes."""

    model: MLP
    preprocessing: Preprocessing
    classes: list[str]
    description: dict[str, Any]
    path: Path

    @property
    def feature_names(self) -> list[str]:
        return self.preprocessing.feature_names


def load_model(path: str | Path) -> PortableModel:
    """Read an export: ``path`` is its JSON file or its weights (the JSON is found beside it).

    Reads format 2 (safetensors or ``.pt`` weights) and format 1 (``.pt``). Nothing the files
    say is trusted (see :mod:`dami_gui.core.untrusted`): both must be regular files; the JSON is
    read only up to :data:`MAX_DESCRIPTION_BYTES`, every field is type-checked and every number
    finite; the network it describes must be within the limits a project's network has and
    match its preprocessing and classes; the weights file's header (or, for ``.pt``, its size)
    is compared with that network before a tensor is read, so memory stays bounded by the
    limits whatever the file claims; the weights must be finite and no larger than
    :data:`~dami_gui.core.untrusted.MAX_WEIGHT`, and, when the JSON records it, the weights
    file's SHA-256 must match. Every problem is a :class:`DataError` with one sentence.
    """
    path = Path(path)
    meta_path = path if path.suffix.lower() == ".json" else sidecar_path(path)
    if not meta_path.exists() and not meta_path.is_symlink():
        raise DataError(
            f"{meta_path.name} was not found beside {path.name}; a model is used with the JSON "
            "file written with it: keep both files together."
        )
    data = read_bounded(meta_path, MAX_DESCRIPTION_BYTES, "a model description")
    name = meta_path.name
    try:
        description = parse_json(data)
    except ValueError as error:
        raise DataError(
            f"{name} is not a model description written by dami-gui ({error}); choose the .json "
            "file exported with the model."
        ) from None
    kind, weights_name, version = _format(description, name)
    try:
        classes = names(description.get("classes"), "classes", MAX_WIDTH, 10_000)
    except ValueError as error:
        raise DataError(f"{name}: {error}; export the model again.") from None
    raw_preprocessing = description.get("preprocessing")
    if not isinstance(raw_preprocessing, dict):
        raise DataError(f"{name} has no preprocessing; export the model again.")
    preprocessing = Preprocessing.from_dict(
        raw_preprocessing, where=f"The preprocessing in {name}", advice="export the model again"
    )
    try:
        spec = model_spec(description.get("spec"), len(preprocessing.feature_names), len(classes))
        if version >= 2:
            _same_architecture(description.get("architecture"), spec)
    except ValueError as error:
        raise DataError(
            f"{name} describes a network dami-gui cannot use ({error}); export the model again."
        ) from None
    weights = meta_path.with_name(weights_name)
    if not weights.exists() and not weights.is_symlink():
        raise DataError(
            f"The weights file {weights_name} was not found beside {name}; keep the two "
            "exported files together."
        )
    state = _read_weights(weights, kind, spec, description.get("weights_sha256"))
    try:
        model_state(state, spec)
    except ValueError as error:
        raise DataError(
            f"{weights_name} does not hold the network described in {name} ({error}); export "
            "the model again."
        ) from None
    model = MLP.from_spec(spec, state)
    return PortableModel(model, preprocessing, classes, description, meta_path)


def _format(description: object, name: str) -> tuple[str, str, int]:
    """(weights format, weights file name, format version) of a description, checked."""
    not_ours = DataError(
        f"{name} is not a model description written by dami-gui; choose the .json file "
        "exported with the model."
    )
    if not isinstance(description, dict) or "weights" not in description:
        raise not_ours
    try:
        version = whole(description.get("format_version", 1), 1, 1 << 31)
    except ValueError:
        raise DataError(
            f"{name} has a format_version that is not a whole number, so it was not written by "
            "dami-gui or was changed since; export the model again."
        ) from None
    if version > FORMAT_VERSION:
        raise DataError(
            f"{name} was written by a newer version of dami-gui; update dami-gui to use this model."
        )
    if "spec" not in description or "preprocessing" not in description:
        raise not_ours
    weights = description["weights"]
    if not (
        isinstance(weights, str)
        and 0 < len(weights) <= 255
        and weights not in (".", "..")
        and not any(c in weights for c in "/\\:\x00")
    ):
        raise DataError(
            f"{name} names its weights file {str(weights)[:60]!r}, which is not a file name "
            "beside it (a model's two files stay in one folder); export the model again."
        )
    kind = description.get("weights_format", TORCH)
    if kind not in (SAFETENSORS, TORCH):
        raise DataError(
            f"{name} gives an unknown weights format ({str(kind)[:30]!r}); export the model again."
        )
    return kind, weights, version


def _same_architecture(value: object, spec: dict[str, Any]) -> None:
    """The ``architecture`` of format 2 (what other programs run) says what ``spec`` says."""
    if not isinstance(value, dict) or architecture(spec)["layers"] != value.get("layers"):
        raise ValueError("its architecture and its spec differ")
    if value.get("hidden") != spec["hidden"]:
        raise ValueError("its architecture and its spec differ")


def _read_weights(
    path: Path, kind: str, spec: dict[str, Any], sha256: object
) -> dict[str, torch.Tensor]:
    """The tensors of the weights file, read only once its size and header fit ``spec``."""
    shapes = state_shapes(spec)
    if kind == TORCH:
        data = read_bounded(path, state_bytes(spec), "a model's weights file")
        _check_digest(data, sha256, path.name)
        try:
            return load_torch_state(data, state_bytes(spec))
        except ValueError:
            raise DataError(
                f"{path.name} is not a model's weights file; export the model again."
            ) from None
    with open_regular(path, "a model's weights file") as handle:
        size = os.fstat(handle.fileno()).st_size
        header = read_header(handle, size, path.name, MAX_WEIGHTS_HEADER)
        for tensor, shape in shapes.items():
            entry = header.entries.get(tensor)
            if entry is None or entry.shape != shape or entry.dtype.kind != "f":
                what = "lacks" if entry is None else "has another shape or type for"
                raise DataError(
                    f"{path.name} {what} the tensor {tensor} of the network its JSON describes; "
                    "export the model again."
                )
        if set(header.entries) != set(shapes):
            raise DataError(
                f"{path.name} holds other tensors than the network's; export the model again."
            )
        # the header covers the file exactly and matches the spec: the size is bounded by it
        handle.seek(0)
        data = handle.read(size + 1)
    if len(data) != size:
        raise DataError(f"{path.name} changed while it was being read; read it again.")
    _check_digest(data, sha256, path.name)
    arrays, _ = decode(data, path.name)
    return {k: torch.from_numpy(v.astype(np.float32)) for k, v in arrays.items()}


def _check_digest(data: bytes, sha256: object, name: str) -> None:
    """Refuse weights whose SHA-256 is not the one the JSON records (when it records one)."""
    if sha256 is None:
        return  # exports before 0.3 record none
    if not isinstance(sha256, str) or hashlib.sha256(data).hexdigest() != sha256.lower():
        raise DataError(
            f"{name} is not the weights file written with its JSON (its content differs: damaged "
            "or replaced); export the model again."
        )
