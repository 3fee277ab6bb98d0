"""From a CSV table to the numbers a model learns from, with every decision written down.

Three steps, each a plain object so the app can show it and the session can save it:

1. :func:`infer_roles` looks at each column and decides whether it is a feature, the id, the
   label or ignored, with one sentence of reason per column (:class:`RoleReport`).
2. :meth:`Preprocessing.fit` records how each feature column turns into numbers: numbers are
   standardised, yes/no becomes 0/1, categories are one-hot encoded, gaps are filled and flagged.
   The record is plain JSON, so a saved session replays it exactly on the same file.
3. :func:`build_dataset` applies it and bundles the matrix with labels, ids and the table.

:func:`load_dataset` does all three from a path. Every problem the user can fix is raised as a
:class:`~dami_gui.core.errors.DataError` with one sentence saying what is wrong and what to do.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import pandas as pd

from dami_gui.core.data.reader import read_csv
from dami_gui.core.errors import DataError
from dami_gui.core.progress import CancelToken, ProgressCallback, Reporter, as_reporter

__all__ = [
    "KINDS",
    "ROLES",
    "ColumnDecision",
    "ColumnTransform",
    "Dataset",
    "Preprocessing",
    "RoleReport",
    "build_dataset",
    "infer_roles",
    "label_values",
    "load_dataset",
    "natural_sorted",
    "read_csv",
]

ROLES = ("feature", "id", "label", "ignore")
KINDS = ("numeric", "boolean", "categorical", "text", "empty", "constant")
#: A text column with at most this many distinct values (and at most half as many as rows) is a
#: category; a column named like a label with at most this many distinct values is the label.
MAX_CATEGORIES = 50
#: Share of filled cells that must be numbers for a column mixing numbers and text to count as
#: numeric; its text cells are then treated as missing.
NUMERIC_SHARE = 0.95
#: Names that make a column the label, best first: "class" wins over "y" (often a coordinate).
LABEL_NAMES = ("label", "class", "target", "outcome", "category", "y")
#: A column counting the rows is only taken for a row number in a table of at least this many
#: rows, or when it is named like one; in a tiny table 1, 2, 3 may well be a real measurement.
MIN_ROWS_FOR_ROW_NUMBER = 10
ROW_NUMBER_NAMES = frozenset({"index", "idx", "row", "rownum", "row_number", "no", "nr", "#", "n"})
TRUE_WORDS = frozenset({"true", "yes", "t", "y"})
FALSE_WORDS = frozenset({"false", "no", "f", "n"})
DEFAULT_TRUE_VALUES = ["true", "yes", "t", "y", "1"]
PREPROCESSING_VERSION = 1


# --------------------------------------------------------------------------------------------
# Roles
# --------------------------------------------------------------------------------------------


@dataclass
class ColumnDecision:
    """What one column is used for, what it contains, and why, in a sentence for the user."""

    column: str
    role: str  # one of ROLES
    kind: str  # one of KINDS
    reason: str


@dataclass
class RoleReport:
    """The decision for every column of a table, in the table's column order."""

    decisions: list[ColumnDecision]

    def roles(self) -> dict[str, str]:
        """Column name -> role."""
        return {d.column: d.role for d in self.decisions}

    def column(self, role: str) -> str | None:
        """The (first) column with ``role``, mainly for the single id and label columns."""
        return next((d.column for d in self.decisions if d.role == role), None)

    def describe(self) -> str:
        """A few lines of plain text: a summary line, then one line per column with its reason."""
        features = [d for d in self.decisions if d.role == "feature"]
        ignored = [d for d in self.decisions if d.role == "ignore"]
        label, id_column = self.column("label"), self.column("id")
        summary = [
            f"{len(self.decisions)} columns: {len(features)} used as features",
            f"label '{label}'" if label else "no label column",
            f"id '{id_column}'" if id_column else "rows named by their number",
            f"{len(ignored)} ignored.",
        ]
        lines = [", ".join(summary)]
        width = min(max((len(d.column) for d in self.decisions), default=0), 30)
        for d in self.decisions:
            lines.append(f"  {d.column:<{width}}  {d.role:<7}  {d.kind:<11}  {d.reason}")
        return "\n".join(lines)


