"""Open CSV: preview the file, check each column's role, and name and colour the classes.

The dialog starts from what the core inferred (``infer_roles``) and shows its reason for every
column. Changing a role re-runs the inference with the user's choices fixed, so the reasons stay
true. Classes come from the label column when there is one; the user can rename them, give them
colours, and add classes that no row has yet (needed when no row is labeled). Building the data
set happens afterwards, in the worker (:func:`build_from_choices`).

A label column that is already filled (every row, often, when an expert tries the app on data
they know) is said at once, and offered as *known answers*: the labels are hidden while the user
labels, each is shown once the user has answered its row, and the learning curve shows the
accuracy against them (as the demo does with its own answers). Checked by default when every row
has a label; otherwise the filled cells are labels given before.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QColorDialog,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dami_gui.app.cell_text import cell_text
from dami_gui.app.palette import class_color, swatch
from dami_gui.core.data.cells import text_values
from dami_gui.core.data.dataset import Dataset, build_dataset
from dami_gui.core.data.roles import ROLES, ColumnDecision, RoleReport, infer_roles, label_values
from dami_gui.core.errors import DataError

Index = QModelIndex | QPersistentModelIndex
PREVIEW_ROWS = 100
ROLE_TEXT = {
    "feature": "feature (used to learn)",
    "id": "id (names the rows)",
    "label": "label (the classes)",
    "ignore": "ignore",
}


@dataclass
class ImportChoices:
    """What the user chose: the roles, and per class its name in the file, its name and colour."""

    report: RoleReport
    file_names: list[str]  # name in the label column (or the new name for an added class)
    names: list[str]
    colors: list[str]
    source: Path | None
    #: The label column's cells are known answers (hidden while labeling), not labels given.
    known_answers: bool = False


def hide_known_answers(dataset: Dataset) -> np.ndarray:
    """The file's labels of ``dataset`` as known answers: returned, and hidden from training
    (``dataset.y`` all -1), as the demo hides its own."""
    truth = np.asarray(dataset.y, dtype=np.int64).copy()
    dataset.y = np.full_like(truth, -1)
    return truth


def build_from_choices(frame: pd.DataFrame, choices: ImportChoices) -> Dataset:
    """Build the data set (slow part: runs in the worker), then apply the renamed classes."""
    dataset = build_dataset(
        frame, choices.report, classes=choices.file_names, source=choices.source
    )
    dataset.classes = list(choices.names)
    return dataset


class FrameModel(QAbstractTableModel):
    """The first rows of a table, read-only."""

    def __init__(self, frame: pd.DataFrame, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.frame = frame

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.frame)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.frame.columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return str(self.frame.columns[section])
        return str(section + 1)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and index.isValid():
            return cell_text(self.frame.iat[index.row(), index.column()])
        return None


class ImportDialog(QDialog):
    """Preview, column roles with reasons, and classes; ``choices()`` after ``accept``."""

    def __init__(
        self, frame: pd.DataFrame, source: str | Path | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.frame = frame
        self.source = Path(source) if source is not None else None
        self.setWindowTitle(f"Open {self.source.name}" if self.source else "Open data")
        self.resize(1040, 720)
        self.explicit: dict[str, str] = {}
        self.report = self._initial_report()
        self._class_origin: list[str | None] = []
        self._filling = False

        name = self.source.name if self.source else "the table"
        self.header = QLabel(
            f"<b>{name}</b>: {len(frame):,} rows, {len(frame.columns)} columns. "
            "Check what each column is used for, then name the classes."
        )
        self.header.setWordWrap(True)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.error = QLabel("")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020;")

        self.preview = QTableView()
        self.preview.setModel(FrameModel(frame.head(PREVIEW_ROWS), self))
        self.preview.verticalHeader().setDefaultSectionSize(20)
        self.preview.resizeColumnsToContents()
        for position in range(len(frame.columns)):
            self.preview.setColumnWidth(position, min(self.preview.columnWidth(position), 180))
        self.preview.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        preview_box = QGroupBox(f"First {min(PREVIEW_ROWS, len(frame))} rows")
        QVBoxLayout(preview_box).addWidget(self.preview)

        self.roles = QTableWidget(len(frame.columns), 4)
        self.roles.setHorizontalHeaderLabels(["Column", "Used as", "Contents", "Why"])
        self.roles.verticalHeader().setVisible(False)
        self.roles.verticalHeader().setDefaultSectionSize(26)
        self.roles.verticalHeader().setMinimumSectionSize(26)
        header = self.roles.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.roles.setWordWrap(True)
        self.roles.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.role_boxes: list[QComboBox] = []
        #: Per column, the cells "Contents" and "Why" that _show_report fills.
        self._reason_items: list[tuple[QTableWidgetItem, QTableWidgetItem]] = []
        for i, column in enumerate(frame.columns):
            item = QTableWidgetItem(str(column))
            self.roles.setItem(i, 0, item)
            box = QComboBox()
            for role in ROLES:
                box.addItem(ROLE_TEXT[role], role)
            box.currentIndexChanged.connect(
                lambda _i, c=str(column), b=box: self._role_changed(c, b)
            )
            self.roles.setCellWidget(i, 1, box)
            self.role_boxes.append(box)
            kind_item, why_item = QTableWidgetItem(""), QTableWidgetItem("")
            self.roles.setItem(i, 2, kind_item)
            self.roles.setItem(i, 3, why_item)
            self._reason_items.append((kind_item, why_item))
        roles_box = QGroupBox("Columns (pre-filled from what the file looks like; change any role)")
        roles_layout = QVBoxLayout(roles_box)
        roles_layout.addWidget(self.summary)
        roles_layout.addWidget(self.roles)

        self.classes = QListWidget()
        self.classes.itemChanged.connect(self._validate)
        self.classes.setMinimumWidth(220)
        self.class_note = QLabel("")
        self.class_note.setWordWrap(True)
        self.filled_note = QLabel("")
        self.filled_note.setObjectName("filledNote")
        self.filled_note.setWordWrap(True)
        self.filled_note.setStyleSheet(
            "QLabel { background: #fff4ce; border: 1px solid #e3c66b; padding: 4px; }"
        )
        self.known_answers = QCheckBox("Use them as known answers (hidden while I label)")
        self.known_answers.setToolTip(
            "The labels of the file stay hidden: you label the rows the model asks for, each "
            "known answer shows once you have answered its row, and the learning curve shows the "
            "accuracy against them. Off: the filled cells count as labels already given."
        )
        add = QPushButton("Add class")
        add.clicked.connect(self.add_class)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove_class)
        colour = QPushButton("Colour…")
        colour.clicked.connect(self.choose_color)
        rename_hint = QLabel("Double-click a name to rename it.")
        rename_hint.setStyleSheet("color: #555555;")
        class_buttons = QHBoxLayout()
        for button in (add, self.remove_button, colour):
            class_buttons.addWidget(button)
        classes_box = QGroupBox("Classes")
        classes_layout = QVBoxLayout(classes_box)
        classes_layout.addWidget(self.class_note)
        classes_layout.addWidget(self.classes, 1)
        classes_layout.addLayout(class_buttons)
        classes_layout.addWidget(rename_hint)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Open")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        lower = QSplitter(Qt.Orientation.Horizontal)
        lower.addWidget(roles_box)
        lower.addWidget(classes_box)
        lower.setStretchFactor(0, 3)
        lower.setStretchFactor(1, 1)
        outer = QSplitter(Qt.Orientation.Vertical)
        outer.addWidget(preview_box)
        outer.addWidget(lower)
        outer.setStretchFactor(0, 2)
        outer.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        filled = QHBoxLayout()
        filled.addWidget(self.filled_note, 1)
        filled.addWidget(self.known_answers)
        layout.addLayout(filled)
        layout.addWidget(outer, 1)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

        self._show_report()
        self._fill_classes()

    # -- roles -------------------------------------------------------------------------------
    def _initial_report(self) -> RoleReport:
        try:
            return infer_roles(self.frame)
        except DataError as error:
            self._initial_error = str(error)
            return RoleReport(
                [ColumnDecision(str(c), "ignore", "", "") for c in self.frame.columns]
            )

    def set_role(self, column: str, role: str) -> None:
        """Set ``column``'s role as if the user picked it (used by tests and the combo boxes)."""
        index = [str(c) for c in self.frame.columns].index(column)
        box = self.role_boxes[index]
        box.setCurrentIndex(box.findData(role))

    def _role_changed(self, column: str, box: QComboBox) -> None:
        if self._filling:
            return
        role = box.currentData()
        if role in ("label", "id"):  # only one of each: the user's new choice wins
            self.explicit = {c: r for c, r in self.explicit.items() if r != role}
        self.explicit[column] = role
        old_label = self.report.column("label")
        try:
            self.report = infer_roles(self.frame, roles=self.explicit)
            self.error.setText("")
        except DataError as error:
            self.error.setText(str(error))
            self.ok_button.setEnabled(False)
            return
        self._show_report()
        if self.report.column("label") != old_label:
            self._fill_classes()
        self._validate()

    def _show_report(self) -> None:
        self._filling = True
        try:
            for i, decision in enumerate(self.report.decisions):
                box = self.role_boxes[i]
                box.setCurrentIndex(box.findData(decision.role))
                kind_item, why_item = self._reason_items[i]
                kind_item.setText(decision.kind)
                why_item.setText(decision.reason)
                why_item.setToolTip(decision.reason)
        finally:
            self._filling = False
        self.roles.resizeRowsToContents()
        first_line = self.report.describe().splitlines()[0] if self.report.decisions else ""
        self.summary.setText(first_line)
        initial_error = getattr(self, "_initial_error", None)
        if initial_error and not self.explicit:
            self.error.setText(initial_error)

    # -- classes -----------------------------------------------------------------------------
    def _show_filled(self, label: str | None) -> None:
        """Say how full the label column is; offer its labels as known answers."""
        filled = int(text_values(self.frame[label]).notna().sum()) if label else 0
        total = len(self.frame)
        self.filled_note.setVisible(filled > 0)
        self.known_answers.setVisible(filled > 0)
        self.known_answers.setChecked(filled > 0 and filled == total)
        if filled == 0:
            return
        if filled == total:
            self.filled_note.setText(
                f"<b>Every row already has a label</b> in '{label}' ({total:,} rows), so there "
                "would be nothing to label. Use them as known answers to try the app on data you "
                "know: they stay hidden while you label, each shows once you have answered its "
                "row, and the learning curve shows the accuracy against them."
            )
        else:
            self.filled_note.setText(
                f"<b>{filled:,} of {total:,} rows</b> already have a label in '{label}': they "
                "count as labels given before. If they are answers you know, use them as known "
                "answers instead (hidden while you label)."
            )

    def _fill_classes(self) -> None:
        label = self.report.column("label")
        self._show_filled(label)
        names = label_values(self.frame, label) if label else []
        self.classes.blockSignals(True)
        self.classes.clear()
        self._class_origin = []
        for name in names:
            self._append_class(name, name)
        self.classes.blockSignals(False)
        if label and names and self.known_answers.isChecked():
            self.class_note.setText(f"Found in column '{label}', in every row.")
        elif label and names:
            self.class_note.setText(
                f"Found in column '{label}'. Rows with an empty '{label}' cell start unlabeled."
            )
        elif label:
            self.class_note.setText(f"Column '{label}' is empty: add the classes you will use.")
        else:
            self.class_note.setText(
                "No label column: every row starts unlabeled. Add the classes you will use."
            )
        self._validate()

    def _append_class(
        self, origin: str | None, name: str, color: str | None = None
    ) -> QListWidgetItem:
        index = self.classes.count()
        color = color or class_color(index)
        item = QListWidgetItem(swatch(color, 14), name)
        item.setData(Qt.ItemDataRole.UserRole, color)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
        if origin is not None:
            item.setToolTip(f"Written '{origin}' in the file")
        self.classes.addItem(item)
        self._class_origin.append(origin)
        return item

    def add_class(self, name: str | None = None) -> None:
        """Add a class no row has yet; ``name`` defaults to "class N" (then edited in place)."""
        existing = {self.classes.item(i).text() for i in range(self.classes.count())}
        if not name:
            k = self.classes.count() + 1
            while f"class {k}" in existing:
                k += 1
            name = f"class {k}"
        item = self._append_class(None, name)
        self.classes.setCurrentItem(item)
        self._validate()

    def remove_class(self) -> None:
        row = self.classes.currentRow()
        if row < 0:
            return
        if self._class_origin[row] is not None:
            self.error.setText(
                "This class appears in the label column, so it cannot be removed; "
                "rename it instead."
            )
            return
        self.classes.takeItem(row)
        del self._class_origin[row]
        self._validate()

    def choose_color(self) -> None:
        item = self.classes.currentItem()
        if item is None:
            return
        color = QColorDialog.getColor(
            QColor(item.data(Qt.ItemDataRole.UserRole)), self, "Class colour"
        )
        if color.isValid():
            self.set_class_color(self.classes.row(item), color.name())

    def set_class_color(self, row: int, color: str) -> None:
        item = self.classes.item(row)
        item.setData(Qt.ItemDataRole.UserRole, QColor(color).name())
        item.setIcon(swatch(color, 14))

    def rename_class(self, row: int, name: str) -> None:
        self.classes.item(row).setText(name)

    # -- result ------------------------------------------------------------------------------
    def _validate(self, *_args: object) -> bool:
        names = [self.classes.item(i).text().strip() for i in range(self.classes.count())]
        problem = ""
        if not any(d.role == "feature" for d in self.report.decisions):
            problem = "Choose at least one column as a feature."
        elif len(names) < 2:
            problem = "Add at least two classes: the model needs two or more to tell apart."
        elif any(not n for n in names):
            problem = "Every class needs a name."
        elif len(set(names)) != len(names):
            problem = "Two classes have the same name; give each class its own name."
        if (
            problem
            or not self.error.text()
            or self.error.text().startswith(
                ("Choose at least", "Add at least", "Every class", "Two classes", "This class")
            )
        ):
            self.error.setText(problem)
        self.ok_button.setEnabled(not problem)
        return not problem

    def choices(self) -> ImportChoices:
        names = [self.classes.item(i).text().strip() for i in range(self.classes.count())]
        file_names = [
            o if o is not None else n for o, n in zip(self._class_origin, names, strict=True)
        ]
        colors = [
            self.classes.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.classes.count())
        ]
        known = not self.known_answers.isHidden()  # offered: the label column has labels
        return ImportChoices(
            self.report,
            file_names,
            names,
            colors,
            self.source,
            known_answers=known and self.known_answers.isChecked(),
        )

    def accept(self) -> None:
        if self._validate():
            super().accept()
