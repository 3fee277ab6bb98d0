"""Where the map's points go: PCA at once, then UMAP from a worker, once per data set.

:class:`LayoutController` emits ``ready(positions, name)`` with the PCA layout as soon as a data
set opens, starts UMAP in a :class:`Worker` and emits ``ready`` again when it is done. UMAP
layouts are cached by the content of ``X``, so reopening the same data shows the UMAP map at
once. At start-up :meth:`warm_up` compiles umap's numba code in the background (about 20 s), so
the first real UMAP map does not pay for it.

UMAP's optimisation loop is cancellable; its neighbour search and numba compilation are not. A
cancelled UMAP job whose thread is in one of those parts finishes on its own later; nothing
waits for it and its result is dropped.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging

import numpy as np
from PySide6.QtCore import QObject, Signal

from dami_gui.app.tasks import Worker
from dami_gui.core.embedding import pca_layout, umap_layout, warm_up_umap
from dami_gui.core.progress import CancelToken, ProgressCallback

log = logging.getLogger("dami_gui.app")


def fingerprint(X: np.ndarray) -> str:
    """A short hash of the matrix content: the cache key of its layouts."""
    X = np.ascontiguousarray(X)
    digest = hashlib.blake2b(X.tobytes(), digest_size=16)
    digest.update(str(X.shape).encode())
    return digest.hexdigest()


class LayoutController(QObject):
    """PCA now, UMAP later, for the current data set."""

    ready = Signal(object, str)  # (N, 2) float32 positions, "PCA" | "UMAP"
    progress = Signal(str, float)
    failed = Signal(str)

    CACHE_SIZE = 4

    def __init__(self, use_umap: bool = True, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.use_umap = use_umap
        self.worker: Worker | None = None
        self.warm_worker: Worker | None = None
        self._cache: dict[str, np.ndarray] = {}
        self._key: str | None = None

    def warm_up(self) -> None:
        """Compile umap's code in the background (no-op without UMAP or when already running)."""
        if not self.use_umap or self.warm_worker is not None:
            return

        def task(progress: ProgressCallback, cancel: CancelToken) -> None:
            warm_up_umap()

        self.warm_worker = Worker(task, name="preparing the map").start()

    def remember(self, X: np.ndarray, positions: np.ndarray) -> None:
        """Take ``positions`` as the UMAP map of ``X`` (one saved in a project): no recompute."""
        positions = np.asarray(positions, dtype=np.float32)
        if positions.shape != (len(X), 2):
            return
        if len(self._cache) >= self.CACHE_SIZE:
            self._cache.pop(next(iter(self._cache)))
        self._cache[fingerprint(X)] = positions

    def set_data(self, X: np.ndarray | None) -> None:
        """Lay out ``X``: emits ``ready`` with PCA now (or the cached UMAP) and UMAP later."""
        self.cancel()
        if X is None:
            self._key = None
            return
        key = fingerprint(X)
        self._key = key
        cached = self._cache.get(key)
        if cached is not None:
            self.ready.emit(cached, "UMAP")
            return
        self.ready.emit(pca_layout(X), "PCA")
        if not self.use_umap or len(X) < 4:
            return

        def task(progress: ProgressCallback, cancel: CancelToken) -> tuple[str, np.ndarray]:
            progress("Preparing the map (UMAP)", 0.0)
            warm_up_umap()
            return key, umap_layout(X, seed=0, progress=progress, cancel=cancel)

        worker = Worker(task, name="arranging the map")
        worker.progress.connect(self._on_progress)
        worker.finished.connect(self._on_finished)
        worker.errored.connect(self._on_errored)
        self.worker = worker
        worker.start()

    def cancel(self) -> None:
        """Stop the UMAP job of the current data set, if any (without waiting for it)."""
        if self.worker is not None:
            self.worker.cancel()
            with contextlib.suppress(RuntimeError, TypeError):
                self.worker.finished.disconnect(self._on_finished)
            self.worker = None

    @property
    def running(self) -> bool:
        return self.worker is not None

    def _on_progress(self, stage: str, fraction: float) -> None:
        if self.sender() is self.worker:
            self.progress.emit(stage, fraction)

    def _on_finished(self, result: object) -> None:
        if self.sender() is not self.worker:
            return
        self.worker = None
        key, positions = result  # type: ignore[misc]
        if len(self._cache) >= self.CACHE_SIZE:
            self._cache.pop(next(iter(self._cache)))
        self._cache[key] = positions
        if key == self._key:
            log.info("UMAP map ready")
            self.ready.emit(positions, "UMAP")

    def _on_errored(self, message: str) -> None:
        if self.sender() is not self.worker:
            return
        self.worker = None
        self.failed.emit(message)
