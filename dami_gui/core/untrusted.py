"""Nothing read from a file is taken on trust: the one rule for every file dami-gui reads.

Project files, exported models and CSV tables come from anywhere: damaged, cut off, or made to
harm. Every reader in the core follows the same rule, written once here:

* **a regular file, or a clear refusal**: :func:`open_regular` looks at the path with
  ``os.stat`` before opening it, opens it without blocking (``O_NONBLOCK``: a named pipe put in
  its place meanwhile cannot make ``open`` wait for a writer that never comes) and checks again
  what it opened. A named pipe, a device or a socket is refused with one sentence;
* **sizes checked against what the file claims before anything is allocated**:
  :func:`read_bounded` refuses a file larger than its caller's bound from its size, before
  reading it, and never reads more than the bound even if the file grows meanwhile;
* **every field type-checked, every number finite**: :func:`whole`, :func:`real`,
  :func:`text`, :func:`names`, :func:`parse_json` (NaN and Infinity refused, nesting too deep for
  the parser refused instead of a ``RecursionError``), and for a network :func:`model_spec`
  (within the limits below), :func:`model_state` (exactly the spec's tensors, finite, no larger
  than :data:`MAX_WEIGHT`) and :func:`load_torch_state` (a ``torch.save`` archive checked from
  its directory before torch reads it);
* **one sentence for anything else**: the file functions raise the caller's
  :class:`~dami_gui.core.errors.DamiError` class; the value checks raise ``ValueError`` saying
  what is wrong, and the caller decides what a bad value costs (a project computes a damaged
  round again, a model file is refused).

The project reader (:mod:`dami_gui.core.project.checks`, :mod:`~dami_gui.core.project.storage`),
the model reader (:mod:`dami_gui.core.prediction.model_file`) and the CSV reader
(:mod:`dami_gui.core.data.reader`) use these, so a network stored in a project and an exported
one meet the same limits. The limits are far above anything the app makes and far below what
would exhaust a computer: a spec cannot ask for 160 GB of weights.
"""

from __future__ import annotations

import io
import itertools
import json
import math
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, NamedTuple

from dami_gui.core.errors import DamiError, DataError

if TYPE_CHECKING:
    import torch

__all__ = [
    "MAX_LAYERS",
    "MAX_PARAMETERS",
    "MAX_WEIGHT",
    "MAX_WIDTH",
    "Stamp",
    "file_stamp",
    "load_torch_state",
    "model_spec",
    "model_state",
    "names",
    "open_regular",
    "parse_json",
    "read_bounded",
    "real",
    "real_or_none",
    "regular_file",
    "state_bytes",
    "state_shapes",
    "text",
    "whole",
]

#: Hidden layers and units per layer a stored network may have.
MAX_LAYERS = 16
MAX_WIDTH = 16384
#: Weights and biases of a stored network, all layers together (200 MB of float32).
MAX_PARAMETERS = 50_000_000
#: The largest weight or bias a stored network may hold. Training (Adam, learning rate 1e-3,
#: weight decay) moves a weight by about the learning rate a step, so a trained network's stay
#: within a few units; 1e30 is damage, or a file made to overflow every prediction.
MAX_WEIGHT = 1e6

_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_BINARY = getattr(os, "O_BINARY", 0)


# ------------------------------------------------------------------------------ files


def _reason(error: OSError) -> str:
    return error.strerror or str(error)


def _refuse_irregular(info: os.stat_result, path: Path, what: str, error: type[DamiError]) -> None:
    """Raise ``error`` unless ``info`` is that of a regular file."""
    mode = info.st_mode
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise error(f"{path} is a folder, not {what}; choose {what} inside it.")
    if stat.S_ISFIFO(mode):
        kind = "a named pipe"
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        kind = "a device"
    elif stat.S_ISSOCK(mode):
        kind = "a socket"
    else:
        kind = "a special file"
    raise error(
        f"{path.name} is {kind}, not an ordinary file, so it is not read as {what}; save what "
        "it holds to an ordinary file and choose that one."
    )


