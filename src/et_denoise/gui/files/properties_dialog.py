"""Image > Properties: the voxel size, for images whose file does not state it (TIFF slices).

The size is kept with the open image, so the scale bar appears and every
result saved afterwards (TIFF or MRC) carries it.
"""

from __future__ import annotations

from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QLabel,
                               QVBoxLayout, QWidget)

from et_denoise.gui.model import Document

#: Units offered, and Å per unit.
UNITS = {"nm": 10.0, "Å": 1.0}


class PropertiesDialog(QDialog):
    """Edits the open image's voxel size (Z, Y, X) in nm or Å."""

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.setWindowTitle("Image properties")
        shape = " × ".join(str(n) for n in reversed(document.image.data.shape))
        intro = QLabel(f"{document.name} · {shape} · {document.image.data.dtype}\n"
                       "The voxel size gives the scale bar and is written into every result saved.")
        intro.setWordWrap(True)
        self.unit = QComboBox()
        self.unit.addItems(list(UNITS))
        self.sizes = {}
        form = QFormLayout()
        form.addRow("Unit", self.unit)
        for axis in "XYZ":
            spin = QDoubleSpinBox()
            spin.setDecimals(4)
            spin.setRange(0.0, 1e6)
            spin.setSpecialValueText("unknown")
            spin.setToolTip(f"Size of a voxel along {axis} (0: unknown)")
            self.sizes[axis] = spin
            form.addRow(f"Voxel size {axis}", spin)
        self._unit_factor = UNITS["nm"]
        voxel = document.voxel_size
        for axis, index in (("X", 2), ("Y", 1), ("Z", 0)):
            self.sizes[axis].setValue((voxel[index] / self._unit_factor) if voxel else 0.0)
        self.unit.currentTextChanged.connect(self._on_unit_changed)
        self.sizes["X"].valueChanged.connect(self._on_x_changed)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def voxel_size(self) -> tuple[float, float, float] | None:
        """(z, y, x) in Å, or None if X is left unknown (a missing Y or Z is taken equal to X)."""
        x = self.sizes["X"].value() * self._unit_factor
        if x <= 0:
            return None
        y = self.sizes["Y"].value() * self._unit_factor or x
        z = self.sizes["Z"].value() * self._unit_factor or x
        return (z, y, x)

    def accept(self) -> None:  # Qt's name
        self.document.set_voxel_size(self.voxel_size())
        super().accept()

    def _on_unit_changed(self, unit: str) -> None:
        factor = UNITS[unit]
        for spin in self.sizes.values():
            spin.setValue(spin.value() * self._unit_factor / factor)
        self._unit_factor = factor

    def _on_x_changed(self, value: float) -> None:
        """Y and Z follow an X typed first (tomograms have cubic voxels)."""
        for axis in "YZ":
            if self.sizes[axis].value() == 0:
                self.sizes[axis].setValue(value)
