"""A vertical scroll area as wide as its content needs and as short as the window allows."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QFrame, QScrollArea, QWidget

#: The least height of a scrolled page: below that it scrolls.
MIN_SCROLL_HEIGHT = 120


class VerticalScroll(QScrollArea):
    """Shows ``content`` full width, scrolling vertically when the window is too short for it.

    A panel taller than a laptop screen (a filter's parameters, StructN2V's)
    scrolls instead of forcing the window taller than the screen; its width
    stays the content's (no horizontal scroll bar).
    """

    def __init__(self, content: QWidget, min_height: int = MIN_SCROLL_HEIGHT) -> None:
        super().__init__()
        self.content = content
        self._min_height = min_height
        self.setWidget(content)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def sizeHint(self) -> QSize:  # Qt's name
        """As wide as the content, as short as the minimum: the layout's stretch gives it the height.

        A preferred height of the whole content would become the minimum of a
        height-for-width parent (one with wrapped labels) inside another scroll area.
        """
        return QSize(self.content.sizeHint().width() + self._bar_width(), self.minimumSizeHint().height())

    def minimumSizeHint(self) -> QSize:  # Qt's name
        width = self.content.minimumSizeHint().expandedTo(self.content.minimumSize()).width()
        return QSize(width + self._bar_width(), min(self._min_height, self.content.minimumSizeHint().height()))

    def _bar_width(self) -> int:
        return self.verticalScrollBar().sizeHint().width()
