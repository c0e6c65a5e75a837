"""The Z slider and spin box; hidden when the open image is 2-D."""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QSpinBox, QWidget

from et_denoise.gui.model import Document


class SliceControl(QWidget):
    """Chooses the document's current slice (shown 1-based, as in IMOD)."""

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        tip = ("Slice shown (Z). Mouse wheel over the slider, Page Up / Page Down, "
               "or Ctrl + wheel over the image also move through the slices.")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setToolTip(tip)
        self.slider.setPageStep(5)
        self.spin = QSpinBox()
        self.spin.setToolTip(tip)
        self.spin.setKeyboardTracking(False)
        self.total = QLabel()
        self.total.setObjectName("muted")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 2, 8, 2)
        label = QLabel("Z")
        label.setToolTip(tip)
        layout.addWidget(label)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.spin)
        layout.addWidget(self.total)
        self.slider.valueChanged.connect(self._on_control_changed)
        self.spin.valueChanged.connect(self._on_control_changed)
        document.image_opened.connect(self._on_document_image_opened)
        document.slice_changed.connect(self._on_document_slice_changed)
        self._on_document_image_opened(document)

    def _on_document_image_opened(self, document: Document) -> None:
        count = document.n_slices
        self.setVisible(document.is_volume)
        for control in (self.slider, self.spin):
            with QSignalBlocker(control):
                control.setRange(1, max(count, 1))
        self.total.setText(f"/ {count}")
        self._on_document_slice_changed(document.z)

    def _on_document_slice_changed(self, z: int) -> None:
        for control in (self.slider, self.spin):
            with QSignalBlocker(control):
                control.setValue(z + 1)

    def _on_control_changed(self, value: int) -> None:
        self.document.set_z(value - 1)
