"""Which column is the label, the id, a feature or ignored, with a reason the user can read.

:func:`infer_roles` looks at what each column holds (:class:`ColumnFacts`) and decides its role,
with one sentence of reason per column (:class:`RoleReport`). Roles the user chose win; every
problem the user can fix is raised as a :class:`~dami_gui.core.errors.DataError`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dami_gui.core.data.cells import (
    cell_text,
    column_numbers,
    named_columns,
    natural_sorted,
    text_values,
)
from dami_gui.core.errors import DataError

__all__ = [
    "KINDS",
    "ROLES",
    "ColumnDecision",
    "ColumnFacts",
    "RoleReport",
    "check_report",
    "checked_ids",
    "column_facts",
    "infer_roles",
    "label_values",
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
class ColumnFacts:
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


def _is_boolean_words(values: list[str]) -> bool:
    lower = {v.lower() for v in values}
    return len(lower) == 2 and len(lower & TRUE_WORDS) == 1 and len(lower & FALSE_WORDS) == 1


def column_facts(series: pd.Series) -> ColumnFacts:
    """Classify one column as numeric, boolean, categorical, text, empty or constant."""
    n_rows = len(series)
    if pd.api.types.is_bool_dtype(series.dtype):
        filled = series.dropna()
        distinct = filled.unique()
        kind = "constant" if len(distinct) == 1 else "boolean"
        value = str(bool(distinct[0])) if len(distinct) else ""
        return ColumnFacts(kind, n_rows, len(filled), len(distinct), constant_value=value)
    if pd.api.types.is_numeric_dtype(series.dtype):
        return _numeric_facts(column_numbers(series), n_rows)

    text = text_values(series)
    filled = text.dropna()
    if filled.empty:
        return ColumnFacts("empty", n_rows)
    distinct = filled.unique()
    if len(distinct) == 1:
        return ColumnFacts("constant", n_rows, len(filled), 1, constant_value=str(distinct[0]))
    if _is_boolean_words(list(distinct)):
        return ColumnFacts("boolean", n_rows, len(filled), 2)
    parsed = pd.to_numeric(filled, errors="coerce").notna()
    if parsed.mean() >= NUMERIC_SHARE:
        facts = _numeric_facts(column_numbers(series), n_rows)
        facts.n_text_as_missing = int((~parsed).sum())
        if facts.n_text_as_missing:
            facts.text_example = str(filled[~parsed].iloc[0])
        return facts
    unique = len(filled) == n_rows and len(distinct) == n_rows
    few = len(distinct) <= MAX_CATEGORIES and len(distinct) <= n_rows / 2
    kind = "categorical" if few else "text"
    return ColumnFacts(kind, n_rows, len(filled), len(distinct), unique=unique)


def _numeric_facts(numbers: np.ndarray, n_rows: int) -> ColumnFacts:
    filled = numbers[~np.isnan(numbers)]
    if filled.size == 0:
        return ColumnFacts("empty", n_rows)
    distinct = np.unique(filled)
    whole = bool(np.all(np.floor(filled) == filled))
    unique = filled.size == n_rows and distinct.size == n_rows
    counts_rows = unique and (
        np.array_equal(filled, np.arange(n_rows))
        or np.array_equal(filled, np.arange(1, n_rows + 1))
    )
    if distinct.size == 1:
        value = cell_text(float(distinct[0])) or ""
        return ColumnFacts("constant", n_rows, filled.size, 1, unique, whole, constant_value=value)
    return ColumnFacts("numeric", n_rows, filled.size, distinct.size, unique, whole, counts_rows)


def _is_row_number(facts: ColumnFacts, column: str) -> bool:
    """A column counting the rows; in a tiny table only when it is also named like one."""
    name = column.strip().lower()
    named = name in ROW_NUMBER_NAMES or name.startswith("unnamed") or not name
    return facts.counts_rows and (facts.n_rows >= MIN_ROWS_FOR_ROW_NUMBER or named)


def _id_like_name(name: str) -> bool:
    """id, ID, key, or a name ending in id such as patch_id, PatientID or sampleid."""
    low = name.strip().lower()
    return low in {"id", "key"} or low.endswith("id")


def _kind_reason(facts: ColumnFacts) -> str:
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
    frame = named_columns(frame)
    columns = list(frame.columns)
    explicit = _explicit_roles(columns, label_column, id_column, roles)
    facts = {column: column_facts(frame[column]) for column in columns}
    decided: dict[str, ColumnDecision] = {}

    for column, role in explicit.items():
        f = facts[column]
        if role == "id":
            checked_ids(frame[column], column)
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


def _label_summary(facts: ColumnFacts) -> str:
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


def checked_ids(series: pd.Series, column: str) -> np.ndarray:
    """The id column as strings; an empty or repeated id is refused with the row or value."""
    text = text_values(series)
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


def label_values(frame: pd.DataFrame, column: str) -> list[str]:
    """The class names found in ``column``, in the order :func:`build_dataset` gives them codes.

    Cells are read as text the way the core reads labels (stripped, whole floats without ".0",
    empty cells left out), then sorted naturally.
    """
    text = text_values(frame[column])
    return natural_sorted([str(v) for v in text.dropna().unique()])


def check_report(frame: pd.DataFrame, report: RoleReport) -> None:
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
