"""What kind of values a column holds, read as a feature, and why that helps learning or not.

:func:`column_facts` classifies a column as numeric, boolean, categorical, text, empty or
constant, counting its filled and distinct cells; the role rules (:mod:`.roles`) and the
preprocessing (:mod:`.preprocessing`) both decide from these facts. A feature reads the
missing-value markers (``NA``, ``?``, ...) as gaps, and :func:`kind_reason` says so, naming them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from dami_gui.core.data.cells import (
    MISSING_MARKERS,
    cell_text,
    column_numbers,
    feature_text_values,
    preview,
    text_values,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "KINDS",
    "MAX_CATEGORIES",
    "ColumnFacts",
    "column_facts",
    "kind_reason",
    "marker_list",
    "marker_note",
]

KINDS = ("numeric", "boolean", "categorical", "text", "empty", "constant")
#: A text column with at most this many distinct values (and at most half as many as rows) is a
#: category; a column named like a label with at most this many distinct values is the label.
MAX_CATEGORIES = 50
#: Share of filled cells that must be numbers for a column mixing numbers and text to count as
#: numeric; its text cells are then treated as missing.
NUMERIC_SHARE = 0.95
TRUE_WORDS = frozenset({"true", "yes", "t", "y"})
FALSE_WORDS = frozenset({"false", "no", "f", "n"})


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
    #: missing-value markers read as gaps, with their counts, e.g. {"NA": 3}
    markers: dict[str, int] = field(default_factory=dict)


def _is_boolean_words(values: list[str]) -> bool:
    lower = {v.lower() for v in values}
    return len(lower) == 2 and len(lower & TRUE_WORDS) == 1 and len(lower & FALSE_WORDS) == 1


def column_facts(series: pd.Series, markers: dict[str, int] | None = None) -> ColumnFacts:
    """Classify one column, read as a feature, as numeric, boolean, categorical, text, empty or
    constant.

    ``markers``: the missing-value markers the reader already turned into gaps in a column of
    numbers (``frame.attrs``), so that the report can name them.
    """
    facts = _feature_facts(series)
    if markers:
        facts.markers = dict(markers)
    return facts


def _feature_facts(series: pd.Series) -> ColumnFacts:
    import pandas as pd

    n_rows = len(series)
    if pd.api.types.is_bool_dtype(series.dtype):
        filled = series.dropna()
        distinct = filled.unique()
        kind = "constant" if len(distinct) == 1 else "boolean"
        value = str(bool(distinct[0])) if len(distinct) else ""
        return ColumnFacts(kind, n_rows, len(filled), len(distinct), constant_value=value)
    if pd.api.types.is_numeric_dtype(series.dtype):
        return _numeric_facts(column_numbers(series), n_rows)

    written = text_values(series)
    marked = written[written.isin(MISSING_MARKERS)].value_counts()
    markers = {str(k): int(v) for k, v in marked.items()}
    facts = _text_facts(feature_text_values(series), series, n_rows)
    facts.markers = markers
    return facts


def _text_facts(text: pd.Series, series: pd.Series, n_rows: int) -> ColumnFacts:
    """Facts of a column of text (markers already gaps): numbers when nearly all are numbers."""
    import pandas as pd

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


def kind_reason(facts: ColumnFacts) -> str:
    """Why a column of this kind is (or is not) a useful feature, as a plain phrase."""
    missing = facts.n_rows - facts.n_filled
    if facts.kind == "numeric" and facts.n_text_as_missing:
        return (
            f"mostly numbers; {facts.n_text_as_missing} text cells such as "
            f"'{preview(facts.text_example)}' are treated as missing, and all {missing} missing "
            f"cells{marker_note(facts.markers)} are filled in and flagged"
        )
    gaps = (
        f"; {missing} missing cells{marker_note(facts.markers)} are filled in and flagged"
        if missing
        else ""
    )
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
        if facts.markers:
            return f"every cell is empty or a missing-value marker ({marker_list(facts.markers)})"
        return "every cell is empty"
    return f"same value ({preview(facts.constant_value)}) in every row, so it cannot help"


def marker_list(markers: dict[str, int]) -> str:
    """'NA' and '?' as a short phrase (at most three markers named)."""
    names = [f"'{m}'" for m in sorted(markers, key=lambda m: -markers[m])]
    return ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")


def marker_note(markers: dict[str, int]) -> str:
    """ " (7 written as 'NA' or '?')" when markers were read as gaps, else ""."""
    if not markers:
        return ""
    return f" ({sum(markers.values())} written as {marker_list(markers).replace(', ', ' or ')})"
