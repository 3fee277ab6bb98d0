"""A pool with every kind of column (numbers with gaps, a category, yes/no) and its project."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from dami_gui.core.project.creating import create_project_from_csv
from dami_gui.core.project.journal import Project

from .project_data import TINY

CLASSES = ["a", "b", "c"]
COLOURS = ["red", "green", "blue"]


def mixed_frame(n: int = 120, seed: int = 0, labeled: int = 30) -> pd.DataFrame:
    """Three classes told apart by two numbers, a colour and a yes/no flag; a few gaps."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.normal(size=(n, 2)) + 2.5 * np.eye(3)[y][:, :2]
    colour = np.where(rng.random(n) < 0.7, np.array(COLOURS)[y], rng.choice(COLOURS, n))
    frame = pd.DataFrame(
        {
            "name": [f"r{i}" for i in range(n)],
            "x1": x[:, 0].round(5),
            "x2": x[:, 1].round(5),
            "colour": colour,
            "flag": np.where((y == 2) ^ (rng.random(n) < 0.1), "yes", "no"),
        }
    )
    frame.loc[rng.choice(n, 6, replace=False), "x2"] = np.nan
    frame.loc[rng.choice(n, 4, replace=False), "colour"] = np.nan
    frame["species"] = np.where(np.arange(n) < labeled, np.array(CLASSES)[y], "")
    return frame


def mixed_project(folder: Path, rounds: int = 1) -> Project:
    """A project over :func:`mixed_frame` after ``rounds`` rounds (queries labeled from truth)."""
    frame = mixed_frame()
    truth = mixed_frame(labeled=len(frame))["species"].to_numpy()
    frame.to_csv(folder / "pool.csv", index=False)
    project = create_project_from_csv(
        folder / "p.dami",
        folder / "pool.csv",
        label_column="species",
        id_column="name",
        model_config=TINY,
        estimate_accuracy=False,
        batch_size=6,
    )
    codes = {c: i for i, c in enumerate(project.session.classes)}
    for index in range(rounds):
        project.session.run_round()
        if index < rounds - 1:
            for row in project.session.queries:
                project.session.label(int(row), codes[truth[row]])
    return project


def new_rows(seed: int = 1, n: int = 40) -> pd.DataFrame:
    """Next month's file: same columns in another order, an extra one, an unseen colour."""
    frame = mixed_frame(n=n, seed=seed).drop(columns=["species"])
    frame.loc[[0, 5, 9], "colour"] = "purple"
    frame.loc[3, "x1"] = np.nan
    frame["comment"] = "checked"
    frame["name"] = [f"new{i}" for i in range(n)]
    return frame[["comment", "flag", "name", "colour", "x2", "x1"]]
