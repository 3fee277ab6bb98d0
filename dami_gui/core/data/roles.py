"""Which column is the label, the id, a feature or ignored, with a reason the user can read.

:func:`infer_roles` looks at what each column holds (:class:`ColumnFacts`) and decides its role,
with one sentence of reason per column (:class:`RoleReport`). Roles the user chose win; every
problem the user can fix is raised as a :class:`~dami_gui.core.errors.DataError`.

A feature reads missing-value markers (``NA``, ``?``, ...) as gaps; the label and the id read the
text as written, so a class called "NA" stays a class. The reasons say which markers were taken
for gaps, and quote cells only as a short preview.
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from dami_gui.core.data.cells import (
    MISSING_MARKERS,
    named_columns,
    natural_sorted,
    preview,
    text_values,
)
from dami_gui.core.data.kinds import (
    MAX_CATEGORIES,
    ColumnFacts,
    column_facts,
    kind_reason,
    marker_list,
    marker_note,
)
from dami_gui.core.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ROLES",
    "ColumnDecision",
    "RoleReport",
    "check_report",
    "checked_ids",
    "infer_roles",
    "label_values",
]

ROLES = ("feature", "id", "label", "ignore")
#: Names that make a column the label, best first: "class" wins over "y" (often a coordinate).
LABEL_NAMES = ("label", "class", "target", "outcome", "category", "y")
#: A column counting the rows is only taken for a row number in a table of at least this many
#: rows, or when it is named like one; in a tiny table 1, 2, 3 may well be a real measurement.
MIN_ROWS_FOR_ROW_NUMBER = 10
ROW_NUMBER_NAMES = frozenset({"index", "idx", "row", "rownum", "row_number", "no", "nr", "#", "n"})


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


def _is_row_number(facts: ColumnFacts, column: str) -> bool:
    """A column counting the rows; in a tiny table only when it is also named like one."""
    name = column.strip().lower()
    named = name in ROW_NUMBER_NAMES or name.startswith("unnamed") or not name
    return facts.counts_rows and (facts.n_rows >= MIN_ROWS_FOR_ROW_NUMBER or named)


def _id_like_name(name: str) -> bool:
    """id, ID, key, or a name ending in id such as patch_id, PatientID or sampleid."""
    low = name.strip().lower()
    return low in {"id", "key"} or low.endswith("id")


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
    from dami_gui.core.data.number_columns import MARKERS_ATTR  # the reader's, with pandas

    markers = frame.attrs.get(MARKERS_ATTR) or {}
    facts = {column: column_facts(frame[column], markers.get(column)) for column in columns}
    decided: dict[str, ColumnDecision] = {}

    for column, role in explicit.items():
        f = facts[column]
        if role == "id":
            checked_ids(frame[column], column)
            reason = "you chose it as the id column, which names the rows"
        elif role == "label":
            reason = f"you chose it as the label column ({_label_summary(frame[column], f)})"
            f = dataclasses.replace(f, kind=_label_kind(frame[column], f))
        elif role == "feature":
            reason = f"you chose it as a feature ({kind_reason(f)})"
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
            reason = f"named like a label column ({_label_summary(frame[column], f)})"
            kind = _label_kind(frame[column], f)
            decided[column] = ColumnDecision(column, "label", kind, reason)

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
            role, reason = "feature", kind_reason(f)
            if column.strip().lower() in LABEL_NAMES:
                reason += f"; named like a label but has {f.n_distinct} different values"
        else:
            role, reason = "ignore", kind_reason(f)
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


def _label_summary(series: pd.Series, facts: ColumnFacts) -> str:
    """The classes and unlabeled rows of a label column, read as written ("NA" is a class)."""
    import pandas as pd

    text = text_values(series)
    filled = text.dropna()
    gaps = marker_note(facts.markers) if pd.api.types.is_numeric_dtype(series.dtype) else ""
    if filled.empty:
        return f"all cells are empty{gaps}, so every row starts unlabeled"
    classes = filled.unique()
    unlabeled = len(text) - len(filled)
    summary = f"{len(classes)} classes"
    if unlabeled:
        summary += f", {unlabeled} rows not labeled yet{gaps}"
    named = {str(c): 1 for c in classes if c in MISSING_MARKERS}
    if named:
        are = "is taken as a class name" if len(named) == 1 else "are taken as class names"
        summary += (
            f"; {marker_list(named).replace(', ', ' and ')} {are}: leave those cells empty "
            "where they mean not labeled"
        )
    return summary


def _label_kind(series: pd.Series, facts: ColumnFacts) -> str:
    """The kind shown for the label column: its classes as written ("NA" is a class)."""
    import pandas as pd

    if facts.kind != "empty" or pd.api.types.is_numeric_dtype(series.dtype):
        return facts.kind
    n_classes = text_values(series).nunique()
    return facts.kind if n_classes == 0 else "constant" if n_classes == 1 else "categorical"


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
    for named, role in ((label_column, "label"), (id_column, "id")):
        if named is None:
            continue
        _check_column(named, columns)
        if explicit.get(named, role) != role:
            raise DataError(
                f"The column '{named}' was chosen both as {role} and as {explicit[named]}; "
                "give it one role."
            )
        explicit[str(named)] = role
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
        near = near_columns(str(column), columns)
        if near:
            listed = " or ".join(f"'{c}'" for c in near)
            raise DataError(f"There is no column '{column}' in the file; did you mean {listed}?")
        listed = ", ".join(f"'{c}'" for c in columns)
        raise DataError(f"There is no column '{column}' in the file; the columns are {listed}.")


def near_columns(name: str, columns: list[str]) -> list[str]:
    """The columns a mistyped ``name`` most likely meant: those equal but for the case (and
    surrounding spaces), else up to three that difflib finds close; none when nothing is."""
    folded = {c: c.strip().casefold() for c in columns}
    same = [c for c, f in folded.items() if f == name.strip().casefold()]
    if same:
        return same
    close = difflib.get_close_matches(name.strip().casefold(), list(folded.values()), 3, 0.75)
    return [c for f in close for c, g in folded.items() if g == f][:3]


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
            f"The id column '{column}' has the value '{preview(duplicated.iloc[0])}' more than "
            "once; ids must be unique, so fix it or choose another id column."
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
