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

:func:`encode` and :func:`decode` follow this; :func:`decode` checks every rule above and turns a
broken file into a :class:`~dami_gui.core.errors.DataError` with one sentence, never a traceback.
"""

from __future__ import annotations

import json
import struct

import numpy as np

from dami_gui.core.errors import DataError

__all__ = ["DTYPES", "decode", "encode"]

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


def decode(
    data: bytes, name: str = "the weights file"
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Tensors (name -> array, a copy) and metadata from the bytes of a safetensors file.

    Raises :class:`DataError` naming ``name`` when the bytes do not follow the format.
    """

    def broken(why: str) -> DataError:
        return DataError(f"{name} is not a valid safetensors file ({why}); export the model again.")

    if len(data) < 8:
        raise broken("it is shorter than its 8-byte header length")
    (size,) = struct.unpack("<Q", data[:8])
    if size > MAX_HEADER or 8 + size > len(data):
        raise broken("the header length is larger than the file")
    raw = data[8 : 8 + size]
    if not raw.startswith(b"{"):
        raise broken("the header is not a JSON object")
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise broken("the header is not valid JSON") from None
    if not isinstance(header, dict):
        raise broken("the header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise broken("its metadata is not a map of text values")
    buffer = memoryview(data)[8 + size :]
    tensors: dict[str, np.ndarray] = {}
    spans = []
    for key, entry in header.items():
        try:
            dtype = DTYPES[entry["dtype"]]
            shape = tuple(int(n) for n in entry["shape"])
            begin, end = (int(v) for v in entry["data_offsets"])
        except (KeyError, TypeError, ValueError):
            raise broken(f"the entry of '{key}' is incomplete or of an unknown type") from None
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if min(shape, default=0) < 0 or not 0 <= begin <= end <= len(buffer):
            raise broken(f"the data of '{key}' lies outside the file")
        if end - begin != count * dtype.itemsize:
            raise broken(f"the data of '{key}' does not match its shape")
        spans.append((begin, end))
        tensors[key] = np.frombuffer(buffer[begin:end], dtype=dtype).reshape(shape).copy()
    position = 0
    for begin, end in sorted(spans):
        if begin != position:
            raise broken("its tensors overlap or leave a gap")
        position = end
    if position != len(buffer):
        raise broken("it has bytes after the last tensor")
    return tensors, dict(metadata)
