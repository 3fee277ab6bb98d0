"""Label a group of rows at once, after looking at them: the rows, a class, and the button.

The rows chosen in the *Pool* tab are listed with every column of the file (and their label and
the model's prediction, as there), so the user sees what they are about to label; one class for
all of them. Accepting gives ``session.label_rows`` (one event per row, one write, undone in one
step by Ctrl+Z); the window does it through the one guard for answers.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from dami_gui.app.cell_text import counted
from dami_gui.app.palette import ClassColors, swatch
from dami_gui.app.panels.pool_table import PoolModel
from dami_gui.core.session import Session

#: Rows of the group at most (one write of that many events takes a moment; more, in steps).
MAX_GROUP = 5000


class LabelGroupDialog(QDialog):
    """The rows to label together, the class to give them, Label / Cancel."""

    def __init__(
        self,
        session: Session,
        rows: np.ndarray,
        colors: ClassColors,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.rows = np.asarray(rows, dtype=np.int64)[:MAX_GROUP]
        self.setWindowTitle("Label rows together")
        self.resize(760, 480)
        more = len(rows) - len(self.rows)
        self.intro = QLabel(
            f"Look at these {counted(len(self.rows), 'row')}, then give them all one class. "
            "Ctrl+Z takes the whole group back in one step."
            + (f" ({more:,} more selected: label them in another step.)" if more > 0 else "")
        )
        self.intro.setWordWrap(True)
        self.model = PoolModel(self)
        self.model.set_session(session)
        self.model.set_rows(self.rows)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(20)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.resizeColumnsToContents()
        self.classes = QComboBox()
        for code, name in enumerate(session.classes):
            self.classes.addItem(swatch(colors[code]), name, code)
        self.classes.currentIndexChanged.connect(self._class_changed)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        choose = QHBoxLayout()
        choose.addWidget(QLabel("Class for all of them:"))
        choose.addWidget(self.classes, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.table, 1)
        layout.addLayout(choose)
        layout.addWidget(self.buttons)
        self._class_changed()

    def choose(self, code: int) -> None:
        """Pick class ``code`` (as the user would in the box)."""
        self.classes.setCurrentIndex(self.classes.findData(int(code)))

    @property
    def code(self) -> int:
        return int(self.classes.currentData())

    def _class_changed(self, *_: object) -> None:
        name = self.session.classes[self.code] if self.classes.count() else ""
        self.ok_button.setText(f"Label {counted(len(self.rows), 'row')} '{name}'")
