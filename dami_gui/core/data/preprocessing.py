"""How each feature column turns into numbers, recorded so that a saved session replays it.

:meth:`Preprocessing.fit` records, per feature column, a :class:`ColumnTransform`: numbers are
standardised, yes/no becomes 0/1, categories are one-hot encoded, gaps are filled and flagged.
The record is plain JSON, so a saved session replays it exactly on the same file.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from dami_gui.core.data.cells import (
    column_numbers,
    feature_text_values,
    named_columns,
    natural_sorted,
)
from dami_gui.core.data.kinds import column_facts
from dami_gui.core.data.roles import RoleReport, check_report
from dami_gui.core.errors import DataError
from dami_gui.core.untrusted import names, real, text, whole

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DEFAULT_TRUE_VALUES",
    "MAX_FEATURE",
    "PREPROCESSING_VERSION",
    "ColumnTransform",
    "Preprocessing",
]

DEFAULT_TRUE_VALUES = ["true", "yes", "t", "y", "1"]
#: The largest standardised value a feature takes: a million standard deviations from the
#: labeling file's mean. Beyond it (a cell of 1e300 in next month's file) the value is clamped
#: and the row flagged (:meth:`Preprocessing.transform_flagged`); float32 could not hold it.
MAX_FEATURE = 1e6
#: 2: the table was read with the reader's rules 2, which keep what the user wrote (leading
#: zeros, a class called "NA"); 1: with the first versions' rules. A saved record is replayed on
#: its file read with the same rules (:attr:`Preprocessing.reader_rules`), so a project keeps its
#: rows and features exactly; an older dami-gui refuses a newer record instead of misreading it.
PREPROCESSING_VERSION = 2


@dataclass
class ColumnTransform:
    """How one input column becomes one or more features; JSON-serialisable.

    numeric and boolean: fill gaps with ``fill``, then ``(value - mean) / std``; boolean cells
    are 1 when their lower-case text is in ``true_values``, else 0. categorical: one 0/1 feature
    per level in ``categories`` (a gap or an unseen value gives all zeros). With
    ``missing_indicator`` a last 0/1 feature "<column> (missing)" flags the gaps.
    """

    column: str
    kind: str  # "numeric" | "boolean" | "categorical"
    mean: float = 0.0
    std: float = 1.0
    fill: float = 0.0
    missing_indicator: bool = False
    categories: list[str] = field(default_factory=list)
    true_values: list[str] = field(default_factory=lambda: list(DEFAULT_TRUE_VALUES))

    def output_names(self) -> list[str]:
        """Names of the features this column gives, e.g. ["color=red", "color (missing)"]."""
        if self.kind == "categorical":
            names = [f"{self.column}={category}" for category in self.categories]
        else:
            names = [self.column]
        if self.missing_indicator:
            names.append(f"{self.column} (missing)")
        return names

    def _values(self, series: pd.Series) -> np.ndarray:
        """The column as float64 before filling and scaling: NaN marks a gap."""
        if self.kind == "boolean":
            text = feature_text_values(series)
            truth = set(self.true_values)
            return np.array(
                [np.nan if t is None else float(t.lower() in truth) for t in text], dtype="float64"
            )
        return column_numbers(series)

    def apply(self, series: pd.Series) -> np.ndarray:
        """The features of this column for ``series``: float64 of shape (N, len(output_names()))."""
        if self.kind == "categorical":
            import pandas as pd

            text = feature_text_values(series)
            missing = text.isna().to_numpy()
            codes = pd.Index(self.categories, dtype=object).get_indexer(pd.Index(text))
            block = np.zeros((len(series), len(self.categories)), dtype="float64")
            known = codes >= 0
            block[np.flatnonzero(known), codes[known]] = 1.0
        else:
            values = self._values(series)
            missing = np.isnan(values)
            values[missing] = self.fill
            block = ((values - self.mean) / self.std)[:, None]
        if self.missing_indicator:
            block = np.hstack([block, missing[:, None].astype("float64")])
        return block

    @classmethod
    def fit(cls, series: pd.Series, kind: str) -> ColumnTransform:
        """Record the fill value, scale or levels of ``series`` for a feature of ``kind``."""
        column = str(series.name)
        if kind == "categorical":
            text = feature_text_values(series)
            categories = natural_sorted([str(v) for v in text.dropna().unique()])
            return cls(
                column, kind, missing_indicator=bool(text.isna().any()), categories=categories
            )
        transform = cls(column, kind)
        values = transform._values(series)
        missing = np.isnan(values)
        transform.missing_indicator = bool(missing.any())
        transform.fill = float(np.median(values[~missing])) if (~missing).any() else 0.0
        values[missing] = transform.fill
        transform.mean, std = _moments(values)
        transform.std = std if np.isfinite(std) and std > 1e-12 else 1.0
        return transform


def _moments(values: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation of finite ``values``, finite even where their sum is not
    (cells near ±1e308): then computed on the values divided by the largest one."""
    if not values.size:
        return 0.0, 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        mean, std = float(values.mean()), float(values.std())
        if not (np.isfinite(mean) and np.isfinite(std)):
            scale = float(np.abs(values).max())
            scaled = values / scale
            mean, std = float(scaled.mean()) * scale, float(scaled.std()) * scale
    return mean, std


