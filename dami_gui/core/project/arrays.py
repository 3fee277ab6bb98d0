"""Numbers as bytes for the project file, never pickled Python objects.

:func:`encode_array` / :func:`decode_array`: numpy buffers with their dtype and shape;
:func:`encode_state` / :func:`decode_state`: a model's tensors through ``torch.save``, loaded back
with ``weights_only=True``. A damaged blob raises :class:`ProjectCorrupt`.
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import torch

from dami_gui.core.project.errors import ProjectCorrupt

_ARRAY_MAGIC = b"DAMA"
_DTYPES = frozenset("?bBhHiIlLqQefdg")


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


def decode_array(data: bytes) -> np.ndarray:
    """Inverse of :func:`encode_array`; a damaged blob raises :class:`ProjectCorrupt`."""
    try:
        data = bytes(data)
        magic, n = struct.unpack_from("<4sB", data, 0)
        if magic != _ARRAY_MAGIC:
            raise ValueError("bad magic")
        offset = 5
        dtype = np.dtype(data[offset : offset + n].decode("ascii"))
        if dtype.char not in _DTYPES:
            raise ValueError(f"dtype {dtype}")
        offset += n
        (ndim,) = struct.unpack_from("<B", data, offset)
        shape = struct.unpack_from(f"<{ndim}q", data, offset + 1)
        offset += 1 + 8 * ndim
        (compressed,) = struct.unpack_from("<B", data, offset)
        payload = data[offset + 1 :]
        if compressed:
            payload = zlib.decompress(payload)
        return np.frombuffer(payload, dtype=dtype).reshape(shape).copy()
    except (ValueError, TypeError, struct.error, zlib.error, UnicodeDecodeError) as error:
        raise ProjectCorrupt(
            f"A stored array in the project is damaged ({error}); open a backup copy of the "
            "project."
        ) from None


def encode_state(state: dict[str, torch.Tensor]) -> bytes:
    """A model's ``state_dict`` as the bytes of ``torch.save`` (tensors only)."""
    buffer = io.BytesIO()
    torch.save({k: v.detach().cpu() for k, v in state.items()}, buffer)
    return buffer.getvalue()


def decode_state(data: bytes) -> dict[str, torch.Tensor]:
    """Inverse of :func:`encode_state`, loading tensors only (``weights_only=True``)."""
    try:
        state = torch.load(io.BytesIO(bytes(data)), map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many kinds for a damaged buffer
        raise ProjectCorrupt(
            f"The stored model weights are damaged ({type(error).__name__}); run a new round to "
            "train the model again."
        ) from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ProjectCorrupt("The stored model weights are not a set of tensors; run a new round.")
    return state
