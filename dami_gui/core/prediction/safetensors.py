"""Read and write the safetensors format with numpy alone (no ``safetensors`` package needed).

The format (https://huggingface.co/docs/safetensors, "Format") is deliberately simple, which is
why a model exported in it can be read anywhere without running any code from the file:

* 8 bytes: ``N``, the length of the header, an unsigned little-endian 64-bit integer;
* ``N`` bytes: a UTF-8 JSON object starting with ``{``. Each key names a tensor and maps to
  ``{"dtype": "F32", "shape": [rows, cols], "data_offsets": [begin, end]}``; the optional key
  ``__metadata__`` maps to a flat object of text values. The header may be padded at its end
  with spaces (we pad to a multiple of 8 so the data starts aligned);
* the byte buffer: every tensor's raw little-endian, row-major bytes, at ``data_offsets``
  counted from the start of the buffer. The offsets cover the buffer exactly, with no hole and
  no overlap.

:func:`encode` and :func:`decode` follow this. :func:`read_header` checks every rule above from
the file's first ``8 + N`` bytes, before any tensor is read, so that a reader can compare the
tensors with what it expects (and the file's size with what they need) before it allocates
anything; :func:`read_tensors` then reads them. A broken file is a
:class:`~dami_gui.core.errors.DataError` with one sentence, never a traceback. Where the format
leaves room, this is the stricter reader: a name given twice, a shape written ``2.0`` or
``true``, NaN in the header are refused. A test (``tests/core/test_model_fuzz.py``) checks on
randomly damaged files that whatever this reads, the format's reference implementation (the
``safetensors`` package) reads too, with the same tensors; docs/portable-model.md says why the
package is not used instead.
"""

from __future__ import annotations

import io
import json
import math
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from dami_gui.core.errors import DataError

__all__ = [
    "DTYPES",
    "MAX_HEADER",
    "Entry",
    "Header",
    "decode",
    "encode",
    "read_header",
    "read_tensors",
]

#: safetensors dtype names and the numpy dtype (little-endian) of each one we read or write.
DTYPES: dict[str, np.dtype] = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}
_NAMES = {dtype: name for name, dtype in DTYPES.items()}
#: A header larger than this is not a model's (the reference reader uses the same limit).
MAX_HEADER = 100_000_000


