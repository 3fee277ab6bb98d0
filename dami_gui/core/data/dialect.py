"""How a CSV file is written: its separator, header, decimal mark, found from its first lines.

Real files come from Excel, R, instruments and colleagues: the separator may be ``;``, a tab or
``|``, numbers may use decimal commas, Excel may name the separator on a first ``sep=`` line.
These functions look at the complete lines of the file's start (a sample) and never at the rest.
"""

from __future__ import annotations

import csv
import io
import re

from dami_gui.core.errors import DataError

__all__ = [
    "SEPARATORS",
    "complete_lines",
    "detect_decimal",
    "detect_separator",
    "first_row_width",
    "header_names",
]

SEPARATORS = (",", ";", "\t", "|")

#: 12,5 or 1.234.567,89: a decimal comma (with points between thousands).
_DECIMAL_COMMA = re.compile(r"^[+-]?(?:\d+|\d{1,3}(?:\.\d{3})+),\d+$")
_DECIMAL_POINT = re.compile(r"^[+-]?\d*\.\d+$")


def first_row_width(lines: list[str], sep: str) -> int:
    """Number of fields in the first data record of the sample (0 when there is none)."""
    try:
        records = csv.reader(io.StringIO("\n".join(lines[:50])), delimiter=sep)
        next(records)
        return len(next(records))
    except (StopIteration, csv.Error):
        return 0


def complete_lines(sample: str, complete: bool) -> list[str]:
    """Non-blank lines of the sample, without a last line that the sample may have cut."""
    lines = re.split(r"\r\n|\r|\n", sample)
    if not complete and len(lines) > 1:
        lines = lines[:-1]
    return [line for line in lines if line.strip()]


def _field_counts(lines: list[str], sep: str) -> list[int]:
    """Number of fields in each record of ``lines`` when split on ``sep`` (quotes respected)."""
    try:
        return [len(row) for row in csv.reader(io.StringIO("\n".join(lines)), delimiter=sep)]
    except csv.Error:
        return []


def detect_separator(lines: list[str]) -> str:
    """The separator that splits the header and most rows into the same number of fields.

    csv.Sniffer's guess is taken when it fits that test as well as any other; otherwise the
    separators are compared by how consistently they split the lines. A single column gives ",".
    """
    scores: dict[str, tuple[float, int]] = {}
    for sep in SEPARATORS:
        counts = _field_counts(lines[:200], sep)
        if not counts or counts[0] < 2:
            continue
        same = sum(count == counts[0] for count in counts) / len(counts)
        scores[sep] = (same, counts[0])
    if not scores:
        return ","
    best = max(scores.values())
    try:
        text = "\n".join(lines[:50])[:16384]
        sniffed = csv.Sniffer().sniff(text, delimiters="".join(SEPARATORS))
        if scores.get(sniffed.delimiter) == best:
            return sniffed.delimiter
    except csv.Error:
        pass
    return next(sep for sep in SEPARATORS if scores.get(sep) == best)


def header_names(lines: list[str], sep: str, name: str) -> list[str]:
    """Column names from the first line, stripped; duplicates are refused by name."""
    try:
        first = next(csv.reader(io.StringIO("\n".join(lines)), delimiter=sep))
    except (StopIteration, csv.Error):
        raise DataError(f"{name}: the first line is not a header row; check the file.") from None
    header = [cell.strip().lstrip("\ufeff").strip() for cell in first]
    header = [cell or f"Unnamed: {i}" for i, cell in enumerate(header)]
    seen: set[str] = set()
    duplicates = []
    for cell in header:
        if cell in seen:
            duplicates.append(cell)
        seen.add(cell)
    if duplicates:
        listed = ", ".join(f"'{cell}'" for cell in dict.fromkeys(duplicates))
        raise DataError(
            f"{name}: more than one column is named {listed}; give each column its own name."
        )
    return header


def detect_decimal(rows: list[str], sep: str) -> str:
    """ "," when the separator leaves room for decimal commas and the cells use them, else ".".

    A cell such as ``1.234,5`` counts for the comma: its points can only group thousands.
    """
    if sep not in (";", "\t"):
        return "."
    commas = points = 0
    for row in csv.reader(io.StringIO("\n".join(rows[:200])), delimiter=sep):
        for cell in row:
            cell = cell.strip()
            commas += bool(_DECIMAL_COMMA.match(cell))
            points += bool(_DECIMAL_POINT.match(cell))
    return "," if commas > points else "."