def _transform_kind(series: pd.Series) -> str:
    """numeric, boolean or categorical: how a feature column is turned into numbers.

    Empty and constant columns only become features when the user asks for them; they are then
    read as numbers when they hold numbers (or nothing), else as a one-level category.
    """
    kind = column_facts(series).kind
    if kind in ("numeric", "boolean", "categorical"):
        return kind
    if kind == "empty" or (kind == "constant" and np.isfinite(column_numbers(series)).any()):
        return "numeric"
    return "categorical"


@dataclass
class Preprocessing:
    """The recorded steps from table to features; replayable, and saved as plain JSON."""

    transforms: list[ColumnTransform]
    id_column: str | None = None
    label_column: str | None = None
    version: int = PREPROCESSING_VERSION

    @property
    def reader_rules(self) -> int:
        """The rules (:data:`~dami_gui.core.data.reader.READER_RULES`) to read the file with."""
        return 1 if self.version < 2 else 2

    @classmethod
    def fit(cls, frame: pd.DataFrame, report: RoleReport) -> Preprocessing:
        """Learn fill values, scales and levels from ``frame`` for the report's feature columns."""
        frame = named_columns(frame)
        check_report(frame, report)
        transforms = [
            ColumnTransform.fit(frame[d.column], _transform_kind(frame[d.column]))
            for d in report.decisions
            if d.role == "feature"
        ]
        if not transforms:
            raise DataError(
                "No column is chosen as a feature; choose at least one column of numbers or "
                "categories as a feature."
            )
        return cls(transforms, report.column("id"), report.column("label"))

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """The feature matrix of ``frame``: float32 of shape (N, d), finite everywhere.

        A value beyond :data:`MAX_FEATURE` standard deviations is clamped to it (see
        :meth:`transform_flagged`, which also says where).
        """
        return self.transform_flagged(frame)[0]

    def transform_flagged(self, frame: pd.DataFrame) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """The feature matrix of ``frame``, and per column the rows whose value was clamped.

        A cell far enough from the labeling file's values (``1e300`` where the mean is 5) gives
        a standardised value no float32 holds: cast as it is, it would become infinite and every
        probability of its row NaN. Such values, and any beyond ±:data:`MAX_FEATURE`, are
        clamped to ±:data:`MAX_FEATURE`; the second result maps each column where that happened
        to a boolean mask of its rows (empty when nothing was clamped), so that predictions can
        say which rows were computed from a clamped value. On the labeling file itself nothing
        is ever clamped: no value lies more than sqrt(N) standard deviations from the mean.
        """
        frame = named_columns(frame)
        missing = [t.column for t in self.transforms if t.column not in frame.columns]
        if missing:
            raise DataError(
                f"The column '{missing[0]}' used to set up the features is not in this file; "
                "open the file the session was made with."
            )
        blocks = []
        clamped: dict[str, np.ndarray] = {}
        for t in self.transforms:
            with np.errstate(over="ignore", invalid="ignore"):  # what overflows is clamped below
                block = np.nan_to_num(t.apply(frame[t.column]), nan=0.0)
            beyond = ~(np.abs(block) <= MAX_FEATURE)
            if beyond.any():
                clamped[t.column] = beyond.any(axis=1)
                block = np.clip(block, -MAX_FEATURE, MAX_FEATURE)
            blocks.append(block)
        matrix = np.hstack(blocks) if blocks else np.zeros((len(frame), 0))
        return matrix.astype(np.float32), clamped

    @property
    def feature_names(self) -> list[str]:
        """One name per feature, e.g. "age", "color=red", "age (missing)"."""
        return [name for t in self.transforms for name in t.output_names()]

    def describe_inputs(self) -> str:
        """How many numbers the network reads and why more than the feature columns, e.g.
        "39 inputs for the network from 36 feature columns (a categorical column gives one 0/1
        input per category; 2 columns with gaps add a 0/1 flag each)"."""
        n_inputs, n_columns = len(self.feature_names), len(self.transforms)
        text = f"{n_inputs} input{'s' if n_inputs != 1 else ''} for the network from "
        text += f"{n_columns} feature column{'s' if n_columns != 1 else ''}"
        why = []
        categorical = [t for t in self.transforms if t.kind == "categorical"]
        if categorical:
            many = len(categorical) > 1
            why.append(
                f"{len(categorical) if many else 'a'} categorical column{'s' if many else ''} "
                f"give{'' if many else 's'} one 0/1 input per category"
            )
        flagged = sum(t.missing_indicator for t in self.transforms)
        if flagged:
            many = flagged > 1
            why.append(
                f"{flagged if many else 'a'} column{'s' if many else ''} with gaps "
                f"add{'' if many else 's'} a 0/1 flag{' each' if many else ''}"
            )
        return f"{text} ({'; '.join(why)})" if why and n_inputs != n_columns else text

    @property
    def feature_columns(self) -> list[str]:
        """The source column of each feature, so one-hot parts can be grouped back."""
        return [t.column for t in self.transforms for _ in t.output_names()]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types only: dicts, lists, strings, numbers, booleans and None."""
        return {
            "version": self.version,
            "id_column": self.id_column,
            "label_column": self.label_column,
            "transforms": [asdict(t) for t in self.transforms],
        }

    @classmethod
    def from_dict(
        cls,
        data: dict[str, Any],
        where: str = "The saved feature preparation",
        advice: str = "start a new session",
    ) -> Preprocessing:
        """Rebuild from :meth:`to_dict`; a damaged or newer record is a DataError.

        Nothing is taken on trust (a project file or an exported model may be damaged or made
        to harm): every field must have its type, every number be finite (a scale above 0), the
        texts be texts and the categories distinct. The sentence starts with ``where`` and ends
        with ``advice``.
        """
        try:
            if not isinstance(data, dict):
                raise ValueError("it is not a record")
            version = whole(data.get("version", 1), 1, 1 << 31)
            if version > PREPROCESSING_VERSION:
                raise DataError(
                    f"{where} comes from a newer version of dami-gui; update dami-gui to open it."
                )
            items = data.get("transforms")
            if not isinstance(items, list) or not items:
                raise ValueError("it has no columns")
            transforms = [_transform(item) for item in items]
            id_column, label_column = data.get("id_column"), data.get("label_column")
            for value in (id_column, label_column):
                if value is not None:
                    text(value)
            return cls(transforms, id_column, label_column, version)
        except ValueError as error:
            raise DataError(f"{where} is damaged and cannot be read ({error}); {advice}.") from None


def _transform(item: object) -> ColumnTransform:
    """One stored :class:`ColumnTransform`, every field checked (see ``from_dict``)."""
    if not isinstance(item, dict):
        raise ValueError("a column is not a record")
    column = text(item.get("column"))
    kind = item.get("kind")
    if kind not in ("numeric", "boolean", "categorical"):
        raise ValueError(f"column '{column[:40]}' has no known kind")
    try:
        mean, std = real(item.get("mean", 0.0)), real(item.get("std", 1.0))
        fill = real(item.get("fill", 0.0))
        if std <= 0:
            raise ValueError("its scale is not above 0")
        missing = item.get("missing_indicator", False)
        if not isinstance(missing, bool):
            raise ValueError("its gap flag is not true or false")
        levels = item.get("categories", [])
        categories = names(levels, "categories", 1 << 24) if levels else []
        true_values = item.get("true_values", DEFAULT_TRUE_VALUES)
        if not isinstance(true_values, list):
            raise ValueError("its true values are not a list")
        true_values = [text(v, 1000) for v in true_values]
    except ValueError as error:
        raise ValueError(f"column '{column[:40]}': {error}") from None
    return ColumnTransform(
        column, kind, mean, std, fill, missing, list(categories), list(true_values)
    )