@dataclass
class _Facts:
    """What a column holds, found once and shared by the role rules and the preprocessing."""

    kind: str
    n_rows: int
    n_filled: int = 0
    n_distinct: int = 0
    unique: bool = False  # every row filled and no value repeated
    whole_numbers: bool = False  # numeric and every filled value is a whole number
    counts_rows: bool = False  # exactly 0..N-1 or 1..N, in order
    n_text_as_missing: int = 0
    text_example: str = ""
    constant_value: str = ""


def cell_texts(series: pd.Series) -> pd.Series:
    """The cells as stripped strings, missing where empty; whole floats lose their ".0".

    Labels, ids, categories and yes/no values are compared as text, so a label column read as
    1.0/2.0 gives the classes "1" and "2".
    """
    if pd.api.types.is_bool_dtype(series.dtype):
        out = series.to_numpy(dtype=object, na_value=None)
        out = np.array([None if v is None else str(bool(v)) for v in out], dtype=object)
    elif pd.api.types.is_integer_dtype(series.dtype) and not series.isna().any():
        out = series.astype(str).to_numpy(dtype=object)
    elif pd.api.types.is_numeric_dtype(series.dtype):
        numbers = series.to_numpy(dtype="float64", na_value=np.nan)
        out = np.full(len(numbers), None, dtype=object)
        finite = np.isfinite(numbers)
        whole = finite & (np.floor(numbers) == numbers) & (np.abs(numbers) < 1e15)
        out[whole] = numbers[whole].astype(np.int64).astype(str).astype(object)
        out[finite & ~whole] = [repr(float(v)) for v in numbers[finite & ~whole]]
    elif pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty"):
        text = series.astype(object).str.strip()
        out = text.mask(text == "").to_numpy(dtype=object, na_value=None)
    else:  # mixed Python objects, e.g. a table built by hand
        values = series.to_numpy(dtype=object, na_value=None)
        out = np.array([_cell_text(v) for v in values], dtype=object)
    return pd.Series(out, index=series.index, dtype=object)


def _cell_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float | np.floating):
        if not np.isfinite(value):
            return None
        if float(value).is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(float(value))
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    text = str(value).strip()
    return text or None


def _numbers(series: pd.Series) -> np.ndarray:
    """The cells as float64, NaN where a cell is empty, not a number, or infinite."""
    if pd.api.types.is_bool_dtype(series.dtype):
        numbers = series.astype("float64").to_numpy()
    elif pd.api.types.is_numeric_dtype(series.dtype):
        numbers = series.to_numpy(dtype="float64", na_value=np.nan)
    else:
        text = cell_texts(series)
        numbers = pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    numbers = np.array(numbers, dtype="float64", copy=True)
    numbers[~np.isfinite(numbers)] = np.nan
    return numbers


def _is_boolean_words(values: list[str]) -> bool:
    lower = {v.lower() for v in values}
    return len(lower) == 2 and len(lower & TRUE_WORDS) == 1 and len(lower & FALSE_WORDS) == 1


def _facts(series: pd.Series) -> _Facts:
    """Classify one column as numeric, boolean, categorical, text, empty or constant."""
    n_rows = len(series)
    if pd.api.types.is_bool_dtype(series.dtype):
        filled = series.dropna()
        distinct = filled.unique()
        kind = "constant" if len(distinct) == 1 else "boolean"
        value = str(bool(distinct[0])) if len(distinct) else ""
        return _Facts(kind, n_rows, len(filled), len(distinct), constant_value=value)
    if pd.api.types.is_numeric_dtype(series.dtype):
        return _numeric_facts(_numbers(series), n_rows)

    text = cell_texts(series)
    filled = text.dropna()
    if filled.empty:
        return _Facts("empty", n_rows)
    distinct = filled.unique()
    if len(distinct) == 1:
        return _Facts("constant", n_rows, len(filled), 1, constant_value=str(distinct[0]))
    if _is_boolean_words(list(distinct)):
        return _Facts("boolean", n_rows, len(filled), 2)
    parsed = pd.to_numeric(filled, errors="coerce").notna()
    if parsed.mean() >= NUMERIC_SHARE:
        facts = _numeric_facts(_numbers(series), n_rows)
        facts.n_text_as_missing = int((~parsed).sum())
        if facts.n_text_as_missing:
            facts.text_example = str(filled[~parsed].iloc[0])
        return facts
    unique = len(filled) == n_rows and len(distinct) == n_rows
    few = len(distinct) <= MAX_CATEGORIES and len(distinct) <= n_rows / 2
    kind = "categorical" if few else "text"
    return _Facts(kind, n_rows, len(filled), len(distinct), unique=unique)


