"""Where the map's points go: PCA at once, then UMAP from a worker, once per data set.

:class:`LayoutController` emits ``ready(positions, name)`` with the PCA layout as soon as a data
set opens, starts UMAP in a :class:`Worker` and emits ``ready`` again when it is done. UMAP
layouts are cached by the content of ``X``, so reopening the same data shows the UMAP map at
once. At start-up :meth:`warm_up` compiles umap's numba code in the background (20 s to a few
minutes the first time after installing; numba keeps most of it in its cache folder for later
starts, :mod:`dami_gui.core.embedding.numba_cache`), so the first real UMAP map does not pay for
all of it. While a map waits for that compilation its progress says so, how long it usually
takes (the last compilation measured on this computer, kept in the settings), with no
percentage: there is none to give.

UMAP's optimisation loop is cancellable; its neighbour search and numba compilation are not. A
cancelled UMAP job whose thread is in one of those parts finishes on its own later; nothing
waits for it and its result is dropped.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, QSettings, Signal

from dami_gui.app.tasks import Failure, TaskSlot, Worker
from dami_gui.core.embedding import pca_layout, umap_is_warm, umap_layout, warm_up_umap
from dami_gui.core.embedding.numba_cache import cache_filled
from dami_gui.core.progress import CancelToken, ProgressCallback

log = logging.getLogger("dami_gui.app")

#: QSettings key: seconds the last compilation of umap's code took on this computer.
COMPILE_SECONDS_KEY = "map/umap_compile_seconds"


def compile_stage() -> str:
    """The stage shown while a map waits for umap's code to compile, with how long it takes."""
    seconds = QSettings().value(COMPILE_SECONDS_KEY, None)
    try:
        last = float(str(seconds)) if seconds is not None else None
    except ValueError:
        last = None
    if cache_filled():
        usual = (
            "its code compiled on an earlier run is read from numba's cache, which takes about "
            "a third of the first time"
        )
    else:
        usual = (
            "the first time after installing this compiles its code: a minute or two, several "
            "on a busy computer; it is kept for later starts"
        )
    measured = f" (last time: {last:.0f} s)" if last is not None and math.isfinite(last) else ""
    return f"Preparing UMAP: {usual}{measured}"


def fingerprint(X: np.ndarray) -> str:
    """A short hash of the matrix content: the cache key of its layouts."""
    X = np.ascontiguousarray(X)
    digest = hashlib.blake2b(X.tobytes(), digest_size=16)
    digest.update(str(X.shape).encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class MapLayout:
    """Where each row of a data set goes on the map, and which method put it there."""

    positions: np.ndarray  # (N, 2) float32
    name: str  # "PCA" | "UMAP"


class LayoutController(QObject):
    """PCA now, UMAP later, for the current data set."""

    ready = Signal(object, str)  # (N, 2) float32 positions, "PCA" | "UMAP"
    progress = Signal(str, float)
    failed = Signal(str)

    CACHE_SIZE = 4

    def __init__(self, use_umap: bool = True, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.use_umap = use_umap
        self.slot = TaskSlot(self)  # the UMAP job of the current data set
        self.warm_worker: Worker | None = None
        self.shown: MapLayout | None = None  # the last layout sent with ``ready``
        self._cache: dict[str, np.ndarray] = {}
        self._key: str | None = None

    def warm_up(self) -> None:
        """Compile umap's code in the background (no-op without UMAP or when already running)."""
        if not self.use_umap or self.warm_worker is not None:
            return

        def task(progress: ProgressCallback, cancel: CancelToken) -> float | None:
            if umap_is_warm():
                return None
            start = time.monotonic()
            warm_up_umap()
            return time.monotonic() - start

        worker = Worker(task, name="preparing the map")
        worker.finished.connect(self._compiled)
        self.warm_worker = worker.start()

    def _compiled(self, seconds: object) -> None:
        """Remember how long compiling umap's code took here (said while the next one waits)."""
        if isinstance(seconds, float):
            QSettings().setValue(COMPILE_SECONDS_KEY, round(seconds, 1))
            log.info("UMAP's code compiled in %.1f s", seconds)

    def remember(self, X: np.ndarray, positions: np.ndarray) -> None:
        """Take ``positions`` as the UMAP map of ``X`` (one saved in a project): no recompute."""
        positions = np.asarray(positions, dtype=np.float32)
        if positions.shape != (len(X), 2):
            return
        self._store(fingerprint(X), positions)

    def _store(self, key: str, positions: np.ndarray) -> None:
        if len(self._cache) >= self.CACHE_SIZE:
            self._cache.pop(next(iter(self._cache)))
        self._cache[key] = positions

    def _show(self, positions: np.ndarray, name: str) -> None:
        self.shown = MapLayout(positions, name)
        self.ready.emit(positions, name)

    def set_data(self, X: np.ndarray | None) -> None:
        """Lay out ``X``: emits ``ready`` with PCA now (or the cached UMAP) and UMAP later."""
        self.cancel()
        self.shown = None
        if X is None:
            self._key = None
            return
        key = fingerprint(X)
        self._key = key
        cached = self._cache.get(key)
        if cached is not None:
            self._show(cached, "UMAP")
            return
        self._show(pca_layout(X), "PCA")
        if not self.use_umap or len(X) < 4:
            return

        stage = compile_stage()

        def task(progress: ProgressCallback, cancel: CancelToken) -> np.ndarray:
            if not umap_is_warm():  # no share of it to report: the view counts the seconds
                progress(stage, math.nan)
            warm_up_umap()
            return umap_layout(X, seed=0, progress=progress, cancel=cancel)

        self.slot.start(
            task,
            "arranging the map",
            on_finished=lambda positions: self._umap_ready(key, positions),
            on_errored=self._on_errored,
            on_progress=self.progress.emit,
        )

    def cancel(self) -> None:
        """Stop the UMAP job of the current data set, if any (without waiting for it)."""
        self.slot.cancel()

    @property
    def running(self) -> bool:
        return self.slot.running

    def _umap_ready(self, key: str, positions: np.ndarray) -> None:
        self._store(key, positions)
        if key == self._key:
            log.info("UMAP map ready")
            self._show(positions, "UMAP")

    def _on_errored(self, failure: Failure) -> None:
        self.failed.emit(failure.message)
