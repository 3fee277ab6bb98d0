"""Colours shared by the map, the table and the learning curve.

Classes get strong, distinct colours (the labels the expert gives); groups and regions on the map
get shades of a family's hue (:func:`shades`, lighter or less saturated) so that labeled rows
stand out against them. Class colours are app state only
(the core has no notion of colour); :class:`ClassColors` holds them, editable from the import
dialog. :func:`swatch` draws a colour as a small square icon (class buttons, lists, combo boxes).
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap

# Okabe–Ito plus a few more, readable for most colour-vision deficiencies. No black and no grey:
# a class's groups on the map are shades of its colour, and shades of black are the greys of
# the rows not coloured (Okabe–Ito's black is Paul Tol's wine here).
CLASS_COLORS = [
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#D55E00",
    "#56B4E9",
    "#8C6D31",
    "#882255",
    "#F0E442",
    "#7F3C8D",
    "#11A579",
    "#E73F74",
]

GREY = "#d4d4d4"
#: The hue of the family of rows the model gives no prediction for (rare: a round without them).
NO_PREDICTION = "#6f7f8f"
QUERY_RING = "#d62728"
SELECTION = "#111111"


def family_swatch(colors: list[str], width: int = 24, height: int = 12) -> QIcon:
    """A small icon of side-by-side stripes of ``colors`` (a family's shades, a few of them)."""
    pixmap = QPixmap(width, height)
    pixmap.fill(QColor(GREY))
    if colors:
        painter = QPainter(pixmap)
        step = width / len(colors)
        for i, color in enumerate(colors):
            painter.fillRect(
                int(i * step), 0, int((i + 1) * step) - int(i * step), height, QColor(color)
            )
        painter.end()
    return QIcon(pixmap)


def class_color(index: int) -> str:
    """The default colour of class ``index`` (cycled beyond the palette)."""
    return CLASS_COLORS[index % len(CLASS_COLORS)]


def without_hue(color: str) -> bool:
    """Whether ``color`` has (almost) no hue: black, white, a grey. Its shades would be greys,
    which on the map read as rows not coloured."""
    c = QColor(color)
    return c.hslHueF() < 0 or c.hslSaturationF() < 0.15


def shades(color: str, n: int) -> list[str]:
    """``n`` distinct shades of ``color``'s hue, light to dark (a family's groups on the map).

    Lightness steps around the colour's own (so two classes of one hue, a light and a dark
    blue, stay apart), saturation a little below it so that labeled rows (full class colour,
    dark outline) stand out. A colour without hue (black, grey) gives greys that stay darker
    than :data:`GREY`, the colour of rows not coloured.
    """
    if n <= 0:
        return []
    base = QColor(color)
    hue, saturation, own = base.hslHueF(), base.hslSaturationF(), base.lightnessF()
    grey = saturation < 0.08 or hue < 0  # black, white or grey: steps of grey
    centre = min(max(own, 0.3), 0.6) if grey else min(max(own, 0.36), 0.66)
    spread = min(0.16, 0.03 * (n - 1))  # a few groups: close shades; many: the full range
    # not darker than 0.3: a dark shade of brown or blue reads as black, the labeled squares'
    # outline and "not sure" crosses
    high, low = min(centre + spread, 0.8), max(centre - spread, 0.3)
    light = [high - (high - low) * i / (n - 1) for i in range(n)] if n > 1 else [centre]
    if grey:
        return [QColor.fromHslF(0.0, 0.0, value).name() for value in light]
    sat = min(1.0, max(0.45, saturation * 0.9))
    return [QColor.fromHslF(hue, sat, value).name() for value in light]


def swatch(color: str, size: int = 12) -> QIcon:
    """A small square icon of ``color``."""
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(color))
    return QIcon(pixmap)


class ClassColors:
    """The colour of each class, by class index; defaults from :data:`CLASS_COLORS`."""

    def __init__(self, colors: list[str] | None = None) -> None:
        self._colors: list[str] = list(colors or [])

    def __getitem__(self, index: int) -> str:
        if 0 <= index < len(self._colors) and self._colors[index]:
            return self._colors[index]
        return class_color(index)

    def set(self, index: int, color: str) -> None:
        while len(self._colors) <= index:
            self._colors.append(class_color(len(self._colors)))
        self._colors[index] = QColor(color).name()

    def as_list(self, n: int) -> list[str]:
        return [self[i] for i in range(n)]