def _numeric_facts(numbers: np.ndarray, n_rows: int) -> _Facts:
    filled = numbers[~np.isnan(numbers)]
    if filled.size == 0:
        return _Facts("empty", n_rows)
    distinct = np.unique(filled)
    whole = bool(np.all(np.floor(filled) == filled))
    unique = filled.size == n_rows and distinct.size == n_rows
    counts_rows = unique and (
        np.array_equal(filled, np.arange(n_rows))
        or np.array_equal(filled, np.arange(1, n_rows + 1))
    )
    if distinct.size == 1:
        value = _cell_text(float(distinct[0])) or ""
        return _Facts("constant", n_rows, filled.size, 1, unique, whole, constant_value=value)
    return _Facts("numeric", n_rows, filled.size, distinct.size, unique, whole, counts_rows)


def _is_row_number(facts: _Facts, column: str) -> bool:
    """A column counting the rows; in a tiny table only when it is also named like one."""
    name = column.strip().lower()
    named = name in ROW_NUMBER_NAMES or name.startswith("unnamed") or not name
    return facts.counts_rows and (facts.n_rows >= MIN_ROWS_FOR_ROW_NUMBER or named)


def _id_like_name(name: str) -> bool:
    """id, ID, key, or a name ending in id such as patch_id, PatientID or sampleid."""
    low = name.strip().lower()
    return low in {"id", "key"} or low.endswith("id")


def _kind_reason(facts: _Facts) -> str:
    """Why a column of this kind is (or is not) a useful feature, as a plain phrase."""
    missing = facts.n_rows - facts.n_filled
    if facts.kind == "numeric" and facts.n_text_as_missing:
        return (
            f"mostly numbers; {facts.n_text_as_missing} text cells such as "
            f"'{facts.text_example}' are treated as missing, and all {missing} missing cells "
            "are filled in and flagged"
        )
    gaps = f"; {missing} missing cells are filled in and flagged" if missing else ""
    if facts.kind == "numeric":
        return f"numbers{gaps}"
    if facts.kind == "boolean":
        return f"yes/no values, used as 1/0{gaps}"
    if facts.kind == "categorical":
        return f"text with {facts.n_distinct} different values, each becomes a 0/1 feature{gaps}"
    if facts.kind == "text":
        if facts.n_distinct == facts.n_rows:
            return "text that is different in every row, so it cannot help"
        return f"free text with {facts.n_distinct} different values, too many to use as categories"
    if facts.kind == "empty":
        return "every cell is empty"
    return f"same value ({facts.constant_value}) in every row, so it cannot help"


