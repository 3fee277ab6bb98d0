"""Read a CSV file as a scientist saved it, keep what they wrote, and say plainly what is wrong.

Real files come from Excel, R, instruments and colleagues: the separator may be ``;`` or a tab,
numbers may use decimal commas or thousands separators, the encoding may be Windows' cp1252, and
sometimes the "CSV" is really an Excel workbook. :func:`read_csv` copes with all of these and
turns every failure into a :class:`~dami_gui.core.errors.DataError` with one sentence the user
can act on.

Every cell is read as text, the file in pieces of bounded size (:mod:`.pieces`), so a big file
read in pieces gives exactly the same table as a small one read at once; then each column is
turned into numbers only when that loses nothing the user wrote (:mod:`.number_columns`): ids
``007`` and labels ``01`` keep their leading zeros, a class called "NA" stays a class. A file
that changes while it is read (still being written, or rewritten in place) is refused.
"""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dami_gui.core.data import pieces
from dami_gui.core.data.dialect import (
    complete_lines,
    detect_decimal,
    detect_separator,
    first_row_width,
    header_names,
)
from dami_gui.core.data.number_columns import (
    MARKERS_ATTR,
    MAX_FLOAT_DIGITS,
    Progress,
    convert_columns,
    convert_columns_v1,
)
from dami_gui.core.errors import DataError, ParameterError
from dami_gui.core.progress import CancelToken, ProgressCallback, Reporter, as_reporter
from dami_gui.core.untrusted import Stamp

__all__ = [
    "CHUNK_BYTES",
    "READER_RULES",
    "SAMPLE_BYTES",
    "empty_file",
    "no_rows",
    "read_csv",
    "reject_non_csv",
]

#: Files larger than this are read in pieces of about this many bytes, with progress and cancel.
CHUNK_BYTES = 4 * 1024 * 1024
#: How much of the file start is used to guess the encoding, separator and decimal mark (more
#: when its first lines are longer, up to :data:`~.pieces.MAX_LINE_BYTES`).
SAMPLE_BYTES = 64 * 1024
#: Share of the progress bar for reading the pieces; the rest is for turning text into numbers.
READ_SHARE = 0.7
#: Which rule turns text columns into numbers: 2 keeps what the user wrote (see
#: :mod:`.number_columns`); 1 is the first versions' rule, kept so that projects made with them
#: read their file exactly as they did.
READER_RULES = 2

_PARSER_LINE = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


def read_csv(
    path: str | Path,
    progress: ProgressCallback | Reporter | None = None,
    cancel: CancelToken | None = None,
    chunk_bytes: int | None = None,
    rules: int = READER_RULES,
) -> pd.DataFrame:
    """Read a delimited text file into a table with every column and the values as written.

    The separator (``,`` ``;`` tab ``|``), decimal commas, thousands separators and the encoding
    are detected; header names are stripped of surrounding spaces, text cells too, and empty
    cells become missing. Files bigger than ``chunk_bytes`` (default: :data:`CHUNK_BYTES`) are
    read in pieces: ``progress("Reading file", fraction)`` is called after each and
    ``cancel.check()`` between them, so a huge file can be cancelled. ``rules``: see
    :data:`READER_RULES`.

    Raises :class:`DataError` for a missing, empty, header-only, binary or non-CSV file, duplicate
    column names, rows that do not fit the header, an over-long line, or a file that changed
    while it was read.
    """
    if rules not in (1, 2):
        raise ParameterError("rules", "1 or 2", rules)
    path = Path(path)
    reporter = as_reporter(progress, cancel)

    def check() -> None:
        reporter.check()
        if cancel is not None:
            cancel.check()

    raw, stamp = pieces.read_start(path, SAMPLE_BYTES)
    name = path.name
    reject_non_csv(raw, name)
    if not raw.strip(b" \t\r\n\x00\xef\xbb\xbf"):
        raise empty_file(name)

    size = stamp.size
    for encoding in _candidate_encodings(raw):
        try:
            text = _decode_sample(raw, encoding, complete=size <= len(raw))
        except UnicodeDecodeError:
            continue
        try:
            chunk = chunk_bytes or CHUNK_BYTES
            complete = size <= len(raw)
            return _parse(path, text, complete, encoding, stamp, chunk, rules, reporter, check)
        except UnicodeDecodeError:
            continue  # a byte further on is not valid in this encoding: try the next one
    # latin-1 decodes every byte, so this is only reached for a broken UTF-16 file
    raise DataError(
        f"{name}: the text encoding of the file is not recognised; save it as UTF-8 CSV."
    )