def regular_file(path: str | Path, what: str, error: type[DamiError] = DataError) -> int:
    """The size of ``path`` when it is a regular file (links followed); else ``error``, whose
    sentence names what the file should be (``what``: "a CSV file", "a model description")."""
    path = Path(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise error(f"The file {path} does not exist; check its name and folder.") from None
    except OSError as exc:
        raise error(f"{path.name} cannot be read ({_reason(exc)}); check access to it.") from None
    _refuse_irregular(info, path, what, error)
    return info.st_size


def open_regular(path: str | Path, what: str, error: type[DamiError] = DataError) -> BinaryIO:
    """``path`` opened for reading (binary) when it is a regular file; else ``error``.

    ``what`` names what the file should be in the sentence (see :func:`regular_file`). A named
    pipe is never opened in a way that waits: checked before ``open``, opened with
    ``O_NONBLOCK``, and checked again on the open descriptor (``fstat``).
    """
    path = Path(path)
    regular_file(path, what, error)
    try:
        fd = os.open(path, os.O_RDONLY | _NONBLOCK | _CLOEXEC | _BINARY)
    except FileNotFoundError:
        raise error(f"The file {path} does not exist; check its name and folder.") from None
    except OSError as exc:
        raise error(f"{path.name} cannot be read ({_reason(exc)}); check access to it.") from None
    try:
        _refuse_irregular(os.fstat(fd), path, what, error)  # replaced between stat and open
        if _NONBLOCK and hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)  # a regular file: reads as usual
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


class Stamp(NamedTuple):
    """What changes when a file is written, truncated, replaced or its time set back: its
    identity (device, inode), size, modification and status-change times."""

    dev: int
    ino: int
    size: int
    mtime_ns: int
    ctime_ns: int


