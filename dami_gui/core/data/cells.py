"""How a table cell is read as text or as a number, the same way everywhere in the core.

Labels, ids, categories and yes/no values are compared as text; features are read as numbers.
Role inference, the preprocessing, the dataset and the project's row keys all go through
:func:`text_values`, :func:`feature_text_values` and :func:`column_numbers`, so they agree on
what a cell holds.

Missing-value markers (``NA``, ``?``, ``null``, ...) mean "no value" in a *feature* only: a label
or an id is the text the user wrote, so a class called "NA" or "None" stays a class.

pandas is imported by the functions that read cells, not with the module: the records built on
these rules (roles, preprocessing, the dataset) are read back from a project without pandas when
only its labels are used (issue 24: a label from the shell answers at once).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import numpy as np

from dami_gui.core.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "MISSING_MARKERS",
    "PREVIEW_CHARS",
    "cell_text",
    "column_numbers",
    "feature_text_values",
    "named_columns",
    "natural_sorted",
    "preview",
    "text_values",
]

#: Cell texts that mean "no value" in a feature, on top of the empty cell: pandas' usual markers
#: plus "?", which many public data sets (the UCI repository among them) use for a missing value.
MISSING_MARKERS = frozenset(
    {
        "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
        "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null", "?",
    }
)  # fmt: skip
#: Longest cell text quoted in a message or a role report; longer ones are cut with "...".
PREVIEW_CHARS = 40


def text_values(series: pd.Series) -> pd.Series:
    """The cells as stripped strings, missing where empty; whole floats lose their ".0".

    Labels, ids, categories and yes/no values are compared as text, so a label column read as
    1.0/2.0 gives the classes "1" and "2".
    """
    import pandas as pd

    if pd.api.types.is_bool_dtype(series.dtype):
        out = series.to_numpy(dtype=object, na_value=None)  # type: ignore[call-overload]  # stubs lack na_value=None
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
        out = text.mask(text == "").to_numpy(dtype=object, na_value=None)  # type: ignore[call-overload]
    else:  # mixed Python objects, e.g. a table built by hand
        values = series.to_numpy(dtype=object, na_value=None)  # type: ignore[call-overload]
        out = np.array([cell_text(v) for v in values], dtype=object)
    return pd.Series(out, index=series.index, dtype=object)


def feature_text_values(series: pd.Series) -> pd.Series:
    """:func:`text_values` with the missing-value markers (:data:`MISSING_MARKERS`) missing too.

    This is how a feature column reads its text: "NA" or "?" in a column of categories is a gap,
    filled in and flagged like an empty cell, while the same text in the label column is a class.
    """
    text = text_values(series)
    return text.mask(text.isin(MISSING_MARKERS))


def preview(value: object, limit: int = PREVIEW_CHARS) -> str:
    """``value`` as text for a message, cut to ``limit`` characters (a cell may be megabytes)."""
    text = str(value)
    return text if len(text) <= limit else text[: max(limit - 3, 1)] + "..."


def cell_text(value: object) -> str | None:
    """One cell as :func:`text_values` reads it: stripped text, whole floats without ".0"."""
    if value is None:
        return None
    if isinstance(value, float | np.floating):
        number = float(value)
        if not np.isfinite(number):
            return None
        if number.is_integer() and abs(number) < 1e15:
            return str(int(number))
        return repr(number)
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    import pandas as pd

    try:
        if pd.isna(cast(Any, value)):  # NaN, NaT, pd.NA (an array raises: it is text then)
            return None
    except (TypeError, ValueError):
        pass
    text = str(value).strip()
    return text or None


def column_numbers(series: pd.Series) -> np.ndarray:
    """The cells as float64, NaN where a cell is empty, not a number, or infinite."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(series.dtype):
        numbers = series.astype("float64").to_numpy()
    elif pd.api.types.is_numeric_dtype(series.dtype):
        numbers = series.to_numpy(dtype="float64", na_value=np.nan)
    else:
        text = text_values(series)
        numbers = pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    numbers = np.array(numbers, dtype="float64", copy=True)
    numbers[~np.isfinite(numbers)] = np.nan
    return numbers


def natural_sorted(values: list[str]) -> list[str]:
    """Numbers by value when every value is a number ("2" before "10"), else alphabetically."""
    try:
        keyed = [(float(v), v) for v in values]
        if all(np.isfinite(k) for k, _ in keyed):
            return [v for _, v in sorted(keyed)]
    except ValueError:
        pass
    return sorted(values, key=lambda v: (v.casefold(), v))


def named_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with text column names; two columns with the same name are refused."""
    if not all(isinstance(c, str) for c in frame.columns):
        frame = frame.rename(columns=str)
    repeated = frame.columns[frame.columns.duplicated()]
    if len(repeated):
        raise DataError(
            f"More than one column is named '{repeated[0]}'; give each column its own name."
        )
    return frame