def _parse(
    path: Path,
    sample: str,
    complete: bool,
    encoding: str,
    stamp: Stamp,
    chunk_bytes: int,
    rules: int,
    reporter: Reporter,
    check: Callable[[], None],
) -> pd.DataFrame:
    """Parse the file with the dialect guessed from ``sample``; may raise UnicodeDecodeError.

    Two ways, the same table. First the parser's own number reading (:class:`_NumberPieces`),
    several times faster on big files of numbers; whenever a piece holds something that way
    could lose (a leading zero, a long whole number, yes/no values) or a column is numbers in
    one piece and text in another, the file is read again with every cell as text, the rules'
    reference way.
    """
    name = path.name
    lines = complete_lines(sample, complete)
    excel_hint = re.fullmatch(r"sep=(.)", lines[0].strip()) if lines else None
    if excel_hint:  # Excel may write "sep=;" as the first line to name the separator
        lines = lines[1:]
        sep = excel_hint.group(1)
    else:
        sep = detect_separator(lines)
    if not lines:
        raise empty_file(name)
    header = header_names(lines, sep, name)
    # pandas silently drops the cells beyond the header when the first data row has more of them
    # (it takes them for an index); read them into extra columns and refuse them unless empty
    extra = [f"{_EXTRA}{i}" for i in range(max(first_row_width(lines, sep) - len(header), 0))]
    decimal = detect_decimal(lines[1:], sep)
    options: dict[str, Any] = dict(
        sep=sep,
        names=header + extra,
        index_col=False,
        dtype=str,
        na_values=[""],
        keep_default_na=False,
        skip_blank_lines=True,
        skipinitialspace=True,
        # UTF-16 reaches the parser as UTF-8 (see pieces.read_pieces)
        encoding="utf-8" if encoding == "utf-16" else encoding,
        encoding_errors="strict",
        engine="c",
    )
    skip = 1 if excel_hint else None
    job = _Pass(path, encoding, stamp, chunk_bytes, reporter, check, skip)
    frame = None
    if rules == 2 and decimal == "." and not extra:
        numbers = {**options, "dtype": None, "low_memory": False}
        frame = job.run(numbers, _NumberPieces(sep, bool(excel_hint)))
    if frame is None:
        frame = job.run(options, None)
        assert frame is not None  # only the number reading gives up
        if extra:
            frame = _drop_empty_extra(frame, extra, len(header), name)
        convert = convert_columns if rules == 2 else convert_columns_v1
        sub = None if stamp.size <= chunk_bytes else (reporter.sub(READ_SHARE, 1.0), check)
        frame = convert(frame, decimal, sub)
    reporter("Reading file", 1.0)
    return frame


class _GiveUp(Exception):
    """The parser's number reading may lose what a piece holds: read every cell as text."""


