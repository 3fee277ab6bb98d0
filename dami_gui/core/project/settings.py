"""The session's settings as a project stores them: strategy, batch size, seed, network, learner,
estimate.

They are kept as one JSON object under ``meta.settings``, written whenever a round is recorded or
the user changes them, and read back leniently: a setting this version does not know, or one that
is no longer valid, is left at the session's default instead of refusing the project. A project
saved before the ensemble learner existed (0.3) has no learner setting: it keeps the network
alone, the learner its rounds were computed with, until the user chooses another.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from typing import Any

import numpy as np

from dami_gui.core.data.dataset import Dataset
from dami_gui.core.errors import DamiError
from dami_gui.core.learner import NETWORK_LEARNER
from dami_gui.core.project import checks
from dami_gui.core.session import Session


def write_settings(conn: sqlite3.Connection, session: Session) -> None:
    """Write ``session``'s settings into the project (inside the caller's transaction)."""
    settings = {
        "strategy": session.strategy,
        "batch_size": session.batch_size,
        "seed": session.seed,
        "model_config": session.model_config.to_dict(),
        "learner": session.learner.to_dict(),
        "estimate_accuracy": session.estimate_accuracy,
    }
    conn.execute("INSERT OR REPLACE INTO meta VALUES ('settings', ?)", (json.dumps(settings),))


def session_from_settings(
    dataset: Dataset, settings: dict[str, Any], truth: np.ndarray | None
) -> Session:
    """A session with the saved settings; a setting this version does not know is left default.

    A network configuration beyond sane limits (:mod:`.checks`) is not used either.
    """
    config = checks.model_config(settings.get("model_config"))
    if "learner" in settings:
        learner = checks.learner_config(settings["learner"])  # damaged: the default
    else:
        learner = NETWORK_LEARNER  # saved before 0.3: the learner its rounds were made with
    session = Session(dataset, model_config=config, learner=learner, truth=truth)
    for name in ("strategy", "batch_size", "seed", "estimate_accuracy"):
        with contextlib.suppress(KeyError, TypeError, ValueError, OverflowError, DamiError):
            value = settings[name]
            if name in ("batch_size", "seed"):
                low, high = (-(1 << 62), 1 << 62) if name == "seed" else (1, checks.MAX_ROWS)
                value = checks.whole(value, low, high)
            elif name == "estimate_accuracy" and not isinstance(value, bool):
                continue
            setattr(session, name, value)
    return session
