"""Pay one-time start-up costs in the background, before the user's first round needs them.

The first training in a process imports a good part of torch lazily (the optimiser, its
compilation hooks, sympy). Imports hold the interpreter lock for up to a few hundred
milliseconds at a time, which would freeze the window during the first real round; a tiny
training on four random rows at start-up, in a worker thread, moves that cost to a moment when
nothing is going on yet.
"""

from __future__ import annotations

import threading

import numpy as np

from dami_gui.core.model import MLPConfig, train_mlp

_lock = threading.Lock()
_done = False


def warm_up_torch() -> None:
    """Run one tiny training (once per process; safe from several threads)."""
    global _done
    with _lock:
        if _done:
            return
        rng = np.random.default_rng(0)
        X = rng.normal(size=(4, 3)).astype(np.float32)
        y = np.array([0, 1, 0, 1])
        train_mlp(X, y, 2, MLPConfig(hidden=(4,), min_epochs=1, min_steps=2), seed=0)
        _done = True
