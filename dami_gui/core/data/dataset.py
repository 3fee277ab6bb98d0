"""From a CSV table to the numbers a model learns from, with every decision written down.

Three steps, each a plain object so the app can show it and the session can save it:

1. :func:`~dami_gui.core.data.roles.infer_roles` decides whether each column is a feature, the
   id, the label or ignored, with one sentence of reason per column.
2. :meth:`~dami_gui.core.data.preprocessing.Preprocessing.fit` records how each feature column
   turns into numbers.
3. :func:`build_dataset` applies it and bundles the matrix with labels, ids and the table.

:func:`load_dataset` does all three from a path. Every problem the user can fix is raised as a
:class:`~dami_gui.core.errors.DataError` with one sentence saying what is wrong and what to do.

pandas (and the CSV reader) are imported by the functions that read or build a table, not with
the module: a project opened for its labels only holds a :class:`Dataset` without its table and
never loads them (issue 24).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from dami_gui.core.data.cells import named_columns, natural_sorted, preview, text_values
from dami_gui.core.data.preprocessing import Preprocessing
from dami_gui.core.data.roles import RoleReport, check_report, checked_ids, infer_roles
from dami_gui.core.errors import DataError, ParameterError
from dami_gui.core.progress import CancelToken, ProgressCallback, Reporter, as_reporter

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "MAX_CLASSES",
    "Dataset",
    "build_dataset",
    "check_classes",
    "class_codes",
    "load_dataset",
    "row_numbers",
]


class Dataset:
    """A table ready for learning: the original rows, their features, labels and ids.

    ``frame``: the table as read; ``X``: its features (float32, one row per row of the table);
    ``y``: the class code of each row's label cell (-1 where it is empty); ``classes``: the class
    names, by code; ``ids``: each row's id as text (its 1-based number when there is no id
    column); ``source``: the CSV file.

    A dataset *without its table* (``frame`` and ``X`` given as None) has everything else: what a
    project keeps of its CSV file while the file is unchanged, enough to label, skip, undo and
    report without reading the file (:func:`~dami_gui.core.project.opening.open_project` with
    ``with_table=False``). Asking it for ``frame`` or ``X`` (to train, to export the rows) raises
    a :class:`DataError`; :attr:`has_table` tells which kind a dataset is.
    """

    def __init__(
        self,
        frame: pd.DataFrame | None,
        X: np.ndarray | None,
        y: np.ndarray,
        classes: list[str],
        ids: np.ndarray,
        preprocessing: Preprocessing,
        report: RoleReport,
        source: Path | None = None,
    ) -> None:
        if (frame is None) != (X is None):
            raise ParameterError("X", "None exactly when frame is None", type(X).__name__)
        self._frame = frame
        self._X = X
        self.y = y
        self.classes = classes
        self.ids = ids
        self.preprocessing = preprocessing
        self.report = report
        self.source = source

    @property
    def has_table(self) -> bool:
        """Whether the rows and features were read (False: the labels only, see above)."""
        return self._frame is not None

    @property
    def frame(self) -> pd.DataFrame:
        if self._frame is None:
            raise self._not_read()
        return self._frame

    @property
    def X(self) -> np.ndarray:
        if self._X is None:
            raise self._not_read()
        return self._X

    def _not_read(self) -> DataError:
        name = self.source.name if self.source is not None else "the CSV file"
        return DataError(
            f"The rows of {name} were not read (the project was opened for its labels only); "
            "open the project again to work with them."
        )

    @property
    def n_rows(self) -> int:
        return len(self.y)

    @property
    def n_features(self) -> int:
        """The width of ``X``: one number per name in ``preprocessing.feature_names``."""
        if self._X is None:
            return len(self.preprocessing.feature_names)
        return int(self._X.shape[1])

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def feature_names(self) -> list[str]:
        return self.preprocessing.feature_names

    @property
    def labeled_mask(self) -> np.ndarray:
        """True for rows whose label cell is filled."""
        return self.y >= 0

    def subset(self, rows: np.ndarray) -> Dataset:
        """The given rows, in the given order, with the same preprocessing (nothing is refitted)."""
        rows = np.asarray(rows)
        if rows.dtype == bool:
            rows = np.flatnonzero(rows)
        rows = rows.astype(np.int64)
        return Dataset(
            frame=self.frame.iloc[rows].reset_index(drop=True),
            X=self.X[rows],
            y=self.y[rows],
            classes=list(self.classes),
            ids=self.ids[rows],
            preprocessing=self.preprocessing,
            report=self.report,
            source=self.source,
        )


def build_dataset(
    frame: pd.DataFrame,
    report: RoleReport,
    classes: list[str] | None = None,
    source: str | Path | None = None,
    preprocessing: Preprocessing | None = None,
) -> Dataset:
    """Turn ``frame`` into a :class:`Dataset` following ``report``.

    ``classes``, when given, fixes the class order (codes); a label outside it is a DataError.
    ``preprocessing``, when given, is replayed instead of fitted, so a saved session gets the
    same features. Fewer than two classes is allowed here; the caller decides whether it can learn.
    """
    frame = named_columns(frame).reset_index(drop=True)
    check_report(frame, report)
    id_column = report.column("id")
    if id_column is not None:
        ids = checked_ids(frame[id_column], id_column)
    else:
        ids = row_numbers(len(frame))

    y, class_names = class_codes(frame, report.column("label"), classes)
    if preprocessing is None:
        preprocessing = Preprocessing.fit(frame, report)
    X = preprocessing.transform(frame)
    return Dataset(
        frame,
        X,
        y,
        class_names,
        ids,
        preprocessing,
        report,
        Path(source) if source is not None else None,
    )


def row_numbers(n: int) -> np.ndarray:
    """The ids of the rows of a table without an id column: "1" to ``n``, as text."""
    return np.arange(1, n + 1).astype(f"<U{len(str(n))}")


def class_codes(
    frame: pd.DataFrame, label_column: str | None, classes: list[str] | None
) -> tuple[np.ndarray, list[str]]:
    """Class codes (-1 for an empty label cell) and class names, in natural or given order."""
    if classes is not None:
        classes = [str(c) for c in classes]
        repeated = [c for i, c in enumerate(classes) if c in classes[:i]]
        if repeated:
            raise DataError(
                f"The class '{preview(repeated[0])}' is listed twice; list each class once."
            )
    if label_column is None:
        return np.full(len(frame), -1, dtype=np.int64), list(classes or [])
    text = text_values(frame[label_column])
    present = [str(v) for v in text.dropna().unique()]
    if classes is None:
        classes = natural_sorted(present)
    else:
        unknown = [v for v in present if v not in set(classes)]
        if unknown:
            listed = ", ".join(f"'{c}'" for c in classes) or "none"
            raise DataError(
                f"The label '{preview(unknown[0])}' in column '{label_column}' is not one of the "
                f"classes ({listed}); add it to the classes or correct the cell."
            )
    import pandas as pd

    codes = pd.Index(classes, dtype=object).get_indexer(pd.Index(text)).astype(np.int64)
    return codes, list(classes)


def load_dataset(
    path: str | Path,
    label_column: str | None = None,
    id_column: str | None = None,
    roles: dict[str, str] | None = None,
    classes: list[str] | None = None,
    progress: ProgressCallback | Reporter | None = None,
    cancel: CancelToken | None = None,
) -> Dataset:
    """Read ``path``, decide the column roles and build the dataset, in one call."""
    from dami_gui.core.data.reader import read_csv

    reporter = as_reporter(progress, cancel)
    try:
        frame = read_csv(path, progress=reporter.sub(0.0, 0.8, "Reading file"), cancel=cancel)
        reporter("Preparing features", 0.8)
        reporter.check()
        if cancel is not None:
            cancel.check()
        report = infer_roles(frame, label_column=label_column, id_column=id_column, roles=roles)
        dataset = build_dataset(frame, report, classes=classes, source=Path(path))
    except MemoryError:  # reading fits but the features do not: say so instead of crashing
        raise DataError(
            f"{Path(path).name} does not fit in this computer's memory once prepared for "
            "learning; use fewer rows or columns."
        ) from None
    reporter("Preparing features", 1.0)
    return dataset


#: More classes than this and the label column is taken for something else (an id, a number).
MAX_CLASSES = 100


def check_classes(label_column: str | None, classes: list[str], n_labeled: int) -> None:
    """Refuse, with the count, classes that cannot be labeled with: fewer than 2, or far too many.

    A label column whose values are nearly all different (a measurement, a name, an id) is surely
    not a list of classes. The in-memory commands (through ``check_labels_usable``) and the Dask
    engine give the same sentence for the same pool.
    """
    label = label_column or "(none)"
    n_classes = len(classes)
    if n_classes < 2:
        have = f"only the class '{classes[0]}'" if n_classes else "no classes"
        raise DataError(
            f"The label column '{label}' has {have}; a classifier needs at least two: name them "
            "all (--classes A,B,... on the command line)."
        )
    if n_classes > MAX_CLASSES or (n_classes > 20 and n_classes >= 0.9 * n_labeled):
        raise DataError(
            f"The label column '{label}' has {n_classes} different values in {n_labeled} "
            "labeled rows, so it is surely not a column of classes; choose the column that "
            "holds the classes (--label-column)."
        )