def infer_roles(
    frame: pd.DataFrame,
    label_column: str | None = None,
    id_column: str | None = None,
    roles: dict[str, str] | None = None,
) -> RoleReport:
    """Decide the role of every column of ``frame``, with a reason the user can read.

    Roles given in ``label_column``, ``id_column`` and ``roles`` win. For the other columns:

    * label: named label/class/target/outcome/category/y (any case) with at most 50 values;
    * id (at most one): named id/key/..id with a different whole number or text in every row,
      else a text column different in every row, else a column counting the rows;
    * ignored: empty or constant columns, other row counters, and free text (a text column
      with more than 50 values or more values than half the rows);
    * feature: numbers (also when at least 95 % of the filled cells are numbers; the text cells
      then count as missing), yes/no words, and text with few values (categories).

    Raises :class:`DataError` for an unknown column or role, two label or id columns, an id
    column with repeated or empty values, or when no column can be a feature.
    """
    frame = _named_columns(frame)
    columns = list(frame.columns)
    explicit = _explicit_roles(columns, label_column, id_column, roles)
    facts = {column: _facts(frame[column]) for column in columns}
    decided: dict[str, ColumnDecision] = {}

    for column, role in explicit.items():
        f = facts[column]
        if role == "id":
            _check_ids(frame[column], column)
            reason = "you chose it as the id column, which names the rows"
        elif role == "label":
            reason = f"you chose it as the label column ({_label_summary(f)})"
        elif role == "feature":
            reason = f"you chose it as a feature ({_kind_reason(f)})"
        else:
            reason = "you chose to leave it out"
        decided[column] = ColumnDecision(column, role, f.kind, reason)

    free = [c for c in columns if c not in decided]
    if "label" not in explicit.values():
        candidates = [
            c
            for c in free
            if c.strip().lower() in LABEL_NAMES and facts[c].n_distinct <= MAX_CATEGORIES
        ]
        if candidates:
            column = min(candidates, key=lambda c: LABEL_NAMES.index(c.strip().lower()))
            f = facts[column]
            reason = f"named like a label column ({_label_summary(f)})"
            decided[column] = ColumnDecision(column, "label", f.kind, reason)

    has_id = "id" in explicit.values()
    id_rules = (
        (
            lambda f, c: _id_like_name(c) and f.unique and (f.kind != "numeric" or f.whole_numbers),
            "named like an id and different in every row, so it names the rows",
        ),
        (
            lambda f, c: f.kind == "text" and f.unique,
            "text that is different in every row, so it names the rows",
        ),
        (_is_row_number, "counts the rows (1, 2, 3, ...), so it is used to name them"),
    )
    for rule, reason in id_rules:
        if has_id:
            break
        for column in free:
            if column not in decided and rule(facts[column], column):
                decided[column] = ColumnDecision(column, "id", facts[column].kind, reason)
                has_id = True
                break

    for column in free:
        if column in decided:
            continue
        f = facts[column]
        if _is_row_number(f, column):
            role, reason = "ignore", "counts the rows (1, 2, 3, ...), so it cannot help"
        elif f.kind in ("numeric", "boolean", "categorical"):
            role, reason = "feature", _kind_reason(f)
            if column.strip().lower() in LABEL_NAMES:
                reason += f"; named like a label but has {f.n_distinct} different values"
        else:
            role, reason = "ignore", _kind_reason(f)
        decided[column] = ColumnDecision(column, role, f.kind, reason)

    report = RoleReport([decided[c] for c in columns])
    if not any(d.role == "feature" for d in report.decisions):
        why = "; ".join(f"'{d.column}' {_short_role(d)}" for d in report.decisions)
        raise DataError(
            "Nothing to learn from: no column can be used as a feature "
            f"({why}); add columns of numbers or categories, or choose the roles yourself."
        )
    return report


def _short_role(decision: ColumnDecision) -> str:
    if decision.role in ("id", "label"):
        return f"is the {decision.role}"
    return f"is left out: {decision.reason.split(';')[0]}"


def _label_summary(facts: _Facts) -> str:
    if facts.n_filled == 0:
        return "all cells are empty, so every row starts unlabeled"
    unlabeled = facts.n_rows - facts.n_filled
    text = f"{facts.n_distinct} classes"
    return text + (f", {unlabeled} rows not labeled yet" if unlabeled else "")


def _explicit_roles(
    columns: list[str],
    label_column: str | None,
    id_column: str | None,
    roles: dict[str, str] | None,
) -> dict[str, str]:
    """Merge the roles the user chose, refusing unknown columns, unknown roles and conflicts."""
    explicit: dict[str, str] = {}
    for column, role in (roles or {}).items():
        _check_column(column, columns)
        if role not in ROLES:
            raise DataError(
                f"The role '{role}' chosen for column '{column}' is not one of "
                f"{', '.join(ROLES)}; pick one of those."
            )
        explicit[str(column)] = role
    for column, role in ((label_column, "label"), (id_column, "id")):
        if column is None:
            continue
        _check_column(column, columns)
        if explicit.get(column, role) != role:
            raise DataError(
                f"The column '{column}' was chosen both as {role} and as {explicit[column]}; "
                "give it one role."
            )
        explicit[str(column)] = role
    for role in ("label", "id"):
        chosen = [c for c, r in explicit.items() if r == role]
        if len(chosen) > 1:
            raise DataError(
                f"Only one column can be the {role}, but {', '.join(map(repr, chosen))} were "
                "chosen; keep one."
            )
    return explicit


def _check_column(column: object, columns: list[str]) -> None:
    if str(column) not in columns:
        listed = ", ".join(f"'{c}'" for c in columns)
        raise DataError(f"There is no column '{column}' in the file; the columns are {listed}.")


