"""Read a CSV file the way a scientist saved it, and say plainly what is wrong when it cannot be.

Real files come from Excel, R, instruments and colleagues: the separator may be ``;`` or a tab,
numbers may use decimal commas, the encoding may be Windows' cp1252, and sometimes the "CSV" is
really an Excel workbook. :func:`read_csv` copes with all of these and turns every failure into a
:class:`~dami_gui.core.errors.DataError` with one sentence the user can act on.

Every cell is first read as text and then each column is turned into numbers when all of its
filled cells are numbers (the same rule pandas applies), so a big file read in chunks gives exactly
the same table as a small one read at once.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from dami_gui.core.errors import DataError
from dami_gui.core.progress import CancelToken, ProgressCallback, Reporter, as_reporter

#: Files larger than this are read in chunks of about this many bytes, with progress and cancel.
CHUNK_BYTES = 4 * 1024 * 1024
#: How much of the file start is used to guess the encoding, separator and decimal mark.
SAMPLE_BYTES = 64 * 1024
SEPARATORS = (",", ";", "\t", "|")
#: Share of the progress bar for reading the chunks; the rest is for turning text into numbers.
READ_SHARE = 0.7
#: Cell texts that mean "no value", on top of the empty cell: pandas' usual markers plus "?",
#: which many public data sets (the UCI repository among them) use for a missing value.
MISSING_MARKERS = (
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null", "?",
)  # fmt: skip

_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")
_DECIMAL_POINT = re.compile(r"^[+-]?\d*\.\d+$")
_PARSER_LINE = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


def read_csv(
    path: str | Path,
    progress: ProgressCallback | Reporter | None = None,
    cancel: CancelToken | None = None,
    chunk_bytes: int | None = None,
) -> pd.DataFrame:
    """Read a delimited text file into a table with every column and the original values.

    The separator (``,`` ``;`` tab ``|``), decimal commas and the encoding are detected; header
    names are stripped of surrounding spaces, text cells too, and empty cells become missing.
    Files bigger than ``chunk_bytes`` (default: :data:`CHUNK_BYTES`) are read in chunks:
    ``progress("Reading file", fraction)`` is called after each and ``cancel.check()`` between
    them, so a huge file can be cancelled.

    Raises :class:`DataError` for a missing, empty, header-only, binary or non-CSV file, duplicate
    column names, or rows that do not fit the header.
    """
    path = Path(path)
    reporter = as_reporter(progress, cancel)

    def check() -> None:
        reporter.check()
        if cancel is not None:
            cancel.check()

    raw, size = _read_start(path)
    name = path.name
    _reject_non_csv(raw, name)
    if not raw.strip(b" \t\r\n\x00\xef\xbb\xbf"):
        raise DataError(
            f"{name}: the file is empty; choose a file with a header row and data rows."
        )

    for encoding in _candidate_encodings(raw):
        try:
            text = _decode_sample(raw, encoding, complete=size <= len(raw))
        except UnicodeDecodeError:
            continue
        try:
            chunk = chunk_bytes or CHUNK_BYTES
            return _parse(path, text, encoding, size, chunk, reporter, check)
        except UnicodeDecodeError:
            continue  # a byte further on is not valid in this encoding: try the next one
    # latin-1 decodes every byte, so this is only reached for a broken UTF-16 file
    raise DataError(
        f"{name}: the text encoding of the file is not recognised; save it as UTF-8 CSV."
    )


def _read_start(path: Path) -> tuple[bytes, int]:
    """The first :data:`SAMPLE_BYTES` of the file and its size, with plain errors."""
    if not path.exists():
        raise DataError(f"The file {path} does not exist; check its name and folder.")
    if path.is_dir():
        raise DataError(f"{path} is a folder, not a file; choose a CSV file inside it.")
    try:
        with path.open("rb") as handle:
            raw = handle.read(SAMPLE_BYTES)
        return raw, path.stat().st_size
    except OSError as error:
        reason = error.strerror or str(error)
        raise DataError(
            f"{path.name}: the file cannot be opened ({reason}); check access to it."
        ) from None


def _reject_non_csv(raw: bytes, name: str) -> None:
    """Raise a DataError naming what the file looks like when it is clearly not a CSV file."""
    what = None
    if raw.startswith(b"PK\x03\x04"):
        what = "an Excel workbook (.xlsx) or another zip archive"
    elif raw.startswith(b"\xd0\xcf\x11\xe0"):
        what = "an old Excel workbook (.xls)"
    elif raw.startswith(b"%PDF"):
        what = "a PDF document"
    elif raw.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8")):
        what = "an image"
    elif raw.startswith((b"\x1f\x8b", b"BZh", b"\xfd7zXZ")):
        what = "a compressed archive"
    elif not raw.startswith((b"\xff\xfe", b"\xfe\xff")) and b"\x00" in raw[:8192]:
        what = "a binary file, not text"
    if what is None:
        head = raw.lstrip(b"\xef\xbb\xbf \t\r\n")[:64]
        if head.startswith(b"{") or re.match(rb"\[\s*([\[{\"\]\d-]|true|false|null)", head):
            what = "JSON"
        elif head[:15].lower().startswith((b"<!doctype html", b"<html")):
            what = "a web page (HTML)"
        elif head.startswith(b"<?xml"):
            what = "an XML document"
    if what is not None:
        raise DataError(
            f"{name} looks like {what}, not a CSV file; open it in its program and save it as CSV."
        )


def _candidate_encodings(raw: bytes) -> list[str]:
    """Encodings to try, in order: UTF-16 when it has a byte order mark, else UTF-8 then Windows."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return ["utf-16"]
    # utf-8-sig reads plain UTF-8 too and drops Excel's byte order mark; latin-1 never fails
    return ["utf-8-sig", "cp1252", "latin-1"]


