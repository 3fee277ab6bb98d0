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

import pandas as pd

from dami_gui.core.data import pieces
from dami_gui.core.data.dialect import (
    complete_lines,
    detect_decimal,
    detect_separator,
    first_row_width,
    header_names,
)
from dami_gui.core.data.number_columns import convert_columns, convert_columns_v1
from dami_gui.core.errors import DataError, ParameterError
from dami_gui.core.progress import CancelToken, ProgressCallback, Reporter, as_reporter

__all__ = ["CHUNK_BYTES", "READER_RULES", "read_csv"]

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

    raw, stamp = _read_start(path)
    name = path.name
    _reject_non_csv(raw, name)
    if not raw.strip(b" \t\r\n\x00\xef\xbb\xbf"):
        raise DataError(
            f"{name}: the file is empty; choose a file with a header row and data rows."
        )

    size = stamp[0]
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


def _read_start(path: Path) -> tuple[bytes, tuple[int, int]]:
    """The file's first lines (at least :data:`SAMPLE_BYTES`, or all of it) and its (size,
    modification time), with plain errors."""
    if not path.exists():
        raise DataError(f"The file {path} does not exist; check its name and folder.")
    if path.is_dir():
        raise DataError(f"{path} is a folder, not a file; choose a CSV file inside it.")
    try:
        stat = path.stat()
        with path.open("rb") as handle:
            raw = handle.read(SAMPLE_BYTES)
            # a header wider than the sample: read on until two lines are complete
            while raw.count(b"\n") + raw.count(b"\r") < 2 and len(raw) < pieces.MAX_LINE_BYTES:
                more = handle.read(len(raw))
                if not more:
                    break
                raw += more
        return raw, (stat.st_size, stat.st_mtime_ns)
    except OSError as error:
        reason = error.strerror or str(error)
        raise DataError(
            f"{path.name}: the file cannot be opened ({reason}); check access to it."
        ) from None


def _parse(
    path: Path,
    sample: str,
    complete: bool,
    encoding: str,
    stamp: tuple[int, int],
    chunk_bytes: int,
    rules: int,
    reporter: Reporter,
    check: Callable[[], None],
) -> pd.DataFrame:
    """Parse the file with the dialect guessed from ``sample``; may raise UnicodeDecodeError."""
    name, size = path.name, stamp[0]
    lines = complete_lines(sample, complete)
    excel_hint = re.fullmatch(r"sep=(.)", lines[0].strip()) if lines else None
    if excel_hint:  # Excel may write "sep=;" as the first line to name the separator
        lines = lines[1:]
        sep = excel_hint.group(1)
    else:
        sep = detect_separator(lines)
    if not lines:
        raise DataError(
            f"{name}: the file is empty; choose a file with a header row and data rows."
        )
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
    chunks: list[pd.DataFrame] = []
    breaks: list[int] = []  # line breaks in the piece of each chunk

    def parse(piece: bytes, last: bool) -> bool:
        first = not chunks
        try:
            chunk = pd.read_csv(
                io.BytesIO(piece),
                header=0 if first else None,
                skiprows=1 if first and excel_hint else None,
                **options,
            )
        except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as error:
            if isinstance(error, UnicodeDecodeError):
                raise
            header_cut = first and isinstance(error, pd.errors.EmptyDataError)
            if not last and (header_cut or "EOF inside string" in str(error)):
                return False  # a quoted value (or the header) goes on in the next piece
            raise _parser_error(error, name, _lines_before(chunks, breaks)) from None
        chunks.append(chunk)
        breaks.append(piece.count(b"\n"))
        return True

    def progress(done: int) -> None:
        if size > chunk_bytes:
            reporter("Reading file", READ_SHARE * min(done / max(size, 1), 1.0))
            check()

    check()
    try:
        read = pieces.read_pieces(path, encoding, chunk_bytes, parse, progress)
        now = path.stat()
    except OSError as error:
        reason = error.strerror or str(error)
        raise DataError(f"{name}: the file could not be read to the end ({reason}).") from None
    except MemoryError:
        raise DataError(
            f"{name}: the file is too big for this computer's memory; use fewer rows or columns."
        ) from None
    if (now.st_size, now.st_mtime_ns) != stamp or read != size:
        raise DataError(
            f"{name} changed while it was being read ({_change(stamp, now.st_size, read)}); "
            "wait until the program writing it has finished, then open it again."
        )

    if not chunks:
        raise DataError(
            f"{name}: the file is empty; choose a file with a header row and data rows."
        )
    frame = pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]
    if len(frame) == 0:
        raise DataError(
            f"{name}: the file has a header but no rows; add data rows below the header."
        )
    if extra:
        frame = _drop_empty_extra(frame, extra, len(header), name)
    convert = convert_columns if rules == 2 else convert_columns_v1
    sub = None if size <= chunk_bytes else (reporter.sub(READ_SHARE, 1.0), check)
    frame = convert(frame, decimal, sub)
    reporter("Reading file", 1.0)
    return frame


def _lines_before(chunks: list[pd.DataFrame], breaks: list[int]) -> int:
    """Lines before the next piece, counted as the parser counts them (a line break inside a
    quoted value does not count), so that a message names the same line for any piece size."""
    quoted = sum(int(c[column].str.count("\n").sum()) for c in chunks for column in c.columns)
    return sum(breaks) - quoted


def _change(stamp: tuple[int, int], size_now: int, read: int) -> str:
    """What differs between the file found before reading and after, in a few words."""
    size = stamp[0]
    if size_now != size:
        return f"it had {size:,} bytes and now has {size_now:,}"
    if read != size:
        return f"it has {size:,} bytes but {read:,} could be read"
    return "it was saved again meanwhile"


_EXTRA = "\x00extra "


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
        return DataError(
            f"{name}: the file is empty; choose a file with a header row and data rows."
        )
    return DataError(
        f"{name}: the file cannot be read as CSV ({message.strip()}); check its format."
    )
