"""Colours shared by the map, the table and the learning curve.

Classes get strong, distinct colours (the labels the expert gives); groups and regions on the map
get softer ones so that labeled rows stand out against them. Class colours are app state only
(the core has no notion of colour); :class:`ClassColors` holds them, editable from the import
dialog. :func:`swatch` draws a colour as a small square icon (class buttons, lists, combo boxes).
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QIcon, QPixmap

# Okabe–Ito plus a few more, readable for most colour-vision deficiencies.
CLASS_COLORS = [
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#D55E00",
    "#56B4E9",
    "#8C6D31",
    "#000000",
    "#F0E442",
    "#7F3C8D",
    "#11A579",
    "#E73F74",
]

# Soft colours for groups/regions (Tableau 20 light and dark interleaved, desaturated a little).
REGION_COLORS = [
    "#aec7e8",
    "#ffbb78",
    "#98df8a",
    "#ff9896",
    "#c5b0d5",
    "#c49c94",
    "#f7b6d2",
    "#dbdb8d",
    "#9edae5",
    "#7fa8d1",
    "#f4a261",
    "#8fbf8f",
    "#e07a7a",
    "#a68fc4",
    "#b5857b",
    "#e89bc4",
    "#bdbd6b",
    "#6fc2cf",
    "#d0d0a0",
    "#a0c0a0",
]

GREY = "#d4d4d4"
QUERY_RING = "#d62728"
SELECTION = "#111111"


def class_color(index: int) -> str:
    """The default colour of class ``index`` (cycled beyond the palette)."""
    return CLASS_COLORS[index % len(CLASS_COLORS)]


def region_color(index: int) -> str:
    """The colour of group or region number ``index`` (cycled beyond the palette)."""
    return REGION_COLORS[index % len(REGION_COLORS)]


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
