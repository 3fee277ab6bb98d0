"""Which columns of a CSV file hold numbers, decided so that nothing the user wrote is lost.

The reader parses every cell as text; :func:`convert_columns` then turns a column into numbers
only when the conversion loses nothing the user would miss:

* every filled cell is a number or a missing-value marker (``NA``, ``?``, ...; see
  :data:`~dami_gui.core.data.cells.MISSING_MARKERS`); the markers become missing values, and
  which ones were seen is kept in ``frame.attrs[MARKERS_ATTR]`` for the role report;
* no number is written with a leading zero (``007``, ``01``): such a column is a code, an id or
  a label, and keeps its text (it still serves as a numeric feature, see the roles);
* no whole number has more digits than a float holds exactly (a long id stays text);
* numbers with thousands separators (``1,234,567.89``, ``1.234.567,89``, ``1 234,5``,
  ``1'234``) are numbers when every number of the column is written the same way.

A column of markers only (a class called "NA" or "None") keeps its text. Other columns keep the
stripped text of their cells; an empty cell is missing everywhere.

:func:`convert_columns_v1` is the rule of the first versions (every filled cell a number, the
markers missing in every column, leading zeros dropped); projects made with them are read with
it, so that their rows and features stay exactly as they were.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from dami_gui.core.data.cells import MISSING_MARKERS
from dami_gui.core.progress import Reporter

__all__ = ["MARKERS_ATTR", "convert_columns", "convert_columns_v1"]

#: ``frame.attrs`` key: {column: {marker: count}} for the numeric columns whose markers
#: (``NA``, ``?``, ...) became missing values.
MARKERS_ATTR = "dami_missing_markers"
#: Characters that group thousands: with a decimal point also the comma, with a decimal comma
#: also the point.
GROUP_SPACES = (" ", "\u00a0", "\u202f", "'")
#: A whole number with more digits than this does not survive a float (an id, an account number).
MAX_FLOAT_DIGITS = 15
#: Longest cell tried as a number with thousands separators (a longer one is text, and a
#: megabyte-long cell is not scanned again and again).
MAX_GROUPED_CHARS = 64

_LONG_WHOLE = re.compile(rf"^[+-]?\d{{{MAX_FLOAT_DIGITS + 1},}}$")

Progress = tuple[Reporter, Callable[[], None]] | None


def convert_columns(frame: pd.DataFrame, decimal: str, progress: Progress = None) -> pd.DataFrame:
    """Strip the text cells and turn the columns of numbers into numbers (see the module).

    ``frame``: every cell as text (missing where empty), as the parser gives it; ``decimal``: the
    file's decimal mark, which decides a number such as ``1,234`` that could be read both ways.
    """
    columns: dict[str, pd.Series] = {}
    markers_seen: dict[str, dict[str, int]] = {}
    for i, column in enumerate(frame.columns):
        if progress is not None:
            progress[0]("Reading file", i / len(frame.columns))
            progress[1]()
        columns[column], markers = _convert(frame[column], decimal)
        if markers:
            markers_seen[column] = markers
    out = pd.DataFrame(columns, index=frame.index)
    out.attrs[MARKERS_ATTR] = markers_seen
    return out


def _convert(raw: pd.Series, decimal: str) -> tuple[pd.Series, dict[str, int]]:
    """One column as numbers (with the markers seen in it) or as its stripped text."""
    filled = raw.notna()
    if not filled.any():
        return pd.Series(float("nan"), index=raw.index), {}
    if _surely_text(raw[filled]):  # ids, names, classes: no need to try every cell as a number
        text = raw.str.strip()
        return text.mask(text == ""), {}
    # most columns are plain numbers: try them as they are, before the slower text clean-up
    numbers = pd.to_numeric(_decimal_point(raw, decimal), errors="coerce")
    if numbers[filled].notna().all():
        if _loses_something(raw, numbers):
            return raw.str.strip(), {}
        return numbers, {}
    text = raw.str.strip()
    text = text.mask(text == "")
    marked = text.isin(MISSING_MARKERS)
    values = text[text.notna() & ~marked]
    if values.empty:
        return text, {}  # nothing but markers: text (a class may be called "NA")
    written = _plain_numbers(values, decimal)
    if written is None:
        return text, {}
    plain = text.mask(marked)
    plain.loc[written.index] = written
    numbers = pd.to_numeric(plain, errors="coerce")
    if _loses_something(written, numbers[written.index]):
        return text, {}
    counts = text[marked].value_counts()
    return numbers, {str(k): int(v) for k, v in counts.items()}


#: An ASCII letter that no number of any format read here holds (only "e" of an exponent and
#: the letters of "inf", "infinity" and "nan" may appear): a cell with one is text.
_NOT_A_NUMBER = re.compile("[b-dg-hj-mo-su-xzB-DG-HJ-MO-SU-XZ]")
#: Filled cells looked at by :func:`_surely_text`.
TEXT_PROBE = 32


def _surely_text(filled: pd.Series) -> bool:
    """True when one of the first filled cells (not a missing-value marker) holds a character
    that no number holds: the column cannot be numbers in any format, and trying every cell as
    one (twice, failing each time) is the slowest part of reading a big file of text columns."""
    for cell in filled.iloc[:TEXT_PROBE]:
        text = str(cell).strip()
        if text and text not in MISSING_MARKERS and _NOT_A_NUMBER.search(text):
            return True
    return False


def _decimal_point(text: pd.Series, decimal: str) -> pd.Series:
    return text.str.replace(",", ".", regex=False) if decimal == "," else text


def _loses_something(written: pd.Series, numbers: pd.Series) -> bool:
    """True when turning the cells ``written`` into ``numbers`` drops what the user wrote: a
    leading zero (``007``, ``-01``, ``00.5``), or digits of a whole number too long for a float.

    Both checks run on the whole column in C: the first three characters of every cell are
    compared as strings; only numbers of 16 digits or more are looked at one by one.
    """
    start = np.asarray(written.to_numpy(dtype=object, na_value=""), dtype="U3")
    for sign in ("", "-", "+"):
        if ((start >= sign + "00") & (start < sign + "0:")).any():  # ":" follows "9"
            return True
    if numbers.dtype.kind != "f":
        return False  # whole numbers read as integers keep every digit
    big = np.abs(numbers.to_numpy(dtype="float64", na_value=np.nan)) >= 10.0**MAX_FLOAT_DIGITS
    return bool(big.any() and written[big].str.strip().str.match(_LONG_WHOLE).any())


def _plain_numbers(values: pd.Series, decimal: str) -> pd.Series | None:
    """The number cells written plainly (``1234.5``), or None when they are not all numbers.

    The file's own decimal mark is tried first without, then with thousands separators; the
    other decimal mark only with thousands separators and when some cell shows it
    (``1.234.567,89`` in a file whose other columns use points: ``1.234.567`` alone stays text
    there). A format is taken only when every cell of the column agrees with it.
    """
    plain = _decimal_point(values, decimal)
    parsed = pd.to_numeric(plain, errors="coerce").notna()
    if parsed.all():
        return plain
    example = str(values[~parsed].iloc[0])  # formats this cell rules out are not tried
    if len(example) > MAX_GROUPED_CHARS:
        return None
    other = "," if decimal == "." else "."
    for point in (decimal, other):
        for group in ("." if point == "," else ",", *GROUP_SPACES):
            pattern = _grouped_pattern(point, group)
            if pattern.match(example):
                written = _grouped(values, pattern, point, group, shown=point != decimal)
                if written is not None:
                    return written
    return None


def _grouped_pattern(point: str, group: str) -> re.Pattern[str]:
    """A number with ``group`` between thousands (or none) and ``point`` as decimal mark."""
    p, g = re.escape(point), re.escape(group)
    return re.compile(rf"^[+-]?(?:\d{{1,3}}(?:{g}\d{{3}})+|\d+)(?:{p}\d+)?$")


def _grouped(
    values: pd.Series, pattern: re.Pattern[str], point: str, group: str, shown: bool
) -> pd.Series | None:
    """Cells written with ``group`` between thousands and ``point`` as decimal mark, made plain;
    None unless every cell is written so, one uses the separator and (``shown``) one the mark."""
    if (values.str.len() > MAX_GROUPED_CHARS).any() or not values.str.match(pattern).all():
        return None
    if not values.str.contains(group, regex=False).any():
        return None
    if shown and not values.str.contains(point, regex=False).any():
        return None
    written = values.str.replace(group, "", regex=False)
    return written.str.replace(",", ".", regex=False) if point == "," else written


def convert_columns_v1(
    frame: pd.DataFrame, decimal: str, progress: Progress = None
) -> pd.DataFrame:
    """The first versions' rule: a column whose filled cells are all numbers becomes numbers
    (``007`` becomes 7); missing-value markers are missing in every column."""
    columns: dict[str, pd.Series] = {}
    for i, column in enumerate(frame.columns):
        if progress is not None:
            progress[0]("Reading file", i / len(frame.columns))
            progress[1]()
        raw = frame[column].mask(frame[column].isin(MISSING_MARKERS))
        if raw.isna().all():
            columns[column] = pd.Series(float("nan"), index=frame.index)
            continue
        # most columns are all numbers: try them as they are, before the slower text clean-up
        candidate = raw.str.replace(",", ".", regex=False) if decimal == "," else raw
        numbers = pd.to_numeric(candidate, errors="coerce")
        if numbers[raw.notna()].notna().all():
            columns[column] = numbers
            continue
        text = raw.str.strip()
        text = text.mask(text.isin(MISSING_MARKERS | {""}))
        filled = text.notna()
        if not filled.any():
            columns[column] = pd.Series(float("nan"), index=frame.index)
        elif filled.sum() == raw.notna().sum():
            columns[column] = text  # nothing but spaces or markers differed: still text
        else:
            numbers = pd.to_numeric(
                text.str.replace(",", ".", regex=False) if decimal == "," else text,
                errors="coerce",
            )
            columns[column] = numbers if numbers[filled].notna().all() else text
    return pd.DataFrame(columns, index=frame.index)
