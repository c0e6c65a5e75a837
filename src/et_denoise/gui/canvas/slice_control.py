"""The slice slider and spin box: Z in the XY view, Y in XZ, X in YZ; hidden when the image is 2-D."""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QSpinBox, QWidget

from et_denoise.gui.model import Document

_TIP = ("Plane shown ({axis}). Mouse wheel over the slider, Page Up / Page Down, "
        "or Ctrl + wheel over the image also move through the planes.")


class SliceControl(QWidget):
    """Chooses the plane shown along the view's axis (shown 1-based, as in IMOD)."""

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setPageStep(5)
        self.spin = QSpinBox()
        self.spin.setKeyboardTracking(False)
        self.total = QLabel()
        self.total.setObjectName("muted")
        self.axis_label = QLabel("Z")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 2, 8, 2)
        layout.addWidget(self.axis_label)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.spin)
        layout.addWidget(self.total)
        self.slider.valueChanged.connect(self._on_control_changed)
        self.spin.valueChanged.connect(self._on_control_changed)
        document.image_opened.connect(self._on_document_image_opened)
        document.slice_changed.connect(lambda _z: self._update())
        document.view.changed.connect(lambda _view: self._update())
        self._on_document_image_opened(document)

    def _on_document_image_opened(self, document: Document) -> None:
        self.setVisible(document.is_volume)
        self._update()

    def _update(self) -> None:
        view = self.document.view
        count = max(view.count, 1)
        axis = view.orientation.axis_name
        self.axis_label.setText(axis)
        for widget in (self.axis_label, self.slider, self.spin):
            widget.setToolTip(_TIP.format(axis=axis))
        for control in (self.slider, self.spin):
            with QSignalBlocker(control):
                control.setRange(1, count)
                control.setValue(view.index + 1)
        self.total.setText(f"/ {count}")

    def _on_control_changed(self, value: int) -> None:
        self.document.view.set_index(value - 1)
