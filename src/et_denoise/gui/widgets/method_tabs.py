"""Tabs whose titles wrap onto more rows instead of scrolling out of sight.

The methods panel holds six tabs (three filters, StructN2V, noise analysis,
compare) in a dock about 400 pixels wide: a QTabBar would hide half of them
behind scroll arrows.  Here the titles are checkable buttons in a flow layout
above a stacked widget; the API follows QTabWidget's (``addTab``,
``currentIndex``, ``currentChanged``…).
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Signal
from PySide6.QtWidgets import QButtonGroup, QFrame, QSizePolicy, QStackedWidget, QToolButton, QVBoxLayout, QWidget
from superqt import QFlowLayout

from et_denoise.gui.widgets.vertical_scroll import VerticalScroll

#: Pixels between two tab titles, across and down.
TITLE_SPACING = 2


class _CurrentPageStack(QStackedWidget):
    """A stacked widget sized for the page shown only: a wide page (Compare)
    widens the panel while it is shown, not while a narrow one is."""

    def __init__(self) -> None:
        super().__init__()
        self.currentChanged.connect(self.updateGeometry)

    def sizeHint(self) -> QSize:  # Qt's name
        page = self.currentWidget()
        return page.sizeHint() if page is not None else super().sizeHint()

    def minimumSizeHint(self) -> QSize:  # Qt's name
        page = self.currentWidget()
        if page is None:
            return super().minimumSizeHint()
        return page.minimumSizeHint().expandedTo(page.minimumSize())


class MethodTabs(QWidget):
    """A tab widget whose tab titles wrap.

    Signals
    -------
    currentChanged(index)
    """

    currentChanged = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._bar = QWidget()
        self._bar.setObjectName("methodTabBar")
        self._bar.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self._flow = QFlowLayout(self._bar)
        self._flow.setContentsMargins(0, 0, 0, 0)
        self._flow.setHorizontalSpacing(TITLE_SPACING)
        self._flow.setVerticalSpacing(TITLE_SPACING)
        self._buttons = QButtonGroup(self)
        self._buttons.setExclusive(True)
        self._buttons.idClicked.connect(self.setCurrentIndex)
        self._stack = _CurrentPageStack()
        self._stack.currentChanged.connect(self.currentChanged)
        rule = QFrame()
        rule.setFrameShape(QFrame.Shape.HLine)
        rule.setObjectName("methodTabRule")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self._bar)
        layout.addWidget(rule)
        layout.addWidget(self._stack, 1)

    def addTab(self, widget: QWidget, title: str) -> int:  # QTabWidget's name
        """Add a page (shown in a vertical scroll area); returns its index."""
        index = self._stack.addWidget(VerticalScroll(widget))
        button = QToolButton()
        button.setObjectName("methodTab")
        button.setText(title)
        button.setCheckable(True)
        button.setAutoRaise(True)
        self._buttons.addButton(button, index)
        self._flow.addWidget(button)
        if index == 0:
            button.setChecked(True)
        return index

    def setTabToolTip(self, index: int, tip: str) -> None:  # QTabWidget's name
        """Tooltip of the title at ``index``."""
        self._buttons.button(index).setToolTip(tip)

    def tabText(self, index: int) -> str:  # QTabWidget's name
        """Title at ``index``."""
        return self._buttons.button(index).text()

    def count(self) -> int:  # Qt's name
        """Number of pages."""
        return self._stack.count()

    def widget(self, index: int) -> QWidget | None:  # QTabWidget's name
        """The page at ``index``."""
        scroll = self._stack.widget(index)
        return scroll.content if scroll is not None else None

    def currentIndex(self) -> int:  # Qt's name
        """Index of the page shown."""
        return self._stack.currentIndex()

    def currentWidget(self) -> QWidget | None:  # Qt's name
        """The page shown."""
        return self.widget(self.currentIndex())

    def setCurrentIndex(self, index: int) -> None:  # Qt's name
        """Show the page at ``index``."""
        self._buttons.button(index).setChecked(True)
        self._stack.setCurrentIndex(index)
