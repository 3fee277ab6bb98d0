"""A file cut into pieces of whole lines, with bounded memory, refusing what is not table text.

The CSV parser is handed one piece at a time (about ``chunk_bytes`` each), never the whole file,
so memory stays bounded whatever the file holds: a piece ends at a line break, and a line may be
at most :data:`MAX_LINE_BYTES` long. Every block read is checked for NUL bytes, which no text
table holds (a binary file, or a sparse file whose end was never written), so a file that starts
as a valid CSV is still refused when binary data follows, wherever it lies.

A piece can end inside a quoted value that spans lines; the parser says so (``needs_more``) and
the piece is then extended by the next block and parsed again.

Only a regular file is read (:func:`~dami_gui.core.untrusted.open_regular`: a named pipe would
block the reader forever), and a file that changes while it is read is refused
(:func:`refuse_change`): its identity, size and times (:class:`~dami_gui.core.untrusted.Stamp`)
are taken before the first byte is read and compared after the last, and the bytes read must be
its size. A file rewritten in place (same size or not), cut short, replaced by another under the
same name, or rewritten with its modification time set back is refused, never half used.
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Callable
from pathlib import Path

from dami_gui.core.errors import DataError
from dami_gui.core.untrusted import Stamp, file_stamp, open_regular

__all__ = ["MAX_LINE_BYTES", "read_pieces", "read_start", "refuse_change"]

#: What the reader says a table file must be, in its sentences.
A_CSV_FILE = "a CSV file"

#: Longest line (or quoted value over several lines) a table may hold; past it the file is
#: refused. A row of 100 000 numbers fits; a file of binary data or one endless line does not.
MAX_LINE_BYTES = 16 * 1024 * 1024

#: ``parse(piece, last)``: parse the bytes ``piece`` (whole lines; ``last``: it ends the file)
#: and return False when it ends inside a quoted value that goes on in the next piece; with
#: ``last`` it must raise instead.
Parse = Callable[[bytes, bool], bool]


def read_pieces(
    path: Path,
    encoding: str,
    chunk_bytes: int,
    parse: Parse,
    progress: Callable[[int], None],
) -> tuple[int, Stamp]:
    """Hand ``parse`` the whole file in pieces of complete lines; return the bytes read and
    the :class:`Stamp` of the file that was opened (for :func:`refuse_change`).

    ``encoding``: the file's encoding; UTF-16 is turned into UTF-8 first, so that a line break
    is one byte in every piece (``parse`` then reads UTF-8). ``progress(bytes_read)`` is called
    after each piece. Raises :class:`DataError` for a NUL byte or an over-long line, and
    UnicodeDecodeError when the file is not UTF-16 after all.
    """
    name = path.name
    decoder = codecs.getincrementaldecoder(encoding)() if encoding == "utf-16" else None
    pending = b""  # bytes read but not parsed yet; they start at a record boundary
    lines = 0  # line breaks before ``pending``
    with open_regular(path, A_CSV_FILE) as handle:
        opened = file_stamp(os.fstat(handle.fileno()))
        while True:
            block = handle.read(chunk_bytes)
            last = not block
            if decoder is not None:
                block = decoder.decode(block, final=last).encode("utf-8")
            nul = block.find(b"\x00")
            if nul >= 0:
                line = lines + pending.count(b"\n") + block.count(b"\n", 0, nul) + 1
                raise DataError(
                    f"{name} holds binary data (a NUL byte on line {line}), not only text; check "
                    "that it is the right file and complete, or save it as CSV again."
                )
            pending += block
            end = len(pending) if last else max(pending.rfind(b"\n"), pending.rfind(b"\r")) + 1
            quoted = False  # the piece ends inside a quoted value: read on
            if end > 0:
                piece = pending[:end]
                if not piece.strip() or parse(piece, last):
                    lines += piece.count(b"\n")
                    pending = pending[end:]
                    progress(handle.tell())
                else:
                    quoted = True
            if quoted and len(pending) > chunk_bytes + MAX_LINE_BYTES:
                # a quoted value longer than any line: its closing quote is surely missing, and
                # the parser, told that the file ends here, says where the value starts
                parse(pending[:end], True)
                raise DataError(
                    f"{name}: a quoted value from line {lines + 1} on runs over more than "
                    f'{_size(MAX_LINE_BYTES)}, so a closing quote (") is surely missing; '
                    "fix the quotes in the file."
                )
            if not quoted and len(pending) > MAX_LINE_BYTES:
                raise DataError(
                    f"{name}: line {lines + 1} is longer than {_size(MAX_LINE_BYTES)}, which no "
                    "table row needs; check that this is the right file and that it is a CSV "
                    "table."
                )
            if last:
                return handle.tell(), opened


def read_start(path: Path, sample_bytes: int) -> tuple[bytes, Stamp]:
    """The file's first lines (at least ``sample_bytes``, or all of it) and its :class:`Stamp`,
    taken on the open file before the first byte is read; plain errors."""
    with open_regular(path, A_CSV_FILE) as handle:
        try:
            stamp = file_stamp(os.fstat(handle.fileno()))
            raw = handle.read(sample_bytes)
            # a header wider than the sample: read on until two lines are complete
            while raw.count(b"\n") + raw.count(b"\r") < 2 and len(raw) < MAX_LINE_BYTES:
                more = handle.read(len(raw))
                if not more:
                    break
                raw += more
        except OSError as error:
            raise DataError(
                f"{path.name}: the file cannot be read ({error.strerror or error}); check access "
                "to it."
            ) from None
    return raw, stamp


def refuse_change(path: Path, stamp: Stamp, opened: Stamp, read: int) -> None:
    """Refuse the file if it changed between :func:`read_start` (``stamp``) and the end of
    :func:`read_pieces` (the file ``opened`` there, the bytes ``read``)."""
    try:
        now = file_stamp(os.stat(path))
    except OSError:
        now = None
    if now == stamp and opened[:2] == stamp[:2] and read == stamp.size:
        return
    if now is None:
        what = "it is gone"
    elif now.size != stamp.size:
        what = f"it had {stamp.size:,} bytes and now has {now.size:,}"
    elif read != stamp.size:
        what = f"it has {stamp.size:,} bytes but {read:,} could be read"
    elif opened[:2] != stamp[:2] or now[:2] != stamp[:2]:
        what = "another file took its name meanwhile"
    else:
        what = "it was saved again meanwhile"
    raise DataError(
        f"{path.name} changed while it was being read ({what}); wait until the program writing "
        "it has finished, then open it again."
    )


def _size(n_bytes: int) -> str:
    return f"{n_bytes >> 20} MB" if n_bytes >= 1 << 20 else f"{n_bytes} bytes"
