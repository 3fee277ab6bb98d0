"""What every map shares: the input as a finite float64 matrix, the output's scale, the hook
that turns umap's epoch bar into progress and cancellation, and the guard that keeps numba from
changing torch's thread count."""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import numpy as np

from dami_gui.core.errors import Cancelled, DataError
from dami_gui.core.progress import CancelToken, ProgressCallback


def as_matrix(X: Any) -> np.ndarray:
    """``X`` as a float64 (rows × columns) array, non-finite values replaced by 0."""
    matrix = np.asarray(X, dtype=np.float64)
    if matrix.ndim != 2:
        raise DataError(
            f"The map needs a table of numbers (rows × columns); got {matrix.ndim} axes."
        )
    if not np.all(np.isfinite(matrix)):
        matrix = np.where(np.isfinite(matrix), matrix, 0.0)
    return matrix


P = ParamSpec("P")
R = TypeVar("R")


def keeps_torch_threads(function: Callable[P, R]) -> Callable[P, R]:
    """Run ``function`` (which runs umap's numba code), then give torch back its thread count.

    The first time numba's OpenMP layer runs parallel code in a process it sets the calling
    thread's OpenMP thread count to every core, and torch's CPU products use that count too: a
    caller that had set ``torch.set_num_threads(1)`` (a benchmark, the tests) would afterwards
    multiply on all cores, and a matrix product split over two threads is rounded differently
    in the last bits. torch is not imported here for that; if it is not loaded yet, there is
    nothing to keep.
    """

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if "torch" not in sys.modules:
            return function(*args, **kwargs)
        import torch

        threads = torch.get_num_threads()
        try:
            return function(*args, **kwargs)
        finally:
            if torch.get_num_threads() != threads:
                torch.set_num_threads(threads)

    return wrapper


def normalise(Y: np.ndarray) -> np.ndarray:
    """Centre the layout and scale it so that its larger axis has unit standard deviation."""
    Y = np.asarray(Y, dtype=np.float64)
    if len(Y) == 0:
        return Y.astype(np.float32).reshape(0, 2)
    Y = Y - Y.mean(axis=0)
    scale = float(Y.std(axis=0).max())
    if scale > 0:
        Y = Y / scale
    return Y.astype(np.float32)


class TqdmHook:
    """A file-like object for umap's tqdm bar: turns each refresh into progress and a cancel check.

    tqdm writes strings like ``"\\r12/200"`` (we set ``bar_format``); we parse the counts and map
    them onto ``start..stop`` of the caller's bar. A :class:`Cancelled` raised from ``write``
    propagates out of tqdm's iteration and so out of umap's epoch loop. It is raised once; later
    writes (tqdm's ``close``) are ignored.
    """

    _COUNTS = re.compile(r"(\d+)/(\d+)")

    def __init__(
        self,
        progress: ProgressCallback | None,
        cancel: CancelToken | None,
        start: float,
        stop: float = 1.0,
        stage: str = "Arranging the map (UMAP)",
    ) -> None:
        self.progress = progress
        self.cancel = cancel
        self.start = start
        self.stop = stop
        self.stage = stage
        self.raised = False
        self.epochs_seen = 0

    def write(self, text: str) -> int:
        if self.raised:
            return len(text)
        if self.cancel is not None and self.cancel.cancelled:
            self.raised = True
            raise Cancelled()
        found = self._COUNTS.findall(text)
        if found and self.progress is not None:
            n, total = (int(v) for v in found[-1])
            self.epochs_seen = n
            if total > 0:
                fraction = self.start + (self.stop - self.start) * n / total
                self.progress(self.stage, min(fraction, self.stop))
        return len(text)

    def flush(self) -> None:
        """Nothing is buffered."""

    def tqdm_kwds(self) -> dict[str, object]:
        """umap's ``tqdm_kwds`` that send its epoch bar here, one refresh per epoch."""
        return {
            "disable": False,
            "file": self,
            "mininterval": 0,
            "miniters": 1,
            "bar_format": "{n}/{total}",
        }
