"""Help > Keyboard shortcuts: every shortcut of the window's actions, and the mouse and keys of the image."""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QHeaderView, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

#: What the image view does with the mouse and keys that no menu lists.
IMAGE_CONTROLS = (
    ("Mouse wheel over the image", "Zoom in and out"),
    ("Ctrl or Shift + mouse wheel over the image", "Next / previous plane (Z in XY, Y in XZ, X in YZ)"),
    ("Drag the image", "Pan"),
    ("+ / − (image focused)", "Zoom in / out"),
    ("Arrow keys (image focused)", "Pan"),
    ("Click the image in XZ or YZ", "Move the cursor: the other planes go through that point"),
    ("Drag the yellow line", "Move the split between the original and the result"),
    ("Mouse wheel over a parameter", "Scrolls the panel; click the field first to change it with the wheel"),
)


def shortcut_rows(window: QWidget) -> list[tuple[str, str]]:
    """(keys, what they do) for every action of ``window`` with a shortcut, then :data:`IMAGE_CONTROLS`."""
    rows, seen = [], set()
    for action in window.findChildren(QAction):
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        text = action.text().replace("&", "").rstrip("…").strip()
        if keys and text and (keys, text) not in seen:
            seen.add((keys, text))
            rows.append((keys, text))
    return rows + list(IMAGE_CONTROLS)


def show_shortcuts(window: QWidget) -> QDialog:
    """Open the list of shortcuts (modeless) and return the dialog."""
    dialog = QDialog(window)
    dialog.setWindowTitle("Keyboard shortcuts")
    rows = shortcut_rows(window)
    table = QTableWidget(len(rows), 2)
    table.setHorizontalHeaderLabels(["Keys or mouse", "Does"])
    table.verticalHeader().hide()
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    for row, (keys, text) in enumerate(rows):
        table.setItem(row, 0, QTableWidgetItem(keys))
        table.setItem(row, 1, QTableWidgetItem(text))
    table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dialog.close)
    layout = QVBoxLayout(dialog)
    layout.addWidget(table)
    layout.addWidget(buttons)
    dialog.resize(620, 520)
    dialog.show()
    return dialog
