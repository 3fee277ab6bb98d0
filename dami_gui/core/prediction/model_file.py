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

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from dami_gui import __version__
from dami_gui.core.data.preprocessing import Preprocessing
from dami_gui.core.errors import DamiError, DataError
from dami_gui.core.model import MLP
from dami_gui.core.prediction.safetensors import decode, encode

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


def model_description(
    session: Session, result: RoundResult, weights_name: str, kind: str
) -> dict[str, Any]:
    """The JSON description of the model of ``result``, whose weights file is ``weights_name``."""
    dataset = session.dataset
    preprocessing = dataset.preprocessing
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "weights": weights_name,
        "weights_format": kind,
        "load": "dami_gui.core.portable_model.load_model(path), or numpy alone: see "
        "docs/portable-model.md and tools/standalone_predict.py",
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
        "accuracy_estimate": result.accuracy_estimate,
        "test_accuracy": result.test_accuracy,
        "source": str(dataset.source) if dataset.source else None,
        "exported": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "dami_gui_version": __version__,
    }


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

    Reads format 2 (safetensors or ``.pt`` weights) and format 1 (``.pt``). Every problem is a
    :class:`DataError` with one sentence.
    """
    path = Path(path)
    meta_path = path if path.suffix.lower() == ".json" else sidecar_path(path)
    if not meta_path.is_file():
        raise DataError(
            f"{meta_path.name} was not found beside {path.name}; a model is used with the JSON "
            "file written with it: keep both files together."
        )
    try:
        description = json.loads(meta_path.read_text(encoding="utf-8"))
        if not isinstance(description, dict):
            raise ValueError("not an object")
    except (OSError, UnicodeDecodeError, ValueError):
        raise DataError(
            f"{meta_path.name} is not a model description written by dami-gui; choose the "
            ".json file exported with the model."
        ) from None
    version = int(description.get("format_version", 1)) if "weights" in description else 0
    if version < 1 or "spec" not in description or "preprocessing" not in description:
        raise DataError(
            f"{meta_path.name} is not a model description written by dami-gui; choose the "
            ".json file exported with the model."
        )
    if version > FORMAT_VERSION:
        raise DataError(
            f"{meta_path.name} was written by a newer version of dami-gui; update dami-gui to "
            "use this model."
        )
    weights = meta_path.with_name(str(description["weights"]))
    if not weights.is_file():
        raise DataError(
            f"The weights file {weights.name} was not found beside {meta_path.name}; keep the "
            "two exported files together."
        )
    kind = description.get("weights_format", TORCH)
    state = _read_weights(weights, kind)
    try:
        model = MLP.from_spec(description["spec"], state)
        classes = [str(c) for c in description["classes"]]
        if len(classes) != model.n_classes:
            raise ValueError("class count")
    except (KeyError, TypeError, ValueError, RuntimeError):
        raise DataError(
            f"{weights.name} does not match the network described in {meta_path.name}; "
            "export the model again."
        ) from None
    preprocessing = Preprocessing.from_dict(description["preprocessing"])
    if len(preprocessing.feature_names) != model.n_features:
        raise DataError(
            f"The preprocessing in {meta_path.name} gives {len(preprocessing.feature_names)} "
            f"inputs but the network takes {model.n_features}; export the model again."
        )
    return PortableModel(model, preprocessing, classes, description, meta_path)


def _read_weights(path: Path, kind: str) -> dict[str, torch.Tensor]:
    try:
        if kind == SAFETENSORS:
            arrays, _ = decode(path.read_bytes(), path.name)
            return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in arrays.items()}
        if kind == TORCH:
            state = torch.load(path, map_location="cpu", weights_only=True)
            if isinstance(state, dict) and all(isinstance(v, torch.Tensor) for v in state.values()):
                return state
    except DamiError:
        raise
    except OSError as error:
        raise DataError(
            f"Cannot read {path.name} ({error.strerror or error}); check the file and try again."
        ) from None
    except Exception:  # torch raises many kinds of errors for a file that is not its own
        pass
    raise DataError(f"{path.name} is not a model's weights file; export the model again.")
