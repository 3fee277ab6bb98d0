"""Exact local linear interpretation of a ReLU MLP (the core of DAMI).

Inside one linear region (a fixed activation pattern) the network is exactly affine:
``z(x) = A(x) x + c(x)`` with ``A(x) = W_L D_{L-1} W_{L-1} ... D_1 W_1`` and
``c(x) = b_L + W_L D_{L-1}(b_{L-1} + W_{L-1} D_{L-2}(... + W_2 D_1 b_1))``. Both are computed here
in closed form from the activation masks, for a whole batch at once, in chunks so that peak
memory stays bounded whatever the pool size. ``A(x)`` equals the Jacobian of the logits at ``x``;
the tests check that identity against ``torch.autograd``.

Region ids are a 64-bit hash of the bit-packed activation pattern: two rows have equal ids iff
they share a linear region (up to a hash collision, about N^2 / 2^64).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import torch

from dami_gui.core.errors import ParameterError
from dami_gui.core.model import MLP
from dami_gui.core.progress import CancelToken, ProgressCallback, Reporter, as_reporter

#: Rows per chunk are chosen so that a chunk's A (rows x C x d float32) stays near this size.
CHUNK_BYTES = 64 * 1024 * 1024

#: Rows whose A are formed in one product (the scratch buffers hold this many rows' C x n_l).
A_ROWS = 4096


@dataclass
class Interpretation:
    """Per-row local linear models and regions for a set of rows.

    ``A`` is (N, C, d) float32 or None when only regions were asked for; ``c`` and ``logits`` are
    (N, C); ``region_ids`` is (N,) int64; ``patterns`` is (N, ceil(H / 8)) uint8, the bit-packed
    activation pattern of all H hidden units (layer 1 first), or None when not kept.
    """

    A: np.ndarray | None
    c: np.ndarray
    logits: np.ndarray
    region_ids: np.ndarray
    patterns: np.ndarray | None = None

    @property
    def n_regions(self) -> int:
        return int(np.unique(self.region_ids).size)

    def matrices(self) -> np.ndarray:
        """``A``, (N, C, d); a ValueError if it was not computed (``with_A=False``)."""
        if self.A is None:
            raise ValueError("this interpretation was computed without A")
        return self.A

    def flat(self) -> np.ndarray:
        """vec(A(x)) per row: the (N, C*d) representation DAMI's K-Center runs on."""
        A = self.matrices()
        return A.reshape(A.shape[0], -1)


_MIX = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _splitmix(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint64(30))
    h = h * _M1
    h = h ^ (h >> np.uint64(27))
    h = h * _M2
    mixed: np.ndarray = h ^ (h >> np.uint64(31))
    return mixed


