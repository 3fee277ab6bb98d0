"""Draw the app icon (resources/icon.png, 512 px) with Qt: a map of coloured regions and one
highlighted, numbered query. Run once when the design changes: ``python packaging/make_icon.py``.
"""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QGuiApplication,
    QImage,
    QPainter,
    QPen,
)

SIZE = 512
COLOURS = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948"]


def draw(path: Path) -> None:
    image = QImage(SIZE, SIZE, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setBrush(QColor("#1f2a36"))
    p.setPen(Qt.PenStyle.NoPen)
    p.drawRoundedRect(QRectF(16, 16, SIZE - 32, SIZE - 32), 96, 96)
    # Clusters of dots, one colour per region.
    centres = [(150, 170), (340, 140), (370, 330), (170, 360), (260, 250)]
    rnd = random.Random(3)
    for i, (cx, cy) in enumerate(centres):
        p.setBrush(QColor(COLOURS[i % len(COLOURS)]))
        for _ in range(14):
            x, y = cx + rnd.gauss(0, 34), cy + rnd.gauss(0, 34)
            p.drawEllipse(QPointF(x, y), 11, 11)
    # The query: a white ring with its number.
    p.setBrush(QBrush(QColor("#ffffff")))
    p.setPen(QPen(QColor("#e15759"), 14))
    p.drawEllipse(QPointF(300, 300), 62, 62)
    p.setPen(QColor("#1f2a36"))
    font = QFont("DejaVu Sans", 64)
    font.setBold(True)
    p.setFont(font)
    p.drawText(QRectF(238, 238, 124, 124), Qt.AlignmentFlag.AlignCenter, "1")
    p.end()
    image.save(str(path))


if __name__ == "__main__":
    app = QGuiApplication(sys.argv)
    out = Path(__file__).resolve().parents[1] / "resources" / "icon.png"
    draw(out)
    print(f"wrote {out}")