class _NumberPieces:
    """Checks of a piece parsed with the parser's number reading, and the table they make.

    A column the parser read as int64 or float64 in every piece (or empty there) is the numbers
    :func:`convert_columns` would make of its text: every filled cell is a plain number (both
    read it with the same ``precise_xstrtod``), none is written with a leading zero (no cell of
    the piece starts so: :func:`_leading_zero`, on the bytes) and none is a whole number longer
    than a float holds (none is that big). A column it read as text in every piece goes through
    :func:`convert_columns` as before. Anything else gives up (:class:`_GiveUp`).
    """

    def __init__(self, sep: str, skip_first: bool) -> None:
        self.sep = sep.encode()[0]
        self.header_lines = 2 if skip_first else 1

    def check(self, piece: bytes, chunk: pd.DataFrame, first: bool) -> None:
        begin = 0
        for _ in range(self.header_lines if first else 0):  # the header's names are not cells
            found = piece.find(b"\n", begin)
            begin = found + 1 if found >= 0 else 0  # no "\n" ("\r" only): look at them too
            if not begin:
                break
        if _leading_zero(piece, begin, self.sep):
            raise _GiveUp
        for column in chunk.columns:
            kind = _kind(chunk[column])
            if kind == "other":
                raise _GiveUp
            if kind == "numbers":
                values = chunk[column].to_numpy(dtype="float64", na_value=np.nan)
                with np.errstate(invalid="ignore"):
                    if (np.abs(values) >= 10.0**MAX_FLOAT_DIGITS).any():
                        raise _GiveUp

    def table(self, chunks: list[pd.DataFrame], progress: Progress) -> pd.DataFrame | None:
        """The pieces as one table, numbers as read and text columns converted; None to give up."""
        columns = list(chunks[0].columns)
        kinds = {c: {_kind(chunk[c]) for chunk in chunks} - {"empty"} for c in columns}
        if any(len(k) > 1 for k in kinds.values()):
            return None  # numbers in one piece, text in another: only the text can tell
        texts = [c for c in columns if kinds[c] == {"text"}]
        for c in texts:  # a piece where the column is empty holds no text: give it the type
            dtype = next(chunk[c].dtype for chunk in chunks if _kind(chunk[c]) == "text")
            for chunk in chunks:
                if chunk[c].dtype != dtype:
                    chunk[c] = chunk[c].astype(dtype)
        frame = pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]
        converted = convert_columns(frame[texts], ".", progress) if texts else pd.DataFrame()
        parts = {c: converted[c] if c in texts else frame[c] for c in columns}
        out = pd.DataFrame(parts, index=frame.index)
        out.attrs[MARKERS_ATTR] = converted.attrs.get(MARKERS_ATTR, {})
        return out


#: Bytes that may stand between a cell's start and its first digit: spaces, a quote, a sign.
_BEFORE_DIGITS = frozenset(b' \t"+-')


def _leading_zero(piece: bytes, begin: int, sep: int) -> bool:
    """Whether a cell of ``piece`` from ``begin`` on (a line start) may start with a zero and a
    digit (``007``, ``-01``, ``" 00.5"``): it may find more than there is, never less (more
    only costs a second reading). Vectorised: a regular expression takes 20 times as long."""
    data = np.frombuffer(piece, dtype=np.uint8)[begin:]
    digit = (data >= 48) & (data <= 57)
    zeros = np.flatnonzero((data[:-1] == 48) & digit[1:])
    if not zeros.size:
        return False
    if zeros[0] == 0:
        return True  # the first cell of the first line
    before = data[zeros - 1]
    if np.isin(before, (sep, 10, 13)).any():
        return True
    for at in zeros[np.isin(before, tuple(_BEFORE_DIGITS))]:  # few: look further back
        at -= 1
        while at > 0 and data[at - 1] in _BEFORE_DIGITS:
            at -= 1
        if at == 0 or data[at - 1] in (sep, 10, 13):
            return True
    return False


def _kind(column: pd.Series) -> str:
    """How the parser read a column of a piece: "numbers", "text", "empty" or "other"."""
    if column.dtype in (np.int64, np.float64):
        return "empty" if column.dtype == np.float64 and column.isna().all() else "numbers"
    if pd.api.types.is_string_dtype(column.dtype):
        return "text"
    return "other"


