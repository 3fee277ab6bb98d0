"""The progress dialog of *Save as project…*: what is being written, how far, and Cancel."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


class SavingDialog(QDialog):
    """Progress of *Save as project…*, window-modal so no answer is given while it is written.

    Unlike ``QProgressDialog`` it never runs the event loop from ``setValue``, so the worker's
    signals cannot be handled in the middle of a progress update. ``canceled`` on Cancel or Esc.
    """

    canceled = Signal()

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Save as project")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setMinimumWidth(380)
        self.label = QLabel(text)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.canceled)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addLayout(buttons)

    def set_text(self, text: str) -> None:
        self.label.setText(text)

    def set_fraction(self, fraction: float) -> None:
        self.bar.setValue(int(max(0.0, min(1.0, fraction)) * 1000))

    def reject(self) -> None:
        """Esc or the window's close button: ask to cancel; the controller closes the dialog."""
        self.canceled.emit()