def _decode_sample(raw: bytes, encoding: str, complete: bool) -> str:
    """Decode the file start; a character cut at the sample's end is not an error."""
    return codecs.getincrementaldecoder(encoding)().decode(raw, final=complete)


def _parse(
    path: Path,
    sample: str,
    encoding: str,
    size: int,
    chunk_bytes: int,
    reporter: Reporter,
    check: Callable[[], None],
) -> pd.DataFrame:
    """Parse the file with the dialect guessed from ``sample``; may raise UnicodeDecodeError."""
    name = path.name
    lines = _complete_lines(sample, complete=size <= SAMPLE_BYTES)
    excel_hint = re.fullmatch(r"sep=(.)", lines[0].strip()) if lines else None
    if excel_hint:  # Excel may write "sep=;" as the first line to name the separator
        lines = lines[1:]
        sep = excel_hint.group(1)
    else:
        sep = _detect_separator(lines)
    if not lines:
        raise DataError(
            f"{name}: the file is empty; choose a file with a header row and data rows."
        )
    header = _header(lines, sep, name)
    # pandas silently drops the cells beyond the header when the first data row has more of them
    # (it takes them for an index); read them into extra columns and refuse them unless empty
    extra = [f"{_EXTRA}{i}" for i in range(max(_first_row_width(lines, sep) - len(header), 0))]
    decimal = _detect_decimal(lines[1:], sep)
    rows_per_chunk = None
    if size > chunk_bytes:
        avg_line = max(len(sample.encode(encoding, "replace")) / max(len(lines), 1), 1.0)
        rows_per_chunk = max(int(chunk_bytes / avg_line), 1)

    options = dict(
        sep=sep,
        header=0,
        skiprows=1 if excel_hint else None,
        names=header + extra,
        index_col=False,
        dtype=str,
        na_values=list(MISSING_MARKERS),
        keep_default_na=False,
        skip_blank_lines=True,
        skipinitialspace=True,
        encoding=encoding,
        encoding_errors="strict",
        engine="c",
    )
    check()
    chunks: list[pd.DataFrame] = []
    try:
        with path.open("rb") as handle:
            if rows_per_chunk is None:
                chunks.append(pd.read_csv(handle, **options))
            else:
                with pd.read_csv(handle, chunksize=rows_per_chunk, **options) as reader:
                    for chunk in reader:
                        chunks.append(chunk)
                        reporter("Reading file", READ_SHARE * min(handle.tell() / size, 1.0))
                        check()
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as error:
        if isinstance(error, UnicodeDecodeError):
            raise
        raise _parser_error(error, name) from None
    except OSError as error:
        reason = error.strerror or str(error)
        raise DataError(f"{name}: the file could not be read to the end ({reason}).") from None
    except MemoryError:
        raise DataError(
            f"{name}: the file is too big for this computer's memory; use fewer rows or columns."
        ) from None

    frame = pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]
    if len(frame) == 0:
        raise DataError(
            f"{name}: the file has a header but no rows; add data rows below the header."
        )
    if extra:
        frame = _drop_empty_extra(frame, extra, len(header), name)
    if rows_per_chunk is None:
        frame = _convert_columns(frame, decimal)
    else:
        frame = _convert_columns(frame, decimal, reporter.sub(READ_SHARE, 1.0), check)
    reporter("Reading file", 1.0)
    return frame


