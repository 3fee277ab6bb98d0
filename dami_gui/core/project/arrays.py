"""Numbers as bytes for the project file, never pickled Python objects.

:func:`encode_array` / :func:`decode_array`: numpy buffers with their dtype and shape;
:func:`encode_state` / :func:`decode_state`: a model's tensors through ``torch.save``, loaded back
with ``weights_only=True``. A damaged blob raises :class:`ProjectCorrupt`.

What a blob says about itself is checked before it costs anything: an array's size (its shape
times its item size) against the bound the caller knows, before a byte is decompressed, and
decompression stops there (a small blob cannot unpack into gigabytes); a model file's entries,
sizes and compression before ``torch.load`` reads them.
"""

from __future__ import annotations

import io
import math
import struct
import zlib
from typing import TYPE_CHECKING

import numpy as np

from dami_gui.core.project.errors import ProjectCorrupt
from dami_gui.core.untrusted import check_torch_archive, load_torch_state

if TYPE_CHECKING:
    import torch

_ARRAY_MAGIC = b"DAMA"
_DTYPES = frozenset("?bBhHiIlLqQefdg")
_MAX_DIMS = 8
#: The largest array or model read back when the caller gives no closer bound (1 GiB).
MAX_BYTES = 1 << 30


def encode_array(array: np.ndarray, compress: bool = True) -> bytes:
    """A numeric array as bytes: magic, dtype, shape, then the (zlib-compressed) buffer."""
    array = np.ascontiguousarray(array)
    if array.dtype.char not in _DTYPES:
        raise TypeError(f"only numeric arrays are stored, not {array.dtype}")
    dtype = array.dtype.str.encode("ascii")
    payload = array.tobytes()
    packed = zlib.compress(payload, 1) if compress else payload
    header = struct.pack(
        f"<4sB{len(dtype)}sB{array.ndim}qB",
        _ARRAY_MAGIC,
        len(dtype),
        dtype,
        array.ndim,
        *array.shape,
        1 if compress else 0,
    )
    return header + packed


def decode_array(
    data: object, max_bytes: int = MAX_BYTES, what: str = "A stored array"
) -> np.ndarray:
    """Inverse of :func:`encode_array`; a damaged blob raises :class:`ProjectCorrupt`.

    ``max_bytes``: the most the array may hold; a header that claims more is refused before
    anything is decompressed, and decompression never produces more than the header claims.
    ``what`` starts the message ("The map", "A stored array").
    """
    try:
        data = _blob(data)
        magic, n = struct.unpack_from("<4sB", data, 0)
        if magic != _ARRAY_MAGIC:
            raise ValueError("bad magic")
        offset = 5
        dtype = np.dtype(data[offset : offset + n].decode("ascii"))
        if dtype.char not in _DTYPES or dtype.hasobject:
            raise ValueError(f"dtype {dtype}")
        offset += n
        (ndim,) = struct.unpack_from("<B", data, offset)
        if ndim > _MAX_DIMS:
            raise ValueError(f"{ndim} dimensions")
        shape = struct.unpack_from(f"<{ndim}q", data, offset + 1)
        if any(d < 0 for d in shape):
            raise ValueError(f"shape {shape}")
        size = math.prod(shape) * dtype.itemsize  # Python integers: no overflow
        if size > max_bytes:
            raise ValueError(f"it claims {size} bytes, more than the {max_bytes} it can hold")
        offset += 1 + 8 * ndim
        (compressed,) = struct.unpack_from("<B", data, offset)
        payload = data[offset + 1 :]
        if compressed:
            inflater = zlib.decompressobj()
            payload = inflater.decompress(payload, size + 1)  # never more than one byte extra
        if len(payload) != size:
            raise ValueError(f"{len(payload)} bytes where its header says {size}")
        return np.frombuffer(payload, dtype=dtype).reshape(shape).copy()
    except (ValueError, TypeError, struct.error, zlib.error, UnicodeDecodeError) as error:
        raise ProjectCorrupt(
            f"{what} in the project is damaged ({error}); open a backup copy of the project."
        ) from None


def encode_state(state: dict[str, torch.Tensor]) -> bytes:
    """A model's ``state_dict`` as the bytes of ``torch.save`` (tensors only)."""
    import torch

    buffer = io.BytesIO()
    torch.save({k: v.detach().cpu() for k, v in state.items()}, buffer)
    return buffer.getvalue()


def check_state(data: object, max_bytes: int = MAX_BYTES) -> bytes:
    """The bytes of stored weights if they are what ``torch.save`` writes, an uncompressed zip
    archive of at most ``max_bytes`` in all, checked from its directory without torch (opening
    a project for its labels only does this much); else :class:`ProjectCorrupt`."""
    try:
        blob = _blob(data)
        check_torch_archive(blob, max_bytes)
    except ValueError as error:
        raise _damaged_weights(error) from None
    return blob


def decode_state(data: object, max_bytes: int = MAX_BYTES) -> dict[str, torch.Tensor]:
    """Inverse of :func:`encode_state`, loading tensors only (``weights_only=True``).

    The blob is checked first (:func:`check_state`) before ``torch.load`` reads it
    (:func:`dami_gui.core.untrusted.load_torch_state`, which reads exported models too). torch
    is imported there, when weights are read, not with the project file's other parts.
    """
    blob = check_state(data, max_bytes)
    try:
        return load_torch_state(blob, max_bytes)
    except ValueError as error:
        raise _damaged_weights(error) from None


def _damaged_weights(error: Exception) -> ProjectCorrupt:
    return ProjectCorrupt(
        f"The stored model weights are damaged ({error}); they are recomputed from your labels."
    )


def _blob(data: object) -> bytes:
    """The bytes of a stored value; anything else (text where a blob belongs) is damage."""
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    raise ValueError(f"{type(data).__name__} where bytes were stored")
