"""The bundled demo data set: UCI Image Segmentation (resources/segment.csv, CC BY 4.0).

Its ``class`` column is read as ground truth and hidden from training (every row starts
unlabeled), so the user labels it as they would their own data and the accuracy curve can show
the true accuracy next to the estimate.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dami_gui.core.data.dataset import Dataset, load_dataset
from dami_gui.core.errors import DataError
from dami_gui.core.progress import CancelToken, ProgressCallback

DEMO_FILE = "segment.csv"
DEMO_LABEL_COLUMN = "class"
DEMO_ID_COLUMN = "patch_id"


def resources_dir() -> Path:
    """The ``resources/`` folder: beside the package in a checkout, inside the frozen bundle."""
    candidates = []
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        candidates.append(Path(frozen) / "resources")
    candidates.append(Path(__file__).resolve().parents[3] / "resources")
    for path in candidates:
        if path.is_dir():
            return path
    raise DataError("The bundled resources folder is missing; reinstall dami-gui.")


def demo_path() -> Path:
    return resources_dir() / DEMO_FILE


@dataclass
class Demo:
    """The demo pool with its labels hidden (``dataset.y`` all -1) and its ground truth."""

    dataset: Dataset
    truth: np.ndarray


def load_demo(progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> Demo:
    dataset = load_dataset(
        demo_path(),
        label_column=DEMO_LABEL_COLUMN,
        id_column=DEMO_ID_COLUMN,
        progress=progress,
        cancel=cancel,
    )
    truth = dataset.y.copy()
    dataset.y = np.full_like(truth, -1)
    return Demo(dataset, truth)