def _check_ids(series: pd.Series, column: str) -> np.ndarray:
    """The id column as strings; an empty or repeated id is refused with the row or value."""
    text = cell_texts(series)
    empty = np.flatnonzero(text.isna().to_numpy())
    if empty.size:
        raise DataError(
            f"The id column '{column}' is empty in row {empty[0] + 1}; fill in every id or "
            "choose another id column."
        )
    duplicated = text[text.duplicated()]
    if not duplicated.empty:
        raise DataError(
            f"The id column '{column}' has the value '{duplicated.iloc[0]}' more than once; "
            "ids must be unique, so fix it or choose another id column."
        )
    return text.to_numpy(dtype=str)


def natural_sorted(values: list[str]) -> list[str]:
    """Numbers by value when every value is a number ("2" before "10"), else alphabetically."""
    try:
        keyed = [(float(v), v) for v in values]
        if all(np.isfinite(k) for k, _ in keyed):
            return [v for _, v in sorted(keyed)]
    except ValueError:
        pass
    return sorted(values, key=lambda v: (v.casefold(), v))


def label_values(frame: pd.DataFrame, column: str) -> list[str]:
    """The class names found in ``column``, in the order :func:`build_dataset` gives them codes.

    Cells are read as text the way the core reads labels (stripped, whole floats without ".0",
    empty cells left out), then sorted naturally.
    """
    text = cell_texts(frame[column])
    return natural_sorted([str(v) for v in text.dropna().unique()])


# --------------------------------------------------------------------------------------------
# Preprocessing
# --------------------------------------------------------------------------------------------


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
            text = cell_texts(series)
            truth = set(self.true_values)
            return np.array(
                [np.nan if t is None else float(t.lower() in truth) for t in text], dtype="float64"
            )
        return _numbers(series)

    def apply(self, series: pd.Series) -> np.ndarray:
        """The features of this column for ``series``: float64 of shape (N, len(output_names()))."""
        if self.kind == "categorical":
            text = cell_texts(series)
            missing = text.isna().to_numpy()
            codes = pd.Index(self.categories, dtype=object).get_indexer(text)
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
            text = cell_texts(series)
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
        transform.mean = float(values.mean()) if values.size else 0.0
        std = float(values.std()) if values.size else 0.0
        transform.std = std if np.isfinite(std) and std > 1e-12 else 1.0
        return transform


def _transform_kind(series: pd.Series) -> str:
    """numeric, boolean or categorical: how a feature column is turned into numbers.

    Empty and constant columns only become features when the user asks for them; they are then
    read as numbers when they hold numbers (or nothing), else as a one-level category.
    """
    kind = _facts(series).kind
    if kind in ("numeric", "boolean", "categorical"):
        return kind
    if kind == "empty" or (kind == "constant" and np.isfinite(_numbers(series)).any()):
        return "numeric"
    return "categorical"