def hash_patterns(packed: np.ndarray) -> np.ndarray:
    """64-bit ids of bit-packed patterns (N, B) uint8, vectorised; equal rows give equal ids."""
    n, nbytes = packed.shape
    width = -(-nbytes // 8) * 8
    padded = np.zeros((n, width), dtype=np.uint8)
    padded[:, :nbytes] = packed
    words = padded.view("<u8")
    with np.errstate(over="ignore"):
        h = np.full(n, np.uint64(nbytes) * _MIX, dtype=np.uint64)
        for j in range(words.shape[1]):
            h = _splitmix(h ^ words[:, j] + _MIX)
    return h.view(np.int64)


def _chunk_rows(n_classes: int, n_features: int, hidden: tuple[int, ...]) -> int:
    per_row = 4 * (n_classes * max(n_features, max(hidden)) + sum(hidden))
    return int(max(256, min(65536, CHUNK_BYTES // max(per_row, 1))))


@torch.no_grad()
def interpret(
    model: MLP,
    X: np.ndarray,
    with_A: bool = True,
    keep_patterns: bool = False,
    chunk_rows: int | None = None,
    progress: ProgressCallback | Reporter | None = None,
    cancel: CancelToken | None = None,
    device: torch.device | None = None,
) -> Interpretation:
    """Activation patterns, region ids and local linear models of ``model`` at every row of ``X``.

    ``device``: where the products run (None: the CPU); the results are numpy arrays either way.

    The product with the masks runs from the output side: ``G = W_L D_{L-1}``, then
    ``G = G W_{l} D_{l-1}`` down to ``A = G W_1``, which costs C x n x n per row instead of
    n x n x d, the cheaper order whenever there are fewer classes than features.
    """
    reporter = as_reporter(progress, cancel)
    X = np.asarray(X, dtype=np.float32)
    n, d = X.shape
    if not model.hidden:
        raise ParameterError("model", "an MLP with at least one hidden layer", model)
    linears = model.layers
    weights = [lin.weight.detach().to(device or "cpu") for lin in linears]
    biases = [lin.bias.detach().to(device or "cpu") for lin in linears]
    n_classes = model.n_classes
    chunk = chunk_rows or _chunk_rows(n_classes, d, model.hidden)
    n_hidden = sum(model.hidden)
    nbytes = -(-n_hidden // 8)

    A_out = np.empty((n, n_classes, d), dtype=np.float32) if with_A else None
    c_out = np.empty((n, n_classes), dtype=np.float32)
    z_out = np.empty((n, n_classes), dtype=np.float32)
    ids = np.empty(n, dtype=np.int64)
    patterns = np.empty((n, nbytes), dtype=np.uint8) if keep_patterns else None
    # Two scratch buffers for the C x n_l products of A_ROWS rows, reused by every chunk: a
    # fresh tensor per product costs its page faults again (about a third of the time on 1M
    # rows). A row's A is the same product whichever rows share it: equal to float32 rounding,
    # since some CPUs' kernels round a product of another shape differently in the last bits.
    width = min(chunk, n, A_ROWS) * n_classes * max(model.hidden)
    buffers = [torch.empty(width if with_A else 0, device=device or "cpu") for _ in range(2)]

    for start in range(0, n, chunk):
        reporter.check()
        stop = min(n, start + chunk)
        h = torch.from_numpy(X[start:stop])
        if device is not None:
            h = h.to(device)
        masks: list[torch.Tensor] = []
        # c propagated with the masks fixed: D_l (W_l c_{l-1} + b_l)
        bias_path: torch.Tensor | None = None
        for W, b in zip(weights[:-1], biases[:-1], strict=True):
            pre = h @ W.T + b
            m = pre > 0
            masks.append(m)
            h = pre * m
            bias_path = b if bias_path is None else bias_path @ W.T + b
            bias_path = bias_path * m
        assert bias_path is not None  # there is a hidden layer (checked above)
        logits = h @ weights[-1].T + biases[-1]
        c = bias_path @ weights[-1].T + biases[-1]
        if A_out is not None:
            for a0 in range(0, stop - start, A_ROWS):
                a1 = min(stop - start, a0 + A_ROWS)
                part = [m[a0:a1] for m in masks]
                out = torch.from_numpy(A_out[start + a0 : start + a1])
                _local_models(weights, part, buffers, out)
        c_out[start:stop] = c.cpu().numpy()
        z_out[start:stop] = logits.cpu().numpy()
        bits = np.packbits(torch.cat(masks, dim=1).cpu().numpy(), axis=1)
        ids[start:stop] = hash_patterns(bits)
        if patterns is not None:
            patterns[start:stop] = bits
        reporter("Interpreting", stop / n)
    return Interpretation(A_out, c_out, z_out, ids, patterns)


def _local_models(
    weights: list[torch.Tensor],
    masks: list[torch.Tensor],
    buffers: list[torch.Tensor],
    out: torch.Tensor,
) -> None:
    """A = W_L D_{L-1} W_{L-1} ... D_1 W_1 for one chunk, written into ``out`` (rows, C, d).

    The same products as ``G = (G @ W_l) * mask`` with fresh tensors, taken in the two reused
    ``buffers`` (and, on the device of ``out``, straight into it): the same values for the same
    rows, to float32 rounding where the BLAS kernel rounds products of other shapes (more or
    fewer rows) differently, as AVX2 CPUs do and AVX-512 ones did not where this was measured.
    """
    rows, n_classes = out.shape[0], out.shape[1]

    def scratch(i: int, width: int) -> torch.Tensor:
        return buffers[i][: rows * n_classes * width].view(rows, n_classes, width)

    G = scratch(0, masks[-1].shape[1])
    torch.mul(weights[-1].unsqueeze(0), masks[-1].unsqueeze(1).to(torch.float32), out=G)
    for step, layer in enumerate(range(len(masks) - 1, 0, -1)):
        nxt = scratch((step + 1) % 2, weights[layer].shape[1])
        torch.matmul(G, weights[layer], out=nxt)
        G = nxt.mul_(masks[layer - 1].unsqueeze(1).to(torch.float32))
    if G.device == out.device:
        torch.matmul(G, weights[0], out=out)
    else:
        out.copy_(G @ weights[0])


class LocalModels:
    """A(x) of every row, formed on demand from the bit-packed activation patterns.

    For pools too big to keep A (see :data:`~dami_gui.core.strategies.base.KEEP_A_BYTES`): each
    pass that reads A (DAMI+'s three, the map's partition) forms it again, one block of rows at
    a time, from the patterns kept by :func:`interpret` (``keep_patterns=True``; ceil(H / 8)
    bytes a row), except for the first ``keep_rows`` rows, whose A is formed once and kept. A
    row's A is the same product of the same masks and weights as in :func:`interpret`, so it is
    the A that :func:`interpret` keeps: from the very activation patterns (the same regions,
    exactly), with numbers equal to float32 rounding (the blocks are products of other shapes,
    which some CPUs round differently in the last bits; the tests check both). The price: one
    product per formed row and pass.
    """

    def __init__(
        self,
        model: MLP,
        patterns: np.ndarray,
        device: torch.device | None = None,
        keep_rows: int = 0,
    ) -> None:
        if not model.hidden:
            raise ParameterError("model", "an MLP with at least one hidden layer", model)
        n_hidden = sum(model.hidden)
        if patterns.ndim != 2 or patterns.shape[1] != -(-n_hidden // 8):
            raise ParameterError(
                "patterns", f"(rows, {-(-n_hidden // 8)}) bit-packed patterns", patterns.shape
            )
        self.device = torch.device(device or "cpu")
        self.weights = [lin.weight.detach().to(self.device) for lin in model.layers]
        self.hidden = tuple(model.hidden)
        self.patterns = patterns
        self.n = int(patterns.shape[0])
        self.classes = int(model.n_classes)
        self.features = int(self.weights[0].shape[1])
        width = A_ROWS * self.classes * max(self.hidden)
        self._buffers = [torch.empty(width, device=self.device) for _ in range(2)]
        self._block: torch.Tensor | None = None
        self.keep_rows = min(max(int(keep_rows), 0), self.n)
        shape = (self.keep_rows, self.classes, self.features)
        self._kept = torch.empty(shape, device=self.device)
        for start in range(0, self.keep_rows, 16 * A_ROWS):
            stop = min(self.keep_rows, start + 16 * A_ROWS)
            self._form(self.patterns[start:stop], self._kept[start:stop])

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.n, self.classes, self.features

    def block(self, start: int, stop: int) -> torch.Tensor:
        """A of rows start..stop (rows, C, d), in a buffer reused by the next call (or a view
        of the kept rows)."""
        if stop <= self.keep_rows:
            return self._kept[start:stop]
        rows = stop - start
        if self._block is None or self._block.shape[0] < rows:
            shape = (rows, self.classes, self.features)
            self._block = torch.empty(shape, device=self.device)
        out = self._block[:rows]
        self._form(self.patterns[start:stop], out)
        return out

    def rows(self, rows: torch.Tensor | np.ndarray) -> torch.Tensor:
        """A of the given rows (m, C, d), a new tensor."""
        index = torch.as_tensor(rows).cpu().numpy()
        out = torch.empty((index.size, self.classes, self.features), device=self.device)
        kept = index < self.keep_rows
        if kept.any():
            at = torch.from_numpy(np.flatnonzero(kept)).to(self.device)
            out[at] = self._kept[torch.from_numpy(index[kept]).to(self.device)]
        if not kept.all():
            shape = (int((~kept).sum()), self.classes, self.features)
            formed = torch.empty(shape, device=self.device)
            self._form(self.patterns[index[~kept]], formed)
            out[torch.from_numpy(np.flatnonzero(~kept)).to(self.device)] = formed
        return out

    def full(self) -> np.ndarray:
        """A of every row (N, C, d) as one array: as much memory as :func:`interpret` keeps."""
        A = np.empty(self.shape, dtype=np.float32)
        step = 16 * A_ROWS
        for start in range(0, self.n, step):
            stop = min(self.n, start + step)
            A[start:stop] = self.block(start, stop).cpu().numpy()
        return A

    def _form(self, packed: np.ndarray, out: torch.Tensor) -> None:
        bits = np.unpackbits(packed, axis=1, count=sum(self.hidden)).view(bool)
        flags = torch.from_numpy(bits).to(self.device)
        bounds = np.cumsum((0, *self.hidden))
        masks = [flags[:, a:b] for a, b in pairwise(bounds)]
        for a0 in range(0, packed.shape[0], A_ROWS):
            a1 = min(packed.shape[0], a0 + A_ROWS)
            _local_models(self.weights, [m[a0:a1] for m in masks], self._buffers, out[a0:a1])


def region_sizes(region_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct region ids and how many rows each holds, largest first."""
    uniq, counts = np.unique(region_ids, return_counts=True)
    order = np.argsort(-counts, kind="stable")
    return uniq[order], counts[order]