_EXTRA = "\x00extra "


def _first_row_width(lines: list[str], sep: str) -> int:
    """Number of fields in the first data record of the sample (0 when there is none)."""
    try:
        records = csv.reader(io.StringIO("\n".join(lines[:50])), delimiter=sep)
        next(records)
        return len(next(records))
    except (StopIteration, csv.Error):
        return 0


def _drop_empty_extra(frame: pd.DataFrame, extra: list[str], width: int, name: str) -> pd.DataFrame:
    """Drop cells past the header's last column when they are all empty (a trailing separator);
    refuse the file, naming the first row concerned, when any holds a value."""
    filled = frame[extra].fillna("").apply(lambda column: column.str.strip() != "").any(axis=1)
    if filled.any():
        row = int(filled.to_numpy().argmax()) + 1
        raise DataError(
            f"{name}: data row {row} has more values than the {width} columns of the header; "
            "fix that row, name the extra column in the header, or check the separator."
        )
    return frame.drop(columns=extra)


def _complete_lines(sample: str, complete: bool) -> list[str]:
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


def _detect_separator(lines: list[str]) -> str:
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


def _header(lines: list[str], sep: str, name: str) -> list[str]:
    """Column names from the first line, stripped; duplicates are refused by name."""
    try:
        first = next(csv.reader(io.StringIO("\n".join(lines)), delimiter=sep))
    except (StopIteration, csv.Error):
        raise DataError(f"{name}: the first line is not a header row; check the file.") from None
    header = [cell.strip().lstrip("\ufeff").strip() for cell in first]
    header = [cell or f"Unnamed: {i}" for i, cell in enumerate(header)]
    seen: set[str] = set()
    duplicates = [cell for cell in header if cell in seen or seen.add(cell)]
    if duplicates:
        listed = ", ".join(f"'{cell}'" for cell in dict.fromkeys(duplicates))
        raise DataError(
            f"{name}: more than one column is named {listed}; give each column its own name."
        )
    return header


def _detect_decimal(rows: list[str], sep: str) -> str:
    """ "," when the separator leaves room for decimal commas and the cells use them, else "."."""
    if sep not in (";", "\t"):
        return "."
    commas = points = 0
    for row in csv.reader(io.StringIO("\n".join(rows[:200])), delimiter=sep):
        for cell in row:
            cell = cell.strip()
            commas += bool(_DECIMAL_COMMA.match(cell))
            points += bool(_DECIMAL_POINT.match(cell))
    return "," if commas > points else "."


def _parser_error(error: Exception, name: str) -> DataError:
    """Turn a pandas parser message into a sentence that points at the line to fix."""
    message = str(error)
    match = _PARSER_LINE.search(message)
    if match:
        expected, line, saw = match.groups()
        return DataError(
            f"{name}: line {line} has {saw} values but the header has {expected} columns; "
            "fix that line or check the separator."
        )
    if "EOF inside string" in message or "EOF" in message:
        return DataError(
            f'{name}: a quoted value is never closed (a " is missing); fix the quotes in the file.'
        )
    if isinstance(error, pd.errors.EmptyDataError):
        return DataError(
            f"{name}: the file is empty; choose a file with a header row and data rows."
        )
    return DataError(
        f"{name}: the file cannot be read as CSV ({message.strip()}); check its format."
    )


def _convert_columns(
    frame: pd.DataFrame,
    decimal: str,
    reporter: Reporter | None = None,
    check: Callable[[], None] | None = None,
) -> pd.DataFrame:
    """Strip text cells, treat blank ones as missing, and turn all-number columns into numbers.

    A column becomes numeric only when every filled cell is a number, as pandas would do; with
    decimal commas the comma is read as the decimal mark. Other columns keep their text.
    """
    columns = {}
    for i, column in enumerate(frame.columns):
        if reporter is not None and check is not None:
            reporter("Reading file", i / len(frame.columns))
            check()
        raw = frame[column]
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
        text = text.mask(text.isin(MISSING_MARKERS))
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