@dataclass
class Preprocessing:
    """The recorded steps from table to features; replayable, and saved as plain JSON."""

    transforms: list[ColumnTransform]
    id_column: str | None = None
    label_column: str | None = None
    version: int = PREPROCESSING_VERSION

    @classmethod
    def fit(cls, frame: pd.DataFrame, report: RoleReport) -> Preprocessing:
        """Learn fill values, scales and levels from ``frame`` for the report's feature columns."""
        frame = _named_columns(frame)
        _check_report(frame, report)
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
        """The feature matrix of ``frame``: float32 of shape (N, d), finite everywhere."""
        frame = _named_columns(frame)
        missing = [t.column for t in self.transforms if t.column not in frame.columns]
        if missing:
            raise DataError(
                f"The column '{missing[0]}' used to set up the features is not in this file; "
                "open the file the session was made with."
            )
        blocks = [t.apply(frame[t.column]) for t in self.transforms]
        matrix = np.hstack(blocks) if blocks else np.zeros((len(frame), 0))
        return np.nan_to_num(matrix, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)

    @property
    def feature_names(self) -> list[str]:
        """One name per feature, e.g. "age", "color=red", "age (missing)"."""
        return [name for t in self.transforms for name in t.output_names()]

    @property
    def feature_columns(self) -> list[str]:
        """The source column of each feature, so one-hot parts can be grouped back."""
        return [t.column for t in self.transforms for _ in t.output_names()]

    def to_dict(self) -> dict:
        """Plain JSON types only: dicts, lists, strings, numbers, booleans and None."""
        return {
            "version": self.version,
            "id_column": self.id_column,
            "label_column": self.label_column,
            "transforms": [asdict(t) for t in self.transforms],
        }

    @classmethod
    def from_dict(cls, data: dict) -> Preprocessing:
        """Rebuild from :meth:`to_dict`; a damaged or newer record is a DataError."""
        try:
            version = int(data.get("version", PREPROCESSING_VERSION))
            if version > PREPROCESSING_VERSION:
                raise DataError(
                    "The saved feature preparation comes from a newer version of dami-gui; "
                    "update dami-gui to open it."
                )
            known = {f.name for f in fields(ColumnTransform)}
            transforms = []
            for item in data["transforms"]:
                t = ColumnTransform(**{k: v for k, v in item.items() if k in known})
                if t.kind not in ("numeric", "boolean", "categorical"):
                    raise ValueError(t.kind)
                t.mean, t.std, t.fill = float(t.mean), float(t.std), float(t.fill)
                t.categories = [str(c) for c in t.categories]
                if len(set(t.categories)) != len(t.categories):
                    raise ValueError("repeated category")
                t.true_values = [str(v) for v in t.true_values]
                transforms.append(t)
            return cls(transforms, data.get("id_column"), data.get("label_column"), version)
        except DataError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError):
            raise DataError(
                "The saved feature preparation is damaged and cannot be read; start a new session."
            ) from None


def _named_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with text column names; two columns with the same name are refused."""
    if not all(isinstance(c, str) for c in frame.columns):
        frame = frame.rename(columns=str)
    repeated = frame.columns[frame.columns.duplicated()]
    if len(repeated):
        raise DataError(
            f"More than one column is named '{repeated[0]}'; give each column its own name."
        )
    return frame


def _check_report(frame: pd.DataFrame, report: RoleReport) -> None:
    for decision in report.decisions:
        if decision.column not in frame.columns:
            raise DataError(
                f"The column '{decision.column}' is not in this file; choose the roles again for "
                "this file."
            )
        if decision.role not in ROLES:
            raise DataError(
                f"The role '{decision.role}' of column '{decision.column}' is not one of "
                f"{', '.join(ROLES)}; pick one of those."
            )


# --------------------------------------------------------------------------------------------
# Dataset
# --------------------------------------------------------------------------------------------


@dataclass
class Dataset:
    """A table ready for learning: the original rows, their features, labels and ids."""

    frame: pd.DataFrame
    X: np.ndarray
    y: np.ndarray
    classes: list[str]
    ids: np.ndarray
    preprocessing: Preprocessing
    report: RoleReport
    source: Path | None = None

    @property
    def n_rows(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])

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
    frame = _named_columns(frame).reset_index(drop=True)
    _check_report(frame, report)
    id_column = report.column("id")
    if id_column is not None:
        ids = _check_ids(frame[id_column], id_column)
    else:
        ids = np.array([str(i) for i in range(1, len(frame) + 1)], dtype=str)

    y, class_names = label_codes(frame, report.column("label"), classes)
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


def label_codes(
    frame: pd.DataFrame, label_column: str | None, classes: list[str] | None
) -> tuple[np.ndarray, list[str]]:
    """Class codes (-1 for an empty label cell) and class names, in natural or given order."""
    if classes is not None:
        classes = [str(c) for c in classes]
        repeated = [c for i, c in enumerate(classes) if c in classes[:i]]
        if repeated:
            raise DataError(f"The class '{repeated[0]}' is listed twice; list each class once.")
    if label_column is None:
        return np.full(len(frame), -1, dtype=np.int64), list(classes or [])
    text = cell_texts(frame[label_column])
    present = [str(v) for v in text.dropna().unique()]
    if classes is None:
        classes = natural_sorted(present)
    else:
        unknown = [v for v in present if v not in set(classes)]
        if unknown:
            listed = ", ".join(f"'{c}'" for c in classes) or "none"
            raise DataError(
                f"The label '{unknown[0]}' in column '{label_column}' is not one of the classes "
                f"({listed}); add it to the classes or correct the cell."
            )
    codes = pd.Index(classes, dtype=object).get_indexer(text).astype(np.int64)
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
