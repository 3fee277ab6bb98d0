"""The bar chart of *Why this row*: one bar per column's push on a class score, then the bias.

Painted with QPainter (no plotting library): horizontal bars, largest push first as the panel
orders them, positive and negative pushes in two colours, the bias as its own grey bar and the
total score underneath; each bar's tooltip says what it is made of.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QHelpEvent, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

POSITIVE = "#0072B2"  # pushes the score up
NEGATIVE = "#D55E00"  # pushes it down
BIAS = "#8c8c8c"


def signed(value: float) -> str:
    """``+1.23`` / ``-0.45``; a value that rounds to zero is ``+0.00``, never ``-0.00``."""
    return f"{(round(value, 2) or 0.0):+.2f}"


class ContributionChart(QWidget):
    """Horizontal bars, one per column, then the bias, then the total; drawn with QPainter."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.names: list[str] = []
        self.values: list[float] = []
        self.tips: list[str] = []
        self.bias = 0.0
        self.bias_tip = ""
        self.total = 0.0
        self.total_text = "= score"
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMouseTracking(True)
        self._update_height()

    def set_bars(
        self,
        names: list[str],
        values: list[float],
        tips: list[str],
        bias: float,
        bias_tip: str,
        total: float,
        total_text: str,
    ) -> None:
        self.names, self.values, self.tips = list(names), [float(v) for v in values], list(tips)
        self.bias, self.bias_tip, self.total = float(bias), bias_tip, float(total)
        self.total_text = total_text
        self._update_height()
        self.update()

    def clear(self) -> None:
        self.set_bars([], [], [], 0.0, "", 0.0, "")

    # -- geometry ----------------------------------------------------------------------------
    def _row_height(self) -> int:
        return QFontMetrics(self.font()).height() + 5

    def _update_height(self) -> None:
        n = len(self.values)
        height = 0 if n == 0 else (n + 2) * self._row_height() + 14
        self.setFixedHeight(max(height, 10))

    def _bar_y(self, i: int) -> float:
        """Top of bar ``i``: columns, then (after a gap) the bias (i = n), then the total."""
        h = self._row_height()
        return 2 + i * h + (6 if i >= len(self.values) else 0) + (6 if i > len(self.values) else 0)

    def bar_at(self, y: float) -> int | None:
        """Index of the bar at height ``y`` (len(values) = the bias), or None."""
        h = self._row_height()
        for i in range(len(self.values) + 1):
            top = self._bar_y(i)
            if top <= y < top + h:
                return i
        return None

    # -- painting ----------------------------------------------------------------------------
    def paintEvent(self, event: Any) -> None:
        if not self.values:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        fm = QFontMetrics(self.font())
        h = self._row_height()
        width = self.width()
        bold = QFont(self.font())
        bold.setBold(True)
        all_names = [*self.names, "bias"]
        label_w = min(max(fm.horizontalAdvance(n) for n in all_names) + 10, int(width * 0.42))
        value_w = (
            max(fm.horizontalAdvance(signed(v)) for v in [*self.values, self.bias, self.total]) + 12
        )
        x0, x1 = label_w + 4, max(label_w + 40, width - value_w - 4)
        ends = [*self.values, self.bias]
        lo, hi = min(0.0, *ends), max(0.0, *ends)
        span = (hi - lo) or 1.0

        def x_of(v: float) -> float:
            return x0 + (x1 - x0) * (v - lo) / span

        zero = x_of(0.0)
        text_pen = QPen(QColor("#222222"))
        for i, (name, value) in enumerate(
            [*zip(self.names, self.values, strict=True), ("bias", self.bias)]
        ):
            top = self._bar_y(i)
            is_bias = i == len(self.values)
            painter.setPen(text_pen if not is_bias else QPen(QColor("#555555")))
            label = fm.elidedText(name, Qt.TextElideMode.ElideMiddle, label_w - 8)
            painter.drawText(
                QRectF(0, top, label_w - 6, h),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                label,
            )
            colour = BIAS if is_bias else (POSITIVE if value >= 0 else NEGATIVE)
            a, b = sorted((zero, x_of(value)))
            painter.fillRect(QRectF(a, top + 3, max(b - a, 1.0), h - 6), QColor(colour))
            painter.setPen(text_pen)
            painter.drawText(
                QRectF(x1 + 4, top, value_w, h),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                signed(value),
            )
        n = len(self.values)
        painter.setPen(QPen(QColor("#bbbbbb")))
        sep = self._bar_y(n) - 4
        painter.drawLine(QPointF(4, sep), QPointF(width - 4, sep))
        total_top = self._bar_y(n + 1)
        painter.drawLine(QPointF(4, total_top - 4), QPointF(width - 4, total_top - 4))
        painter.setPen(QPen(QColor("#666666")))
        painter.drawLine(QPointF(zero, 0), QPointF(zero, self._bar_y(n) + h))
        painter.setFont(bold)
        painter.setPen(text_pen)
        painter.drawText(
            QRectF(4, total_top, x1 - 4, h),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            self.total_text,
        )
        painter.drawText(
            QRectF(x1 + 4, total_top, value_w, h),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            signed(self.total),
        )
        painter.end()

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            assert isinstance(event, QHelpEvent)
            i = self.bar_at(event.pos().y())
            tips = [*self.tips, self.bias_tip]
            if i is not None and i < len(tips):
                QToolTip.showText(event.globalPos(), tips[i], self)
            else:
                QToolTip.hideText()
            return True
        return super().event(event)
