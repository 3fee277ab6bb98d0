"""Small pools and projects shared by the project-file tests (storage, project, CLI, crashes)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd

from dami_gui.core.learner import LearnerConfig
from dami_gui.core.model import MLPConfig
from dami_gui.core.project.creating import create_project_from_csv
from dami_gui.core.project.journal import Project

#: A network that trains in a few milliseconds: the tests check saving, not learning.
TINY = MLPConfig(hidden=(8,), min_epochs=3, min_steps=10)
#: The ensemble with a student trained for a few steps on a small sample: the same path as the
#: default learner, in a fraction of a second.
TINY_LEARNER = LearnerConfig(
    transfer_rows=200, augment_to=0, student_epochs=2, student_min_steps=20
)
CLASSES = ["a", "b", "c"]


def pool_frame(n: int = 90, labeled: int = 15, seed: int = 0, with_id: bool = True) -> pd.DataFrame:
    """Three separable classes; the first ``labeled`` rows have their class in ``species``."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    X = rng.normal(size=(n, 3)) + 3 * np.eye(3)[y]
    frame = pd.DataFrame(X.round(6), columns=["x1", "x2", "x3"])
    if with_id:
        frame.insert(0, "name", [f"r{i}" for i in range(n)])
    frame["species"] = np.where(np.arange(n) < labeled, np.array(CLASSES)[y], "")
    return frame


def write_pool(path: Path, **kwargs) -> Path:
    pool_frame(**kwargs).to_csv(path, index=False)
    return path


def new_project(folder: Path, name: str = "p.dami", with_id: bool = True, **kwargs) -> Project:
    """A project over a fresh pool in ``folder``, with the tiny network and no CV estimate."""
    csv = write_pool(folder / "pool.csv", with_id=with_id, **kwargs)
    return create_project_from_csv(
        folder / name,
        csv,
        label_column="species",
        id_column="name" if with_id else None,
        model_config=TINY,
        learner=TINY_LEARNER,
        estimate_accuracy=False,
        batch_size=5,
    )


def leftovers(folder: Path, keep: set[str]) -> list[str]:
    """Files in ``folder`` other than ``keep`` (temporary or half-written files)."""
    return sorted(p.name for p in folder.iterdir() if p.name not in keep)


def make_v2(path: Path) -> None:
    """Turn a current project file into what version 2 wrote: no rows kept with the sources."""
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        PRAGMA journal_mode = DELETE;
        ALTER TABLE sources DROP COLUMN row_keys;
        ALTER TABLE sources DROP COLUMN file_labels;
        PRAGMA user_version = 2;
        """
    )
    conn.close()


def make_v1(path: Path) -> None:
    """Turn a current project file into what version 1 wrote: no colours, no layouts table."""
    make_v2(path)
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        DROP TABLE layouts;
        CREATE TABLE classes_v1 (code INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
        INSERT INTO classes_v1 SELECT code, name FROM classes;
        DROP TABLE classes;
        ALTER TABLE classes_v1 RENAME TO classes;
        PRAGMA user_version = 1;
        """
    )
    conn.close()
