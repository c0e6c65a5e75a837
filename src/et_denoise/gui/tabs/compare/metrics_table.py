"""The metrics of the compared images in a sortable table (one row per image)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from et_denoise.engine.compare.comparison import MetricsTable, format_value

#: The table asks for room to show this many rows without scrolling.
MAX_ROWS_SHOWN = 6


class _ValueItem(QTableWidgetItem):
    """A cell that shows a rounded number but sorts by the exact value (empty cells last)."""

    def __init__(self, value: float | None, digits: int) -> None:
        super().__init__(format_value(value, digits))
        self.value = value
        self.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if value is not None:
            self.setToolTip(repr(float(value)))

    def __lt__(self, other: QTableWidgetItem) -> bool:  # Qt's sorting
        mine, theirs = self.value, getattr(other, "value", None)
        if mine is None or theirs is None:
            return theirs is None and mine is not None
        return mine < theirs


class MetricsTableView(QTableWidget):
    """Shows a :class:`~engine.comparison.MetricsTable`; click a header to sort by it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table: MetricsTable | None = None
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setAlternatingRowColors(False)
        self.verticalHeader().hide()
        self.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # the original first until sorted
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeader().setStretchLastSection(False)
        self.setMinimumHeight(90)

    def headers(self) -> list[str]:
        """The column headers shown."""
        return [self.horizontalHeaderItem(column).text() for column in range(self.columnCount())]

    def value(self, name: str, header: str) -> float | None:
        """The value shown for image ``name`` in the column headed ``header``."""
        column = self.headers().index(header)
        for row in range(self.rowCount()):
            if self.item(row, 0).text() == name:
                return self.item(row, column).value
        raise KeyError(name)

    def set_table(self, table: MetricsTable, colours: dict[str, str]) -> None:
        """Show ``table``, each image's name in its tile colour."""
        self.table = table
        sorting = self.horizontalHeader().sortIndicatorSection(), self.horizontalHeader().sortIndicatorOrder()
        self.setSortingEnabled(False)
        columns = table.columns
        self.clear()
        self.setColumnCount(len(columns) + 1)
        self.setRowCount(len(table.rows))
        self.setHorizontalHeaderItem(0, QTableWidgetItem("Image"))
        for index, column in enumerate(columns, start=1):
            header = QTableWidgetItem(column.header)
            header.setToolTip(column.description)
            self.setHorizontalHeaderItem(index, header)
        for row_index, row in enumerate(table.rows):
            name = QTableWidgetItem(row.name)
            name.setForeground(QColor(colours.get(row.name, "#dde1e7")))
            name.setToolTip(f"Measured on {table.scope}")
            self.setItem(row_index, 0, name)
            for index, column in enumerate(columns, start=1):
                self.setItem(row_index, index, _ValueItem(row.value(column.key), column.digits))
        self.setSortingEnabled(True)
        if sorting[0] >= 0 and sorting[0] < self.columnCount():
            self.sortByColumn(*sorting)
        self.resizeRowsToContents()
        rows = sum(self.rowHeight(row) for row in range(min(self.rowCount(), MAX_ROWS_SHOWN)))
        self.setMinimumHeight(rows + self.horizontalHeader().height() + self.horizontalScrollBar().sizeHint().height()
                              + 2 * self.frameWidth())