class _Pass:
    """One reading of the whole file in pieces, parsed with given options (see :func:`_parse`)."""

    def __init__(
        self,
        path: Path,
        encoding: str,
        stamp: Stamp,
        chunk_bytes: int,
        reporter: Reporter,
        check: Callable[[], None],
        skip: int | None,
    ) -> None:
        self.path, self.encoding, self.stamp, self.chunk_bytes = path, encoding, stamp, chunk_bytes
        self.reporter, self.check, self.skip = reporter, check, skip
        self.shown = 0.0  # the share of the progress bar shown so far

    def run(self, options: dict[str, Any], numbers: _NumberPieces | None) -> pd.DataFrame | None:
        """The table of pieces parsed with ``options``: with ``numbers``, converted (None to give
        up); without, every cell as text."""
        path, name, size = self.path, self.path.name, self.stamp.size
        chunks: list[pd.DataFrame] = []
        breaks: list[int] = []  # line breaks in the piece of each chunk

        def parse(piece: bytes, last: bool) -> bool:
            first = not chunks
            try:
                chunk = pd.read_csv(
                    io.BytesIO(piece),
                    header=0 if first else None,
                    skiprows=self.skip if first else None,
                    **options,
                )
            except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as error:
                if isinstance(error, UnicodeDecodeError):
                    raise
                header_cut = first and isinstance(error, pd.errors.EmptyDataError)
                if not last and (header_cut or "EOF inside string" in str(error)):
                    return False  # a quoted value (or the header) goes on in the next piece
                raise _parser_error(error, name, _lines_before(chunks, breaks)) from None
            if numbers is not None:
                numbers.check(piece, chunk, first)
            chunks.append(chunk)
            breaks.append(piece.count(b"\n"))
            return True

        def progress(done: int) -> None:
            if size > self.chunk_bytes:
                # a second pass (the number reading gave up) does not move the bar back
                self.shown = max(self.shown, READ_SHARE * min(done / max(size, 1), 1.0))
                self.reporter("Reading file", self.shown)
                self.check()

        self.check()
        try:
            read, opened = pieces.read_pieces(
                path, self.encoding, self.chunk_bytes, parse, progress
            )
            pieces.refuse_change(path, self.stamp, opened, read)
        except _GiveUp:
            return None
        except OSError as error:
            reason = error.strerror or str(error)
            raise DataError(f"{name}: the file could not be read to the end ({reason}).") from None
        except MemoryError:
            raise DataError(
                f"{name}: the file is too big for this computer's memory; use fewer rows or "
                "columns."
            ) from None
        if not chunks:
            raise empty_file(name)
        if sum(len(chunk) for chunk in chunks) == 0:
            raise no_rows(name)
        if numbers is None:
            return pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]
        sub = None if size <= self.chunk_bytes else (self.reporter.sub(READ_SHARE, 1.0), self.check)
        return numbers.table(chunks, sub)


def _lines_before(chunks: list[pd.DataFrame], breaks: list[int]) -> int:
    """Lines before the next piece, counted as the parser counts them (a line break inside a
    quoted value does not count), so that a message names the same line for any piece size."""
    quoted = sum(
        int(c[column].str.count("\n").sum())
        for c in chunks
        for column in c.columns
        if _kind(c[column]) == "text"
    )
    return sum(breaks) - quoted


_EXTRA = "\x00extra "


def empty_file(name: str) -> DataError:
    """The sentence for an empty table file (the Dask engine says the same)."""
    return DataError(f"{name}: the file is empty; choose a file with a header row and data rows.")


def no_rows(name: str) -> DataError:
    """The sentence for a table file with a header and no rows."""
    return DataError(f"{name}: the file has a header but no rows; add data rows below the header.")


def reject_non_csv(raw: bytes, name: str) -> None:
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


def _parser_error(error: Exception, name: str, lines_before: int = 0) -> DataError:
    """Turn a pandas parser message into a sentence that points at the line to fix.

    ``lines_before``: lines before the piece the parser was given (its lines count from 1).
    """
    message = str(error)
    match = _PARSER_LINE.search(message)
    if match:
        expected, line, saw = match.groups()
        line = str(int(line) + lines_before)
        return DataError(
            f"{name}: line {line} has {saw} values but the header has {expected} columns; "
            "fix that line or check the separator."
        )
    if "EOF inside string" in message or "EOF" in message:
        start = re.search(r"starting at row (\d+)", message)
        near = f" near line {int(start.group(1)) + 1 + lines_before}" if start else ""
        return DataError(
            f'{name}: a quoted value{near} is never closed (a " is missing); fix the quotes in '
            "the file."
        )
    if isinstance(error, pd.errors.EmptyDataError):
        return empty_file(name)
    return DataError(
        f"{name}: the file cannot be read as CSV ({message.strip()}); check its format."
    )
