"""The pool of a big map as one density image: rows counted per screen pixel, coloured by group.

Drawing a million dots with pyqtgraph's ``ScatterPlotItem`` costs seconds to set and about a
third of a second per frame; counting them per pixel with ``np.bincount`` costs tens of
milliseconds and the image then paints in about a millisecond. Above
:data:`dami_gui.app.map.view.DENSITY_ABOVE` rows the map draws its plain pool dots this way (the
labeled rows, the queries, the selection and a small highlighted group stay points on top).

Everything here is plain numpy, no Qt: :func:`count_pixels` counts the rows per pixel and finds
each pixel's dominant colour code; :func:`colour_pixels` turns that into RGBA, its opacity
growing with the log of the count; :func:`density_image` does both. The colour codes are the
ones the scatter would use (the map's style table), so the image shows exactly the colours of
the current "Colour by" mode.

Image layout: ``image[i, j]`` is the pixel of column ``i`` (x grows to the right) and row ``j``
(y grows upwards), the order pyqtgraph's ``ImageItem`` takes by default.
"""

from __future__ import annotations

import numpy as np

#: Opacity of a pixel holding one row; pixels as dense as the densest 1 % of the view are opaque.
MIN_ALPHA = 0.75


def count_pixels(
    x: np.ndarray,
    y: np.ndarray,
    codes: np.ndarray,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    shape: tuple[int, int],
    priority: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Rows per pixel and each pixel's dominant code, over ``x_range`` × ``y_range``.

    ``shape`` is (columns, rows) of the image; rows outside the ranges are not counted. The
    dominant code of a pixel is the most frequent code of its rows (ties: the smaller code); rows
    with ``priority`` set win over any number of the others (a highlighted group is seen through
    the dots around it). Returns ``counts`` (columns × rows, int64) and ``dominant`` (same shape,
    int64, -1 where no row falls).

    Cost: a few passes over the rows and one ``np.bincount`` over (code, occupied pixel) pairs,
    so memory grows with the rows in view, not with the image's area times the codes.
    """
    width, height = int(shape[0]), int(shape[1])
    if width <= 0 or height <= 0:
        raise ValueError(f"shape must be two positive sizes; got {shape!r}")
    x0, x1 = float(x_range[0]), float(x_range[1])
    y0, y1 = float(y_range[0]), float(y_range[1])
    n_pixels = width * height
    dominant = np.full(n_pixels, -1, dtype=np.int64)
    x, y = _floats(x), _floats(y)
    if len(x) == 0 or not x1 > x0 or not y1 > y0:
        return np.zeros((width, height), dtype=np.int64), dominant.reshape(width, height)
    # x, y as given (float32 for the map): a pixel index off by one at a pixel's very edge is
    # invisible, and float32 halves the passes' memory traffic against float64
    fx = (x - x.dtype.type(x0)) * x.dtype.type(width / (x1 - x0))
    fy = (y - y.dtype.type(y0)) * y.dtype.type(height / (y1 - y0))
    inside = (fx >= 0) & (fx < width) & (fy >= 0) & (fy < height)
    pixel = fx.astype(np.intp) * height + fy.astype(np.intp)
    pixel[~inside] = n_pixels  # one bin past the image collects the rows outside
    counts = np.bincount(pixel, minlength=n_pixels + 1)[:n_pixels]
    code = np.asarray(codes, dtype=np.intp)
    present = np.bincount(code[inside]) if inside.any() else np.zeros(1, dtype=np.intp)
    used = np.flatnonzero(present)  # the codes seen in the view, made compact
    if len(used) <= 1 and priority is None:
        if len(used):
            dominant[counts > 0] = used[0]
        return counts.reshape(width, height), dominant.reshape(width, height)
    lookup = np.zeros(max(len(present), int(code.max()) + 1), dtype=np.intp)
    lookup[used] = np.arange(len(used))
    occupied = np.flatnonzero(counts)
    slots = len(occupied) + 1  # the occupied pixels, then the bin of the rows outside
    index = np.full(n_pixels + 1, len(occupied), dtype=np.intp)
    index[occupied] = np.arange(len(occupied))
    keys = lookup[code] * slots + index[pixel]
    if priority is None:
        votes = np.bincount(keys, minlength=len(used) * slots)
    else:
        weight = np.where(np.asarray(priority, dtype=bool), float(len(x) + 1), 1.0)
        votes = np.bincount(keys, weights=weight, minlength=len(used) * slots)
    votes = votes.reshape(len(used), slots)[:, : len(occupied)]
    best, winner = votes[0].copy(), np.zeros(len(occupied), dtype=np.intp)
    for k in range(1, len(used)):  # argmax over the codes; numpy's argmax(axis=0) is slower
        more = votes[k] > best  # strictly: a tie keeps the smaller code
        np.copyto(best, votes[k], where=more)
        winner[more] = k
    dominant[occupied] = used[winner]
    return counts.reshape(width, height), dominant.reshape(width, height)


def _floats(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values)
    return values if values.dtype.kind == "f" else values.astype(np.float64)


def colour_pixels(
    counts: np.ndarray, dominant: np.ndarray, colours: np.ndarray, grow: int = 1
) -> np.ndarray:
    """RGBA image (columns × rows × 4, uint8) of ``counts`` coloured by ``colours[dominant]``.

    ``colours`` is an (n_codes, 4) uint8 table; a colour's own alpha makes it paler (mixed with
    white), as a translucent dot on the white map looks. The pixel's opacity grows from
    :data:`MIN_ALPHA` for one row to 1 for the densest 1 % of the pixels, with the log of the
    count. ``grow`` spreads each lone pixel into the empty pixels around it (``grow`` pixels each
    way) so that a sparse region still shows dots the eye can find.
    """
    width, height = counts.shape
    packed = np.zeros(width * height, dtype=np.uint32)  # RGBA bytes as one little-endian word
    flat = counts.reshape(-1)
    occupied = np.flatnonzero(flat)
    if len(occupied):
        table = np.asarray(colours, dtype=np.float64)
        paleness = table[:, 3:4] / 255.0
        rgb = np.round(table[:, :3] * paleness + 255.0 * (1.0 - paleness)).astype(np.uint32)
        words = rgb[:, 0] | (rgb[:, 1] << 8) | (rgb[:, 2] << 16)
        filled = flat[occupied]
        # the top 1 % saturate, so that a few very dense pixels do not make the rest pale
        top = float(np.log(np.quantile(filled, 0.99)))
        level = np.minimum(np.log(filled) / top, 1.0) if top > 0 else np.zeros(len(filled))
        alpha = np.round(255.0 * (MIN_ALPHA + (1.0 - MIN_ALPHA) * level)).astype(np.uint32)
        packed[occupied] = words[dominant.reshape(-1)[occupied]] | (alpha << 24)
    image = packed.reshape(width, height)
    if grow > 0:
        image = _grow(image, int(grow))
    return _as_bytes(image)


def _as_bytes(packed: np.ndarray) -> np.ndarray:
    """(columns × rows) little-endian RGBA words as a (columns × rows × 4) uint8 array."""
    words = packed.astype("<u4", copy=False)
    return np.ascontiguousarray(words).view(np.uint8).reshape(*packed.shape, 4)


def _grow(packed: np.ndarray, steps: int) -> np.ndarray:
    """Fill each empty pixel with the most opaque pixel within ``steps`` pixels (a square), at
    that pixel's colour: a max filter over the RGBA words, whose top byte is the alpha."""
    out = packed
    for axis in (0, 1):  # separable: along the columns, then along the rows
        spread = out.copy()
        for shift in range(1, steps + 1):
            for sign in (1, -1):
                moved = np.zeros_like(out)
                if axis == 0:
                    if sign > 0:
                        moved[shift:] = out[:-shift]
                    else:
                        moved[:-shift] = out[shift:]
                elif sign > 0:
                    moved[:, shift:] = out[:, :-shift]
                else:
                    moved[:, :-shift] = out[:, shift:]
                np.maximum(spread, moved, out=spread)
        out = spread
    return np.where((packed >> 24) == 0, out, packed)


def density_image(
    x: np.ndarray,
    y: np.ndarray,
    codes: np.ndarray,
    colours: np.ndarray,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    shape: tuple[int, int],
    priority: np.ndarray | None = None,
    grow: int = 1,
) -> np.ndarray:
    """The RGBA density image of the rows at (``x``, ``y``) over the given ranges: see
    :func:`count_pixels` and :func:`colour_pixels`."""
    counts, dominant = count_pixels(x, y, codes, x_range, y_range, shape, priority)
    return colour_pixels(counts, dominant, colours, grow)