def encode(tensors: dict[str, np.ndarray], metadata: dict[str, str] | None = None) -> bytes:
    """The bytes of a safetensors file holding ``tensors`` (name -> array), in name order.

    ``metadata`` values must be text (the format allows nothing else).
    """
    header: dict[str, object] = {}
    if metadata:
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise TypeError("safetensors metadata must map text to text")
        header["__metadata__"] = dict(metadata)
    blobs = []
    offset = 0
    for name in sorted(tensors):
        array = np.asarray(tensors[name])
        dtype = array.dtype.newbyteorder("<") if array.dtype.byteorder == ">" else array.dtype
        if dtype not in _NAMES:
            raise TypeError(f"cannot store a tensor of type {array.dtype} in safetensors")
        data = np.ascontiguousarray(array, dtype=dtype).tobytes()
        header[name] = {
            "dtype": _NAMES[dtype],
            "shape": list(array.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-(8 + len(text)) % 8)  # the buffer starts on an 8-byte boundary
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


@dataclass(frozen=True)
class Entry:
    """One tensor as the header describes it: type, shape and bytes in the buffer."""

    dtype: np.dtype
    shape: tuple[int, ...]
    begin: int
    end: int


@dataclass(frozen=True)
class Header:
    """A checked header: the tensors (name -> :class:`Entry`), the metadata, and where the
    byte buffer starts in the file (``8 + N``)."""

    entries: dict[str, Entry]
    metadata: dict[str, str]
    data_start: int


def read_header(
    handle: BinaryIO, file_size: int, name: str, max_header: int = MAX_HEADER
) -> Header:
    """Read and check the header of the safetensors file open in ``handle`` (at its start).

    ``file_size``: the file's size; the header's entries must cover the bytes after it exactly.
    ``max_header``: the largest header accepted; a length beyond it or beyond the file is
    refused before anything is read. Nothing of the tensors' data is read.
    """

    def broken(why: str) -> DataError:
        return DataError(f"{name} is not a valid safetensors file ({why}); export the model again.")

    if file_size < 8:
        raise broken("it is shorter than its 8-byte header length")
    (size,) = struct.unpack("<Q", _exactly(handle, 8, broken))
    if size > max_header or 8 + size > file_size:
        raise broken("the header length is larger than the file")
    raw = _exactly(handle, size, broken)
    if not raw.startswith(b"{"):
        raise broken("the header is not a JSON object")
    try:
        header = json.loads(
            raw.decode("utf-8"), object_pairs_hook=_unique, parse_constant=_no_constant
        )
    except UnicodeDecodeError:
        raise broken("the header is not UTF-8 text") from None
    except (ValueError, RecursionError):
        raise broken("the header is not valid JSON") from None
    if not isinstance(header, dict):
        raise broken("the header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise broken("its metadata is not a map of text values")
    buffer = file_size - 8 - size
    entries: dict[str, Entry] = {}
    for key, entry in header.items():
        try:
            dtype = DTYPES[entry["dtype"]]
            shape = tuple(_count(n) for n in entry["shape"])
            begin, end = (_count(v) for v in entry["data_offsets"])
        except (KeyError, TypeError, ValueError):
            raise broken(f"the entry of '{key}' is incomplete or of an unknown type") from None
        if not begin <= end <= buffer:
            raise broken(f"the data of '{key}' lies outside the file")
        if end - begin != math.prod(shape) * dtype.itemsize:
            raise broken(f"the data of '{key}' does not match its shape")
        entries[key] = Entry(dtype, shape, begin, end)
    position = 0
    for entry in sorted(entries.values(), key=lambda e: (e.begin, e.end)):
        if entry.begin != position:
            raise broken("its tensors overlap or leave a gap")
        position = entry.end
    if position != buffer:
        raise broken("it has bytes after the last tensor")
    return Header(entries, dict(metadata), 8 + size)


def read_tensors(handle: BinaryIO, header: Header, name: str) -> dict[str, np.ndarray]:
    """Every tensor of a file whose :func:`read_header` was just read from ``handle`` (a copy
    each, in the buffer's order); a file cut short meanwhile is refused."""

    def broken(why: str) -> DataError:
        return DataError(f"{name} is not a valid safetensors file ({why}); export the model again.")

    tensors: dict[str, np.ndarray] = {}
    for key, entry in sorted(header.entries.items(), key=lambda item: item[1].begin):
        data = _exactly(handle, entry.end - entry.begin, broken)
        tensors[key] = np.frombuffer(data, dtype=entry.dtype).reshape(entry.shape).copy()
    return dict(sorted(tensors.items()))


def decode(
    data: bytes, name: str = "the weights file"
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Tensors (name -> array, a copy) and metadata from the bytes of a safetensors file.

    Raises :class:`DataError` naming ``name`` when the bytes do not follow the format.
    """
    handle = io.BytesIO(data)
    header = read_header(handle, len(data), name)
    return read_tensors(handle, header, name), header.metadata


def _exactly(handle: BinaryIO, n: int, broken: Callable[[str], DataError]) -> bytes:
    data = handle.read(n)
    if len(data) != n:
        raise broken("it is shorter than its header says")
    return data


def _count(value: object) -> int:
    """A whole number of 0 or more, as JSON wrote it (not a bool, a float or text)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(value)
    return value


def _unique(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """A JSON object whose keys are all different (two entries for one tensor are ambiguous)."""
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError("a name appears twice")
    return out


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a number JSON allows")
