"""View > XY / XZ / YZ: checkable actions that choose the plane the canvas shows."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QActionGroup, QKeySequence

from et_denoise.gui.model import Document
from et_denoise.gui.slice_view import Orientation

_KEYS = {Orientation.XY: "Ctrl+7", Orientation.XZ: "Ctrl+8", Orientation.YZ: "Ctrl+9"}
_TIPS = {
    Orientation.XY: "The XY plane: slice Z of the volume (Page Up / Page Down step through Z)",
    Orientation.XZ: "The XZ plane through the cursor: streaks and missing-wedge elongation along Z show here; "
                    "click the image to move the cursor",
    Orientation.YZ: "The YZ plane through the cursor; click the image to move the cursor",
}


class OrientationActions(QObject):
    """One checkable action per orientation of ``document.view``, enabled for volumes only."""

    def __init__(self, document: Document, parent: QObject) -> None:
        super().__init__(parent)
        self.document = document
        self.group = QActionGroup(self)
        self.actions: dict[Orientation, QAction] = {}
        for orientation in Orientation:
            action = QAction(orientation.label, self)
            action.setCheckable(True)
            action.setShortcut(QKeySequence(_KEYS[orientation]))
            action.setToolTip(_TIPS[orientation])
            action.setStatusTip(_TIPS[orientation])
            action.triggered.connect(lambda _checked=False, o=orientation: document.view.set_orientation(o))
            self.group.addAction(action)
            self.actions[orientation] = action
        document.image_opened.connect(lambda _document: self._update())
        document.view.changed.connect(lambda _view: self._update())
        self._update()

    def list(self) -> list[QAction]:
        """The actions, XY first."""
        return list(self.actions.values())

    def _update(self) -> None:
        for orientation, action in self.actions.items():
            action.setEnabled(self.document.is_volume)
            action.setChecked(orientation is self.document.view.orientation)