def file_stamp(info: os.stat_result) -> Stamp:
    """The :class:`Stamp` of a file from its ``os.stat``/``os.fstat``."""
    return Stamp(info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def read_bounded(
    path: str | Path, limit: int, what: str, error: type[DamiError] = DataError
) -> bytes:
    """The bytes of the regular file ``path``, refused (``error``) beyond ``limit`` bytes.

    The size is checked before reading (nothing is allocated for a file that is too big), and
    no more than that size is read: a file that grows or shrinks meanwhile is refused.
    """
    path = Path(path)
    too_big = (
        f"{path.name} is larger than {what} can be ({limit:,} bytes at most), so it is not "
        "one; choose the right file."
    )
    with open_regular(path, what, error) as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > limit:
            raise error(too_big)
        try:
            data = handle.read(size + 1)  # never a buffer of the limit's size for a small file
        except OSError as exc:
            raise error(
                f"{path.name} cannot be read ({_reason(exc)}); check access to it."
            ) from None
    if len(data) != size:
        raise error(f"{path.name} changed while it was being read; read it again.")
    return data


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a number JSON allows")


def parse_json(data: bytes | str) -> Any:
    """JSON text, strictly: UTF-8, no NaN or Infinity; nesting too deep is a ``ValueError``."""
    try:
        source = data.decode("utf-8") if isinstance(data, bytes) else data
        if not source.strip():
            raise ValueError("it is empty")
        return json.loads(source, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        raise ValueError(f"it is not JSON: {error.msg} on line {error.lineno}") from None
    except UnicodeDecodeError:
        raise ValueError("it is not UTF-8 text") from None
    except RecursionError:
        raise ValueError("it is nested too deeply") from None


# ------------------------------------------------------------------------------ values


def whole(value: object, minimum: int = 0, maximum: int = 1 << 62) -> int:
    """``value`` as an int in ``minimum..maximum``; bool and anything else is refused."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{_short(value)} is not a whole number")
    if not minimum <= value <= maximum:
        raise ValueError(f"{value} is not in {minimum}..{maximum}")
    return value


def real(value: object) -> float:
    """A finite number (int or float, not bool) as float; anything else is refused."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{_short(value)} is not a finite number")
    return float(value)


def real_or_none(value: object) -> float | None:
    """A finite number (as float) or None; anything else is refused."""
    return None if value is None else real(value)


def text(value: object, max_length: int = 10_000) -> str:
    """A string of valid UTF-8 without NUL characters, at most ``max_length`` long."""
    if not isinstance(value, str) or "\x00" in value or len(value) > max_length:
        raise ValueError(f"{_short(value)} is not a text")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # bytes that were not UTF-8 in the file (lone surrogates)
        raise ValueError("not a text") from None
    return value


def names(value: object, what: str, max_count: int, max_length: int = 10_000) -> list[str]:
    """A list of distinct, non-empty texts (class names, categories), at most ``max_count``."""
    if not isinstance(value, list) or len(value) > max_count:
        raise ValueError(f"the {what} are not a list of at most {max_count:,} names")
    checked = [text(v, max_length) for v in value]
    if "" in checked or len(set(checked)) != len(checked):
        raise ValueError(f"the {what} are empty or repeated")
    return checked


def _short(value: object) -> str:
    shown = repr(value)
    return shown if len(shown) <= 40 else shown[:37] + "..."


# ------------------------------------------------------------------------------ the network


def model_spec(value: object, n_features: int, n_classes: int) -> dict[str, Any]:
    """A network spec (:meth:`~dami_gui.core.model.MLP.spec`) for ``n_features`` inputs and
    ``n_classes`` outputs, within the limits above; a ``ValueError`` says what is wrong."""
    if not isinstance(value, Mapping):
        raise ValueError("the network is not described")
    features = whole(value.get("n_features"), 1, MAX_WIDTH * 64)
    classes = whole(value.get("n_classes"), 1, MAX_WIDTH)
    if (features, classes) != (n_features, n_classes):
        raise ValueError(
            f"a network for {features} inputs and {classes} classes where the rest says "
            f"{n_features} and {n_classes}"
        )
    hidden = value.get("hidden")
    if not isinstance(hidden, list | tuple) or not 1 <= len(hidden) <= MAX_LAYERS:
        raise ValueError(f"hidden layers that are not a list of 1 to {MAX_LAYERS} widths")
    widths = [features, *(whole(h, 1, MAX_WIDTH) for h in hidden), classes]
    count = sum(a * b + b for a, b in itertools.pairwise(widths))
    if count > MAX_PARAMETERS:
        raise ValueError(f"{count:,} weights, more than the {MAX_PARAMETERS:,} dami-gui reads")
    return {"n_features": features, "n_classes": classes, "hidden": widths[1:-1]}


def state_shapes(spec: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
    """The names and shapes of the tensors of a network with a checked ``spec``."""
    widths = [spec["n_features"], *spec["hidden"], spec["n_classes"]]
    shapes: dict[str, tuple[int, ...]] = {}
    for i, (a, b) in enumerate(itertools.pairwise(widths)):
        shapes[f"linears.{i}.weight"] = (b, a)
        shapes[f"linears.{i}.bias"] = (b,)
    return shapes


def state_bytes(spec: Mapping[str, Any]) -> int:
    """The most bytes ``torch.save`` of such a network can take (tensors, names, alignment)."""
    shapes = state_shapes(spec)
    return sum(8 * math.prod(s) for s in shapes.values()) + 4096 * (len(shapes) + 4)


def model_state(state: Mapping[str, torch.Tensor], spec: Mapping[str, Any]) -> None:
    """Refuse weights that are not exactly those of ``spec``, not finite, or beyond
    :data:`MAX_WEIGHT`."""
    shapes = state_shapes(spec)
    if set(state) != set(shapes):
        missing = sorted(set(shapes) - set(state))
        raise ValueError(f"the tensor {missing[0]} is missing" if missing else "other tensors")
    for name, tensor in state.items():
        if tuple(tensor.shape) != shapes[name] or not tensor.dtype.is_floating_point:
            raise ValueError(f"the tensor {name} has another shape or type than the network's")
        if not bool(tensor.isfinite().all()):
            raise ValueError(f"the tensor {name} holds values that are not finite numbers")
        if tensor.numel() and float(tensor.abs().max()) > MAX_WEIGHT:
            raise ValueError(f"the tensor {name} holds values beyond ±{MAX_WEIGHT:g}")


def check_torch_archive(data: bytes, max_bytes: int) -> None:
    """Refuse (``ValueError``) anything but what ``torch.save`` writes: an uncompressed zip of at
    most ``max_bytes`` in all, holding a pickle of tensors. Read from the zip's directory alone,
    without torch, so that a file opened for its labels only is checked this far."""
    import zipfile

    try:
        if len(data) > max_bytes:
            raise ValueError(f"{len(data)} bytes")
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
        if any(e.compress_type != zipfile.ZIP_STORED for e in entries):
            raise ValueError("compressed entries")
        if sum(e.file_size for e in entries) > max_bytes:
            raise ValueError("too large")
        if not any(e.filename.endswith("/data.pkl") for e in entries):
            raise ValueError("no tensors")
    except Exception as error:  # zipfile raises many kinds for a damaged buffer
        raise ValueError(f"not a torch.save archive of tensors ({type(error).__name__})") from None


def load_torch_state(data: bytes, max_bytes: int) -> dict[str, torch.Tensor]:
    """The tensors of a ``torch.save`` archive (``weights_only``: never code), checked first.

    The archive is checked from its directory (:func:`check_torch_archive`) before
    ``torch.load`` reads anything; then it must hold a map of names to tensors. Anything else
    is a ``ValueError``.
    """
    import torch

    check_torch_archive(data, max_bytes)
    try:
        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many kinds for a damaged buffer
        raise ValueError(f"not a torch.save archive of tensors ({type(error).__name__})") from None
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise ValueError("not a set of tensors")
    return state
